"""Attack: the person being reported floods the portal so that a genuine reporter is turned away.

Junk reports and wrong receipts are the cheapest attacks anyone who can send HTTP has. A
well-formed report is never refused for other people's volume (it is marked and listed apart),
and a correct receipt is never refused for other people's wrong guesses.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from support.arrivals import list_arrivals
from support.browser import axe_clean
from support.staff_world import PROFILE, SECRET, ZONE, Person, build_world

import crypto
from cases.audit.models import AuditEntry
from cases.clock import FixedClock, SystemClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.errors import Kind
from cases.reports.flood import FloodConfig, threshold
from cases.reports.intake import IntakeConfig, IntakeService, PreparedReceipt, Submission
from cases.reports.models import Attachment, Case, Receipt
from cases.reports.reporter import ReporterConfig, ReporterService
from portal.deps import intake_config, receipt_rule, reporter_session_policy

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
ONCE = re.compile(r'name="once" value="([^"]+)"')
PER_HOUR = 3


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Session]) -> dict[str, Any]:
    """A flood threshold of 3 reports an hour, one investigator, the clock at 09:17; `limit`:
    the reports the channel may receive in that hour before newcomers are marked (3 plus the
    hour's secret offset, cases/reports/flood.py)."""
    clock = FixedClock(datetime(2026, 3, 2, 9, 17, 23))
    app.state.clock = clock
    limits = replace(app.state.settings.limits, reports_per_channel_per_hour=PER_HOUR)
    app.state.settings = replace(app.state.settings, limits=limits)
    with unit_of_work(app_db) as db:
        made = build_world(db, clock)
        ana = made.staff("ana@example.com", "investigator")
        ids = {"channel": made.channel.id, "category": made.category().id}
    secret = app.state.settings.secret_key.reveal()
    hour = datetime(2026, 3, 2, 9)
    limit = threshold(FloodConfig(per_hour=PER_HOUR), secret, made.channel.id, hour)
    assert PER_HOUR <= limit <= 2 * PER_HOUR
    return {"clock": clock, "ana": ana, "limit": limit, **ids}


def report(world: dict[str, Any], summary: str = "Junk") -> dict[str, Any]:
    return {
        "channel": world["channel"],
        "category": world["category"],
        "summary": summary,
        "details": "Filed to drown the real ones.",
        "subjects": [],
        "exclude": [],
        "identity": None,
    }


def flood(client: Any, world: dict[str, Any], count: int = 10) -> list[int]:
    """File `count` reports in one hour; the jobs round then lists them at its hour."""
    codes = [client.post("/api/v1/reports", json=report(world)).status_code for _ in range(count)]
    list_arrivals(client.app.state.db, world["clock"])
    return codes


def staff(client: Any, person: Person, clock: FixedClock) -> dict[str, str]:
    body = {"email": person.account.email, "password": person.password, "totp": person.code(clock)}
    answer = client.post("/api/v1/staff/session", json=body)
    assert answer.status_code == 200, answer.text
    clock.advance(seconds=31)
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def test_junk_report_flood_does_not_refuse_a_genuine_report(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Session]
) -> None:
    """After ten junk reports past a threshold of three an hour (and its offset), a genuine
    report is still 201, stored, marked with the hour it arrived in, and its receipt logs in."""
    junk = flood(client, world)

    answer = client.post("/api/v1/reports", json=report(world, "Orders moved to a rival"))

    assert junk == [201] * 10
    assert answer.status_code == 201, answer.text
    login = client.post("/api/v1/reporter/session", json={"receipt": answer.json()["receipt"]})
    assert login.status_code == 200
    with unit_of_work(app_db) as db:
        hours = list(db.scalars(select(Case.flood_hour).order_by(Case.flood_hour)))
    assert len(hours) == 11
    assert hours.count(None) == world["limit"]
    assert set(hours) - {None} == {datetime(2026, 3, 2, 9)}


