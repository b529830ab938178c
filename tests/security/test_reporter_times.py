"""Attack: read the database after a reporter's visits to learn when they acted.

Every date/time column of every table (read from the live schema, so a column added later is
covered) is snapshotted before each reporter action and compared after it: no value a
reporter's request writes may be finer than the hour. The app's clock stands at 09:17:23.456789,
so a value that was not rounded shows it. Only the reporter's live session row is exempt, and
it must be gone after logout.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import DateTime, MetaData, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from support.arrivals import list_arrivals
from support.staff_world import SECRET, ZONE, Person, build_world

from cases.audit.models import AuditEntry, HeldAuditEntry
from cases.audit.service import Actor, AuditLog
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import FixedClock
from cases.db import unit_of_work
from cases.reports.models import Case
from cases.sessions.models import UserSession

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
ONCE = re.compile(r'name="once" value="([^"]+)"')
PAYOUT = {"name": "Li Ming", "account": "6222-0000-1111-2222", "contact": "limingx@example.net"}
# Rows of live sessions may keep exact expiries while they live (DESIGN.md, "Reporter time").
LIVE_SESSIONS = "user_sessions"

Snapshot = dict[tuple[str, tuple[Any, ...], str], datetime]


def snapshot(engine: Engine) -> Snapshot:
    """Every date/time value in the database, keyed by table, primary key and column."""
    meta = MetaData()
    meta.reflect(engine)
    values: Snapshot = {}
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            times = [c for c in table.columns if isinstance(c.type, DateTime)]
            if not times:
                continue
            key = list(table.primary_key.columns) or list(table.columns)
            for row in conn.execute(select(*key, *times)):
                ident = tuple(row[: len(key)])
                for column, value in zip(times, row[len(key) :], strict=True):
                    if value is not None:
                        values[(table.name, ident, column.name)] = value
    return values


def finer_than_the_hour(before: Snapshot, after: Snapshot) -> list[str]:
    """New or changed values with minutes, seconds or microseconds, outside live sessions."""
    return [
        f"{table}.{column} = {value.isoformat()}"
        for (table, ident, column), value in after.items()
        if before.get((table, ident, column)) != value
        and table != LIVE_SESSIONS
        and (value.minute, value.second, value.microsecond) != (0, 0, 0)
    ]


def touched(before: Snapshot, after: Snapshot) -> set[str]:
    return {key[0] for key, value in after.items() if before.get(key) != value}


def form_tokens(client: Any, path: str = "/report") -> dict[str, str]:
    page = client.get(path).text
    tokens = {"csrf": CSRF.findall(page)[0]}
    once = ONCE.findall(page)
    return {**tokens, "once": once[0]} if once else tokens


def staff_token(client: Any, person: Person, clock: FixedClock) -> dict[str, str]:
    body = {"email": person.account.email, "password": person.password, "totp": person.code(clock)}
    answer = client.post("/api/v1/staff/session", json=body)
    assert answer.status_code == 200, answer.text
    clock.advance(seconds=31)
    return {"Authorization": f"Bearer {answer.json()['token']}"}


@pytest.fixture
def clock(app: Any) -> FixedClock:
    """The app's clock, at a time whose minutes, seconds and microseconds are all non-zero."""
    fixed = FixedClock(datetime(2026, 3, 2, 9, 17, 23, 456789))
    app.state.clock = fixed
    return fixed


