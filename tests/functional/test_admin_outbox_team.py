"""An admin reading the outbox cannot tell who a new case keeps away.

The attack: an admin colluding with the accused knows the channel's team (ana, bob, carol).
A report arrives that excludes carol (the reporter distrusts her, or it names her). At the
hour its "new case" mails go to ana and bob only; the outbox page listed each mail's address,
and the overview counted them, so the admin saw who got none. Now a case's mails to its team
are one line per kind and queued time, without addresses or a count
(cases/org/admin.py, AdminService.outbox)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import sessionmaker
from support.arrivals import list_arrivals
from support.staff_http import app_world, log_in

from cases.clock import FixedClock
from cases.db import unit_of_work
from portal.metrics import database_gauges

TEAM = ("ana@corp.example", "bob@corp.example", "carol@corp.example")


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    with app_world(app, app_db) as made:
        admin = made.staff("admin@corp.example", "admin")
        people = {email: made.staff(email, "investigator") for email in TEAM}
        ids = {"channel": made.channel.id, "category": made.category().id}
    return {"clock": made.clock, "admin": admin, "people": people, "ids": ids, "db": app_db}


def _file(client: Any, world: dict[str, Any], exclude: list[str]) -> None:
    body = {
        **world["ids"],
        "summary": "Kickbacks",
        "details": "Orders of a key account went to a rival.",
        "subjects": [],
        "exclude": exclude,
        "identity": None,
    }
    answer = client.post("/api/v1/reports", json=body)
    assert answer.status_code == 201, answer.text


def _watched(client: Any, world: dict[str, Any]) -> tuple[Any, ...]:
    """What the admin sees at this moment: the outbox rows (without their times) and the
    overview's mail counts; the outbox page's text."""
    clock: FixedClock = world["clock"]
    log_in(client, world["admin"], clock)
    page = client.get("/admin/outbox")
    overview = client.get("/admin").context["overview"]
    rows = [(m.to, m.status, m.attempts, m.last_error) for m in page.context["messages"]]
    with unit_of_work(world["db"]) as db:
        due = database_gauges(db, clock.now(), ZoneInfo("UTC")).outbox_due
    return (rows, overview.outbox_pending, overview.outbox_failed, due), page.text


def test_the_outbox_does_not_show_who_a_new_case_keeps_away(
    client: Any, world: dict[str, Any]
) -> None:
    """A report excluding carol at 09:20 and, the next day, one excluding nobody: at each
    hour the admin's outbox and overview, and /metrics' count of due mails, look the same,
    and name no member of the team."""
    clock: FixedClock = world["clock"]
    carol = world["people"]["carol@corp.example"].account.id
    seen = []
    for exclude in ([carol], []):
        clock.advance(days=1)
        clock.current = clock.current.replace(hour=9, minute=20)
        _file(client, world, exclude)
        clock.current = clock.current.replace(hour=10, minute=0)
        list_arrivals(world["db"], clock)
        watched, text = _watched(client, world)
        seen.append(watched)
        for email in TEAM:
            assert email not in text

    first, second = seen
    team_line = (None, "pending", 0, None)
    # Two mails (to ana and bob) in the first hour, three in the second: one line each hour.
    assert first == ([team_line], 1, 0, 1)
    assert second == ([team_line, team_line], 2, 0, 2)