def test_flood_marked_reports_are_listed_apart_for_triage(
    client: Any, world: dict[str, Any]
) -> None:
    """Staff see flood-marked reports in their own list (API and page), not mixed in."""
    flood(client, world, world["limit"] + 2)
    auth = staff(client, world["ana"], world["clock"])

    every = client.get("/api/v1/cases", headers=auth).json()
    marked = client.get("/api/v1/cases?flood=only", headers=auth).json()
    normal = client.get("/api/v1/cases?flood=none", headers=auth).json()

    assert every["total"] == world["limit"] + 2
    assert (marked["total"], normal["total"]) == (2, world["limit"])
    assert all(item["flood"] for item in marked["items"])
    assert not any(item["flood"] for item in normal["items"])


def test_flood_marked_reports_are_dismissed_in_bulk_and_audited(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Session]
) -> None:
    """One JSON call dismisses the flood-marked reports: closed, not actionable, one audit
    entry each; a list with an unmarked report in it dismisses nothing (409)."""
    flood(client, world, world["limit"] + 4)
    auth = staff(client, world["ana"], world["clock"])
    marked = [i["id"] for i in client.get("/api/v1/cases?flood=only", headers=auth).json()["items"]]
    normal = [i["id"] for i in client.get("/api/v1/cases?flood=none", headers=auth).json()["items"]]

    mixed = client.post("/api/v1/flood/dismissals", headers=auth, json={"cases": marked + normal})
    done = client.post("/api/v1/flood/dismissals", headers=auth, json={"cases": marked})

    assert mixed.status_code == 409
    assert done.status_code == 200, done.text
    assert done.json() == {"dismissed": 4}
    with unit_of_work(app_db) as db:
        states = {row.id: row.status for row in db.execute(select(Case.id, Case.status))}
        audited = list(
            db.scalars(
                select(AuditEntry.case_id).where(AuditEntry.action == "case.flood_dismissed")
            )
        )
    assert {states[i] for i in marked} == {"closed"}
    assert {states[i] for i in normal} == {"new"}
    assert sorted(audited) == sorted(marked)


def test_flood_list_page_dismisses_with_a_form(client: Any, world: dict[str, Any]) -> None:
    """The case page sets flood-marked reports apart behind a notice; the flood list's form
    dismisses the ticked ones."""
    flood(client, world, world["limit"] + 2)
    person, clock = world["ana"], world["clock"]
    page = client.get("/staff/login")
    token = CSRF.findall(page.text)[0]
    data = {"csrf": token, "email": person.account.email, "password": person.password}
    client.post("/staff/login", data=data)
    totp = client.get("/staff/login/totp")
    client.post(
        "/staff/login/totp", data={"csrf": CSRF.findall(totp.text)[0], "code": person.code(clock)}
    )

    default = client.get("/staff/cases")
    apart = client.get("/staff/cases?flood=only")
    ticked = [row.id for row in apart.context["page"].rows]
    dismissed = client.post(
        "/staff/flood/dismiss",
        data={"csrf": CSRF.findall(apart.text)[0], "case": ticked},
        follow_redirects=False,
    )

    assert default.context["page"].total == world["limit"]
    assert default.context["page"].flood_waiting == 2
    assert len(ticked) == 2
    assert dismissed.status_code == 303
    after = client.get("/staff/cases?flood=only&status=new")
    assert after.context["page"].total == 0


def test_flood_evidence_quota_keeps_the_report_but_not_the_files(
    client: Any, app: Any, world: dict[str, Any], app_db: sessionmaker[Session]
) -> None:
    """Past the evidence quota for flood-marked reports, a report with files is still filed
    (201) and the reporter is told its files were not kept; none is stored."""
    limits = replace(app.state.settings.limits, flood_evidence_quota=1024)
    app.state.settings = replace(app.state.settings, limits=limits)
    flood(client, world, world["limit"])
    page = client.get("/report").text
    fields = {
        "csrf": CSRF.findall(page)[0],
        "once": ONCE.findall(page)[0],
        "channel": world["channel"],
        "category": world["category"],
        "summary": "With a big file",
        "details": "See the attachment.",
        "mode": "anonymous",
        "website": "",
    }
    big = [("files", ("big.txt", io.BytesIO(b"x" * 4096), "text/plain"))]

    answer = client.post("/report", data=fields, files=big)

    assert answer.status_code == 200  # the receipt page, after the redirect
    assert answer.context["files_dropped"] is True
    with unit_of_work(app_db) as db:
        assert db.scalar(select(func.count()).select_from(Case)) == world["limit"] + 1
        assert db.scalar(select(func.count()).select_from(Attachment)) == 0