def test_no_reporter_action_stores_a_time_finer_than_the_hour(
    client: Any, app_db: sessionmaker[Session], engine: Engine, clock: FixedClock
) -> None:
    """Filing with files, the check step, login, message, evidence, reward acceptance,
    retaliation complaint and logout write no time finer than the hour anywhere."""
    with unit_of_work(app_db) as db:
        world = build_world(db, clock)
        ana = world.staff("ana@example.com", "investigator")
        dai = world.staff("dai@example.com", "reward_approver")
        channel_id, category_id = world.channel.id, world.category().id
    found: dict[str, list[str]] = {}
    tables: set[str] = set()
    state: dict[str, Any] = {}

    def step(name: str, action: Callable[[], None]) -> None:
        before = snapshot(engine)
        action()
        after = snapshot(engine)
        found[name] = finer_than_the_hour(before, after)
        tables.update(touched(before, after))
        clock.advance(minutes=7, seconds=11, microseconds=1013)

    def file_with_attachments() -> None:
        fields = {
            **form_tokens(client),
            "channel": channel_id,
            "category": category_id,
            "summary": "Orders moved to a rival",
            "details": "The Q3 orders of a key account went to a competitor.",
            "subject_name": ["Wang Wei"],
            "subject_id": [""],
            "mode": "anonymous",
            "website": "",
        }
        files = [
            ("files", ("a.txt", io.BytesIO(b"meeting notes"), "text/plain")),
            ("files", ("b.txt", io.BytesIO(b"order list"), "text/plain")),
        ]
        answer = client.post("/report", data=fields, files=files)
        assert answer.status_code == 200, answer.text  # the receipt page, after the redirect
        state["receipt"] = answer.context["receipt"]

    def check_step() -> None:
        data = {"csrf": form_tokens(client)["csrf"], "receipt": state["receipt"]}
        assert client.post("/report/check", data=data).status_code == 200

    def log_in() -> None:
        answer = client.post("/api/v1/reporter/session", json={"receipt": state["receipt"]})
        assert answer.status_code == 200, answer.text
        state["me"] = {"Authorization": f"Bearer {answer.json()['token']}"}

    def read_case() -> None:
        answer = client.get("/api/v1/reporter/report", headers=state["me"])
        assert answer.status_code == 200, answer.text

    def message() -> None:
        body = {"body": "More"}
        answer = client.post("/api/v1/reporter/messages", json=body, headers=state["me"])
        assert answer.status_code == 201, answer.text

    def add_evidence() -> None:
        upload = {"file": ("c.txt", io.BytesIO(b"a receipt scan"), "text/plain")}
        answer = client.post("/api/v1/reporter/attachments", files=upload, headers=state["me"])
        assert answer.status_code == 201, answer.text

    def accept_reward() -> None:
        answer = client.post("/api/v1/reporter/reward/accept", json=PAYOUT, headers=state["me"])
        assert answer.status_code == 200, answer.text

    def retaliation_complaint() -> None:
        body = {"summary": "Moved to night shifts", "details": "Since the report I work nights."}
        answer = client.post("/api/v1/reporter/retaliation", json=body, headers=state["me"])
        assert answer.status_code == 201, answer.text

    def log_out() -> None:
        answer = client.delete("/api/v1/reporter/session", headers=state["me"])
        assert answer.status_code == 204

    for name, action in (
        ("file", file_with_attachments),
        ("check", check_step),
        ("login", log_in),
        ("read", read_case),
        ("message", message),
        ("evidence", add_evidence),
    ):
        step(name, action)
    offer_reward(client, app_db, clock, ana, dai)
    for name, action in (
        ("read offer", read_case),
        ("reward", accept_reward),
        ("retaliation", retaliation_complaint),
        ("logout", log_out),
    ):
        step(name, action)

    assert {name: times for name, times in found.items() if times} == {}
    assert {"key_wraps", "attachments", "throttle_counters", "outbox_messages"} <= tables
    with unit_of_work(app_db) as db:
        live = select(func.count()).select_from(UserSession).where(UserSession.kind == "reporter")
        assert db.scalar(live) == 0
        assert list(db.scalars(select(HeldAuditEntry.action))) == ["reward.accept"]
        accepted = select(func.count()).where(AuditEntry.action == "reward.accept")
        assert db.scalar(accepted) == 0


def offer_reward(
    client: Any, app_db: sessionmaker[Session], clock: FixedClock, ana: Person, dai: Person
) -> None:
    """Staff work (exact times allowed): conclude the case as substantiated, offer a reward."""
    with unit_of_work(app_db) as db:
        list_arrivals(db, clock)  # the jobs round lists the case at its hour
        case = db.scalars(select(Case).order_by(Case.submitted_on)).first()
        assert case is not None
        case_id = case.id
        work = CaseworkService(db, clock, CaseworkConfig(ZONE, SECRET))
        principal = ana.principal(db, clock)
        work.transition(principal, case_id, "acknowledged", "Received")
        work.transition(principal, case_id, "concluded", "Proven", "substantiated")
    proposal = {"recovered_loss": "300000", "exclusions_checked": True}
    made = client.post(
        f"/api/v1/cases/{case_id}/rewards", headers=staff_token(client, ana, clock), json=proposal
    )
    assert made.status_code == 201, made.text
    decided = client.post(
        f"/api/v1/rewards/{made.json()['id']}/decision",
        headers=staff_token(client, dai, clock),
        json={"approve": True},
    )
    assert decided.status_code == 200, decided.text


