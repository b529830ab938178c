"""An investigator polling the case list does not learn the minute a report, or a reporter's
later file, arrived: staff see neither before the next full hour (cases/reports/arrivals.py).

The attack: the HR head, on the channel's team and colluding with the accused, reloads
`/staff/cases` and `GET /api/v1/cases` every minute and matches the minute a case (or file)
appears against who was away from their desk.
"""

from __future__ import annotations

import io
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
from cases.notify.service import NotifyConfig, Outbox
from cases.notify.smtp import Delivery, SmtpSender
from cases.org.models import Channel
from cases.reports.models import Case
from portal.jobs import JobConfig, JobRunner

FILED_AT = datetime(2026, 3, 2, 9, 20)
HOUR = datetime(2026, 3, 2, 10, 0)
UNKNOWN = "0" * 32


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Session]) -> dict[str, Any]:
    """The General channel (its team: every investigator) with the HR head and Ana on it."""
    with app_world(app, app_db) as made:
        hr = made.staff("hr@example.com", "investigator", name="HR head")
        ana = made.staff("ana@example.com", "investigator", name="Ana")
        ids = {"channel": made.channel.id, "category": made.category().id}
    return {"clock": made.clock, "hr": hr, "ana": ana, "ids": ids, "db": app_db}


def jobs_round(app_db: sessionmaker[Session], clock: FixedClock) -> dict[str, int]:
    """One round of the background jobs, as every app process runs it, at the clock's time."""
    config = JobConfig("https://portal.example", ZONE, SECRET, 180)
    return JobRunner(app_db, clock, config).run_once()


def file_report(client: Any, ids: dict[str, str], summary: str = "Orders diverted") -> str:
    """A reporter files over the API: the receipt."""
    body = {
        **ids,
        "summary": summary,
        "details": "The Acme order went to a rival.",
        "subjects": [],
        "exclude": [],
        "identity": None,
    }
    answer = client.post("/api/v1/reports", json=body)
    assert answer.status_code == 201, answer.text
    receipt: str = answer.json()["receipt"]
    return receipt


def reporter_auth(client: Any, receipt: str) -> dict[str, str]:
    session = client.post("/api/v1/reporter/session", json={"receipt": receipt})
    assert session.status_code == 200, session.text
    return {"Authorization": f"Bearer {session.json()['token']}"}


def only_case(app_db: sessionmaker[Session]) -> Case:
    with unit_of_work(app_db) as db:
        case = db.scalars(select(Case)).one()
        db.expunge(case)
        return case


def what_staff_see(client: Any, person: Person, clock: FixedClock, case: Case) -> dict[str, Any]:
    """Every way a team member can look for the case: the API list, count and search, the
    case's API, export and download URLs, a bulk action naming it, and the pages."""
    auth = bearer(client, person, clock)
    listed = client.get("/api/v1/cases", headers=auth).json()
    found = client.post("/api/v1/cases/search", headers=auth, json={"q": case.reference}).json()
    words = client.post("/api/v1/cases/search", headers=auth, json={"q": "Acme"}).json()
    api = client.get(f"/api/v1/cases/{case.id}", headers=auth)
    bulk, bulk_unknown = (
        client.post(
            "/api/v1/cases/bulk",
            headers=auth,
            json={"action": "transition", "cases": [i], "status": "acknowledged", "reason": "x"},
        )
        for i in (case.id, UNKNOWN)
    )
    export = client.get(f"/api/v1/cases/{case.id}/export.zip", headers=auth)
    unknown = client.get(f"/api/v1/cases/{UNKNOWN}", headers=auth)
    log_in(client, person, clock)
    page = client.get("/staff/cases")
    return {
        "listed": [item["id"] for item in listed["items"]],
        "total": listed["total"],
        "found": found["total"] + words["total"],
        "api": (api.status_code, api.json() if api.status_code == 404 else None),
        "unknown": (unknown.status_code, unknown.json()),
        # The refusal echoes the id sent (never the reference): compared without it.
        "bulk": (bulk.status_code, {k: v for k, v in bulk.json().items() if k != "case"}),
        "bulk_unknown": (
            bulk_unknown.status_code,
            {k: v for k, v in bulk_unknown.json().items() if k != "case"},
        ),
        "export": export.status_code,
        "page_total": page.context["page"].total,
        "page_shows": case.reference in page.text,
        "case_page": client.get(f"/staff/cases/{case.id}").status_code,
    }


def test_a_new_case_is_nowhere_for_the_team_until_the_next_full_hour(
    client: Any, world: dict[str, Any]
) -> None:
    """Filed at 09:20, the case is absent from every staff list, count and search and its
    URLs answer 404 exactly like a case that does not exist, also after a jobs round at 09:50;
    the reporter reads it at once; at 10:00 the jobs round lists it for the team."""
    clock, hr, app_db = world["clock"], world["hr"], world["db"]
    clock.current = FILED_AT
    receipt = file_report(client, world["ids"])
    mine = client.get("/api/v1/reporter/report", headers=reporter_auth(client, receipt))
    case = only_case(app_db)
    clock.current = datetime(2026, 3, 2, 9, 50)
    jobs_round(app_db, clock)

    early = what_staff_see(client, hr, clock, case)

    assert mine.status_code == 200
    assert mine.json()["status"] == "new"
    assert (early["listed"], early["total"], early["found"]) == ([], 0, 0)
    assert early["api"] == early["unknown"]  # the same 404 as an id nobody has
    assert early["api"][0] == 404
    assert early["bulk"] == early["bulk_unknown"]  # refused as "no such case", unnamed
    assert (early["export"], early["case_page"]) == (404, 404)
    assert (early["page_total"], early["page_shows"]) == (0, False)
    assert case.held_until == HOUR  # the hour only: a reporter's row stores no finer time

    clock.current = HOUR
    jobs_round(app_db, clock)
    late = what_staff_see(client, hr, clock, case)

    assert (late["listed"], late["total"]) == ([case.id], 1)
    assert (late["api"][0], late["case_page"]) == (200, 200)
    assert (late["page_total"], late["page_shows"]) == (1, True)