def test_wrong_receipt_flood_never_refuses_a_correct_receipt(
    client: Any, app: Any, world: dict[str, Any], app_db: sessionmaker[Session]
) -> None:
    """1,000 wrong guesses spread over 200 self-filed receipts (5 each, the per-receipt
    limit), made through the app's own receipt check, leave a genuine reporter's correct
    receipt working over HTTP."""
    settings = app.state.settings
    config = ReporterConfig(
        intake_config(settings), reporter_session_policy(settings), receipt_rule(settings)
    )
    with unit_of_work(app_db) as db:
        genuine = IntakeService(db, world["clock"], IntakeConfig(ZONE, PROFILE, SECRET)).submit(
            Submission(world["channel"], world["category"], "Mine", "Details.")
        )
        # The attacker's own receipts: only their rows matter to a guess, so no case is made.
        own = [PreparedReceipt.new(PROFILE) for _ in range(200)]
        db.add_all(
            Receipt(
                selector=r.receipt.selector,
                salt=r.salt,
                verifier=r.derived.verifier,
                kdf_profile=PROFILE.name,
                created_on=date(2026, 3, 2),
            )
            for r in own
        )
    guesses = [
        crypto.Receipt(r.receipt.selector, "Z" * 16).formatted() for r in own for _ in range(5)
    ]
    wrong = []
    for start in range(0, len(guesses), 100):
        with unit_of_work(app_db) as db:
            service = ReporterService(db, world["clock"], config)
            wrong += [service.login(g).error for g in guesses[start : start + 100]]

    right = client.post("/api/v1/reporter/session", json={"receipt": genuine.receipt.formatted()})

    assert len(wrong) == 1000
    assert {e.kind for e in wrong if e is not None} == {Kind.UNAUTHORIZED}
    assert right.status_code == 200, right.text


@pytest.mark.browser
def test_flood_triage_in_chromium_is_accessible(
    start_live_server: Callable[..., Any], page_js: Any
) -> None:
    """The notice, the flood list and its dismissal form work in Chromium and pass axe."""
    server = start_live_server()
    clock = FixedClock(SystemClock().now())
    with unit_of_work(session_factory(make_engine(server.database_url))) as db:
        world = build_world(db, clock)
        ana = world.staff("ana@example.com")
        config = IntakeConfig(ZONE, PROFILE, SECRET, flood=FloodConfig(per_hour=1))
        intake = IntakeService(db, clock, config)
        for _ in range(3):
            intake.submit(Submission(world.channel.id, world.category().id, "Junk", "Junk."))
        list_arrivals(db, clock)  # the jobs round lists them at their hour
    page = page_js

    page.goto(f"{server.url}/staff/login")
    page.fill("#email", ana.account.email)
    page.fill("#password", ana.password)
    page.locator("form[action$='/staff/login'] button[type=submit]").click()
    page.fill("#code", crypto.totp_code(ana.totp_secret or b"", time.time()))
    page.locator("form[action$='/staff/login/totp'] button[type=submit]").click()
    page.wait_for_load_state("load")
    axe_clean(page)
    page.locator("p.notice a").click()
    page.wait_for_load_state("load")
    axe_clean(page)
    for box in page.locator("input[name=case]").all():
        box.check()
    page.locator("form#flood-dismiss button[type=submit]").click()
    page.wait_for_load_state("load")

    assert page.locator("input[name=case]").count() == 0
    assert "flood=only" in page.url
