"""Everything the accused sales director reaches is the same before and after a report about him.

The attack: the director is an investigator on the channel's team and also files reports like
anybody. He suspects a report about him and compares what he can reach (his case list and its
counts, the flood list, search, a case he may open with its "related" flag, the list page, the
mails he receives, and his own anonymous report's status over the reporter API) before and
after the day he fears it came. Any difference confirms it exists, and when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from support.staff_http import app_world, bearer, log_in
from support.staff_world import SECRET, ZONE, Person

from cases.clock import FixedClock
from cases.db import unit_of_work
from cases.notify.models import OutboxMessage
from cases.org.models import Channel
from cases.reports.models import Case
from cases.staff.directory import DirectoryService, Row
from portal.jobs import JobConfig, JobRunner

DIRECTOR = "director@example.com"


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Session]) -> dict[str, Any]:
    """The General channel (every investigator: the director and Ana), acknowledging within a
    day, so deadline reminders go out on the day of filing; the directory knows the director
    (E1) and Li Na of finance (E9), who is not in his chain."""
    with app_world(app, app_db) as made:
        director = made.staff(DIRECTOR, "investigator", name="Zhang Wei")
        ana = made.staff("ana@example.com", "investigator", name="Ana")
        DirectoryService(made.db, made.clock, SECRET).import_rows(
            [
                Row("E1", "Zhang Wei", DIRECTOR, "Sales", ""),
                Row("E9", "Li Na", "li.na@example.com", "Finance", ""),
            ]
        )
        made.db.get_one(Channel, made.channel.id).acknowledge_days = 1
        ids = {"channel": made.channel.id, "category": made.category().id}
    return {"clock": made.clock, "director": director, "ana": ana, "ids": ids, "db": app_db}


def jobs_round(app_db: sessionmaker[Session], clock: FixedClock) -> None:
    """The background jobs at the clock's time: arrivals listed, reminders queued."""
    JobRunner(app_db, clock, JobConfig("https://portal.example", ZONE, SECRET, 180)).run_once()


def file(client: Any, ids: dict[str, str], summary: str, subjects: list[Any]) -> str:
    body = {
        **ids,
        "summary": summary,
        "details": "The orders of a key account went to a rival.",
        "subjects": subjects,
        "exclude": [],
        "identity": None,
    }
    answer = client.post("/api/v1/reports", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["receipt"])


def what_he_reaches(
    client: Any, director: Person, clock: FixedClock, visible: str, receipt: str
) -> dict[str, Any]:
    """Every answer the director can ask for as staff and as the reporter of his own report."""
    auth = bearer(client, director, clock)
    listed = client.get("/api/v1/cases?limit=100", headers=auth).json()
    flood = client.get("/api/v1/cases?flood=only", headers=auth).json()
    search = client.post("/api/v1/cases/search", headers=auth, json={"q": "orders"}).json()
    case = client.get(f"/api/v1/cases/{visible}", headers=auth).json()
    session = client.post("/api/v1/reporter/session", json={"receipt": receipt}).json()
    mine = client.get(
        "/api/v1/reporter/report", headers={"Authorization": f"Bearer {session['token']}"}
    ).json()
    log_in(client, director, clock)
    page = client.get("/staff/cases").context["page"]
    return {
        "list": listed,
        "flood": flood,
        "search": (search["total"], [item["id"] for item in search["items"]]),
        "case": case,
        "mine": mine,
        "page": (page.total, [row.id for row in page.rows], page.flood_waiting),
    }


def test_nothing_the_accused_reaches_changes_when_a_report_about_him_arrives(
    client: Any, world: dict[str, Any]
) -> None:
    """A case he may open (naming Li Na, E9) and his own anonymous report are listed at 10:00;
    the report about him (naming him and Li Na) comes at 10:20 with a word he searches for;
    after the 11:00 jobs round every answer he can ask for, and every mail addressed to him,
    is as before, while Ana has the case, its mail, and sees it related to the first."""
    clock: FixedClock = world["clock"]
    director, ids, app_db = world["director"], world["ids"], world["db"]
    clock.current = datetime(2026, 3, 2, 9, 10)
    file(client, ids, "Orders diverted", [{"name": "Li Na", "employee_id": "E9"}])
    receipt = file(client, ids, "Orders lost in transit", [])
    clock.current = datetime(2026, 3, 2, 10, 0)
    jobs_round(app_db, clock)
    with unit_of_work(app_db) as db:
        visible = set(db.scalars(select(Case.id)))
    listed = client.get("/api/v1/cases", headers=bearer(client, director, clock)).json()
    [li_na] = [item["id"] for item in listed["items"] if item["summary"] == "Orders diverted"]
    before = what_he_reaches(client, director, clock, li_na, receipt)

    clock.current = datetime(2026, 3, 2, 10, 20)
    named = [{"name": "Zhang Wei", "email": DIRECTOR}, {"name": "Li Na", "employee_id": "E9"}]
    file(client, ids, "Orders routed through his cousin", named)
    clock.current = datetime(2026, 3, 2, 11, 0)
    jobs_round(app_db, clock)
    after = what_he_reaches(client, director, clock, li_na, receipt)
    seen_by_ana = client.get(f"/api/v1/cases/{li_na}", headers=bearer(client, world["ana"], clock))
    with unit_of_work(app_db) as db:
        hidden = db.scalars(select(Case.id).where(Case.id.not_in(visible))).one()
        mails = db.execute(select(OutboxMessage.to_address, OutboxMessage.dedupe_key)).all()

    for view in ("list", "flood", "search", "case", "mine", "page"):
        assert after[view] == before[view], view
    assert before["list"]["total"] == 2
    assert not [key for to, key in mails if to == DIRECTOR and hidden in key]
    assert [key for to, key in mails if to == "ana@example.com" and hidden in key]
    assert hidden in {r["id"] for r in seen_by_ana.json()["related"]}