def test_a_later_file_is_neither_listed_nor_downloadable_before_its_hour(
    client: Any, world: dict[str, Any]
) -> None:
    """A file the reporter adds at 10:20 to a listed case is not on the case and its download
    is 404 for the team until the jobs round of 11:00; the reporter sees it at once."""
    clock, hr, app_db = world["clock"], world["hr"], world["db"]
    clock.current = FILED_AT
    receipt = file_report(client, world["ids"])
    clock.current = HOUR
    jobs_round(app_db, clock)
    case = only_case(app_db)
    clock.current = datetime(2026, 3, 2, 10, 20)
    me = reporter_auth(client, receipt)
    upload = {"file": ("invoice.txt", io.BytesIO(b"invoice 4711"), "text/plain")}
    added = client.post("/api/v1/reporter/attachments", headers=me, files=upload)
    assert added.status_code == 201, added.text
    file_id = added.json()["id"]
    own = client.get("/api/v1/reporter/report", headers=me).json()["attachments"]
    clock.current = datetime(2026, 3, 2, 10, 50)
    jobs_round(app_db, clock)

    auth = bearer(client, hr, clock)
    shown = client.get(f"/api/v1/cases/{case.id}", headers=auth).json()["attachments"]
    download = client.get(f"/api/v1/cases/{case.id}/attachments/{file_id}", headers=auth)
    unknown = client.get(f"/api/v1/cases/{case.id}/attachments/{UNKNOWN}", headers=auth)

    assert [f["id"] for f in own] == [file_id]
    assert shown == []
    assert download.status_code == 404
    assert download.json() == unknown.json()

    clock.current = datetime(2026, 3, 2, 11, 0)
    jobs_round(app_db, clock)
    auth = bearer(client, hr, clock)
    shown = client.get(f"/api/v1/cases/{case.id}", headers=auth).json()["attachments"]
    download = client.get(f"/api/v1/cases/{case.id}/attachments/{file_id}", headers=auth)

    assert [f["id"] for f in shown] == [file_id]
    assert download.status_code == 200
    assert download.content == b"invoice 4711"


def test_the_new_case_mail_never_goes_out_before_the_case_is_listed(
    client: Any, world: dict[str, Any], smtp_server: Any
) -> None:
    """The "new case" mail waits for the case's hour, and a process that delivers it without
    having run the jobs round lists the case first: whoever the mail reaches finds the case."""
    clock, hr, app_db = world["clock"], world["hr"], world["db"]
    clock.current = FILED_AT
    file_report(client, world["ids"])
    sender = SmtpSender(smtp_server.url)
    clock.current = datetime(2026, 3, 2, 9, 59)
    early = Delivery(app_db, clock, sender, server_secret=SECRET).drain()
    before = client.get("/api/v1/cases", headers=bearer(client, hr, clock)).json()
    with unit_of_work(app_db) as db:
        due = set(db.scalars(select(OutboxMessage.next_attempt_at)))

    assert before["total"] == 0
    assert early == 0
    assert only_case(app_db).held_until == HOUR
    assert due == {HOUR}

    clock.current = HOUR
    sent = Delivery(
        app_db, clock, sender, server_secret=SECRET
    ).drain()  # no jobs round has run in this process
    auth = bearer(client, hr, clock)
    listed = client.get("/api/v1/cases", headers=auth).json()

    assert sent == 2  # the HR head and Ana
    assert only_case(app_db).held_until is None
    assert listed["total"] == 1


def test_a_deadline_reminder_does_not_announce_a_held_case(
    client: Any, world: dict[str, Any]
) -> None:
    """A channel that must acknowledge within a day: its new case earns no deadline reminder
    (queued at the minute the job runs) before its hour, and does from then on."""
    clock, app_db = world["clock"], world["db"]
    with unit_of_work(app_db) as db:
        db.get_one(Channel, world["ids"]["channel"]).acknowledge_days = 1
    clock.current = FILED_AT
    file_report(client, world["ids"])
    clock.current = datetime(2026, 3, 2, 9, 30)
    notify = NotifyConfig("https://portal.example", ZONE)
    with unit_of_work(app_db) as db:
        early = Outbox(db, clock, notify).deadline_reminders()

    clock.current = HOUR
    jobs_round(app_db, clock)
    with unit_of_work(app_db) as db:
        late = Outbox(db, clock, notify).deadline_reminders()

    assert early == 0
    assert late == 2  # the HR head and Ana