def test_reporter_audit_entries_join_the_chain_only_after_their_day(
    db_session: Session,
) -> None:
    """A reporter action's audit entry is held back (day only) while staff entries follow,
    then appended after the day is over, dated 00:00 UTC: its place in the chain tells
    nothing finer than the day, and the chain still verifies."""
    clock = FixedClock(datetime(2026, 3, 2, 9, 17, 23, 456789))
    audit = AuditLog(db_session, clock, SECRET)
    staff = Actor("staff", "s1", ("investigator",))
    audit.record(staff, "case.read", case_id="c1")
    clock.advance(minutes=3)
    audit.record(Actor("reporter"), "reward.accept", case_id="c1")
    AuditLog(db_session, clock, SECRET, reporter_request=True).record(staff, "key.grant")
    clock.advance(minutes=3)
    audit.record(staff, "case.read", case_id="c1")

    same_day = audit.release_held()
    clock.advance(days=1)
    next_day = audit.release_held()

    entries = list(db_session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    assert (same_day, next_day) == (0, 2)
    assert [e.action for e in entries[:2]] == ["case.read", "case.read"]
    assert {e.action for e in entries[2:]} == {"reward.accept", "key.grant"}
    assert {e.at for e in entries[2:]} == {datetime(2026, 3, 2)}
    assert db_session.scalar(select(func.count()).select_from(HeldAuditEntry)) == 0
    assert audit.verify().ok


def test_the_pages_and_the_other_reporter_actions_store_no_time_finer_than_the_hour(
    client: Any, app_db: sessionmaker[Session], engine: Engine, clock: FixedClock
) -> None:
    """The same oracle over what the first test does not send: the language switch, the
    receipt.txt download, the status page login, reply, evidence and retaliation forms, the
    reward page, declining, taking the decline back, accepting by form, and the page logout."""
    with unit_of_work(app_db) as db:
        world = build_world(db, clock)
        ana = world.staff("ana@example.com", "investigator")
        dai = world.staff("dai@example.com", "reward_approver")
        world.staff("fin@example.com", "finance")
        channel_id, category_id = world.channel.id, world.category().id
    found: dict[str, list[str]] = {}
    state: dict[str, str] = {}

    def step(name: str, path: str, data: dict[str, Any], files: Any = None) -> Any:
        before = snapshot(engine)
        pages = ("/status/retaliation", "/status/reward", "/status", "/report")
        fields = {**form_tokens(client, next(p for p in pages if path.startswith(p))), **data}
        answer = client.post(path, data=fields, files=files, follow_redirects=False)
        assert answer.status_code < 400, f"{name}: {answer.status_code}"
        found[name] = finer_than_the_hour(before, snapshot(engine))
        clock.advance(minutes=7, seconds=11, microseconds=1013)
        return answer

    report = {"channel": channel_id, "category": category_id, "summary": "S", "details": "D"}
    step("language", "/report/language", {**report, "switch_lang": "zh-CN"})
    extra = {"subject_name": ["Wang Wei"], "subject_id": [""], "mode": "anonymous", "website": ""}
    upload = [("files", ("a.txt", io.BytesIO(b"notes"), "text/plain"))]
    filed = step("file", "/report", {**report, **extra}, upload)
    state["receipt"] = client.get(filed.headers["location"]).context["receipt"]
    step("receipt.txt", "/report/receipt.txt", {"receipt": state["receipt"]})
    step("login", "/status", {"receipt": state["receipt"]})
    step("reply", "/status/reply", {"body": "More"})
    more = [("files", ("b.txt", io.BytesIO(b"scan"), "text/plain"))]
    step("evidence", "/status/evidence", {}, more)
    step("retaliation", "/status/retaliation", {"summary": "Nights", "details": "Since then."})
    offer_reward(client, app_db, clock, ana, dai)
    step("decline", "/status/reward/decline", {"confirm": "yes"})
    step("undo", "/status/reward/undo", {})
    payout = {**PAYOUT, "payee": "self"}
    step("accept", "/status/reward/accept", payout)
    step("logout", "/status/logout", {})

    assert {name: times for name, times in found.items() if times} == {}
    with unit_of_work(app_db) as db:
        live = select(func.count()).select_from(UserSession).where(UserSession.kind == "reporter")
        assert db.scalar(live) == 0
