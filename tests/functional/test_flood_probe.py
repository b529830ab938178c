"""The accused cannot count a report about him through the flood marks (cases/reports/flood.py).

The attack: the sales director, an investigator on the channel's team, suspects a report about
him. Reports are marked "arrived during a flood" once a channel's count for the hour passes a
threshold, and the count holds every report, the hidden one too. He knows the threshold (it is
a setting). Anonymously, over the reporter API, he files exactly that many junk reports in an
hour; after the hour, his own list shows whether the last of them was marked. Marked means
somebody else filed in that hour, though no new case of that day is on his list: a report about
him exists, and he has its hour to hold against his reps' calendars.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from support.arrivals import list_arrivals
from support.staff_http import app_world, bearer

from cases.clock import FixedClock
from cases.org.models import Category, Channel
from cases.reports.flood import FloodConfig, threshold

PER_HOUR = 3
FILED_AT = datetime(2026, 3, 2, 9, 5)
PROBED_AT = datetime(2026, 3, 2, 9, 30)
# Channels with fixed ids: the secret threshold of an hour is then the same on every run.
SALES = "5a1e5" + "0" * 27
CONTROL = "c0417" + "0" * 27


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Session]) -> dict[str, Any]:
    """A flood threshold of 3 an hour; the Sales channel (the report about the director goes
    there) and a Control channel nobody else files to; both teams: every investigator, the
    director and Ana."""
    limits = replace(app.state.settings.limits, reports_per_channel_per_hour=PER_HOUR)
    app.state.settings = replace(app.state.settings, limits=limits)
    with app_world(app, app_db) as made:
        made.clock.current = FILED_AT  # type: ignore[attr-defined]
        director = made.staff("director@example.com", "investigator", name="Zhang Wei")
        made.staff("ana@example.com", "investigator", name="Ana")
        ids = {}
        for channel_id, slug in ((SALES, "sales"), (CONTROL, "control")):
            channel = Channel(id=channel_id, slug=slug, name_en=slug, name_zh=slug)
            category = Category(channel=channel, slug="fraud", name_en="Fraud", name_zh="舞弊")
            made.db.add_all([channel, category])
            made.db.flush()
            ids[slug] = {"channel": channel.id, "category": category.id}
    return {"clock": made.clock, "director": director, "ids": ids, "db": app_db}


def file(client: Any, ids: dict[str, str], summary: str, subjects: list[Any]) -> None:
    body = {
        **ids,
        "summary": summary,
        "details": "Orders of a key account went to a rival.",
        "subjects": subjects,
        "exclude": [],
        "identity": None,
    }
    answer = client.post("/api/v1/reports", json=body)
    assert answer.status_code == 201, answer.text


def test_a_hidden_report_does_not_tip_the_flood_marks_the_accused_sees(
    client: Any, world: dict[str, Any]
) -> None:
    """The director files as many junk reports as the threshold in the Sales channel, where a
    report about him came at 09:05, and in a channel nobody else used: after the hour his
    junk is marked alike in both, as if no report about him existed (on the code before, the
    Sales channel's last junk report was marked and the Control channel's was not)."""
    clock: FixedClock = world["clock"]
    director = world["director"]
    named = [{"name": "Zhang Wei", "email": "director@example.com"}]
    file(client, world["ids"]["sales"], "Kickbacks", named)
    clock.current = PROBED_AT
    for slug in ("sales", "control"):
        for n in range(PER_HOUR):
            file(client, world["ids"][slug], f"probe {slug} {n}", [])
    clock.current = datetime(2026, 3, 2, 10, 0, 30)
    list_arrivals(world["db"], clock)

    auth = bearer(client, director, clock)
    listed = client.get("/api/v1/cases?limit=100", headers=auth).json()
    marked = client.get("/api/v1/cases?flood=only&limit=100", headers=auth).json()

    assert listed["total"] == 2 * PER_HOUR  # the report about him is hidden from him
    flagged = sorted(item["summary"] for item in marked["items"])
    sales = [s for s in flagged if s.startswith("probe sales")]
    control = [s for s in flagged if s.startswith("probe control")]
    assert len(sales) == len(control), flagged


def test_the_probe_hour_is_one_of_the_many_whose_offset_hides_one_report(
    app: Any, world: dict[str, Any]
) -> None:
    """The attack above fails because the Sales channel's threshold at 09:00 is above the
    configured 3, as it is in 3 hours of 4 here (20 of 21 at the default of 20 an hour):
    the prober, who cannot read it, tips a mark with one report more only at the lowest."""
    secret = app.state.settings.secret_key.reveal()
    config = FloodConfig(per_hour=PER_HOUR)

    sales = threshold(config, secret, SALES, FILED_AT.replace(minute=0))

    assert PER_HOUR < sales <= 2 * PER_HOUR
