"""A receipt staff handed over (phone, meeting, letter) is replaced at its first login. The
person who took the report saw it: if they log in first, they take the new receipt and the
reporter is locked out. That must not pass unseen: the old receipt, used again, is refused
with words only its holder reads, and the case's readers are told on the page and the API."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from support.arrivals import list_arrivals
from support.staff_http import app_world, bearer, log_in
from support.staff_world import ZONE

import crypto
from cases.audit.models import AuditEntry, HeldAuditEntry
from cases.clock import floor_day, local_day
from cases.db import unit_of_work
from cases.reports.keys import reporter_holder
from cases.reports.models import Case, KeyWrap, Receipt
from portal.jobs import JobConfig, JobRunner

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    with app_world(app, app_db) as made:
        clock = made.clock
        ana = made.staff("ana@example.com")
        bob = made.staff("bob@example.com")
        category = f"{made.channel.id}:{made.category().id}"
    return {"clock": clock, "ana": ana, "bob": bob, "category": category, "db": app_db}


def _record(client: Any, world: dict[str, Any]) -> tuple[str, str]:
    """Ana takes a report down over the phone; the receipt she reads out, and the case id."""
    token = log_in(client, world["ana"], world["clock"])
    answer = client.post(
        "/staff/record",
        data={
            "csrf": token,
            "intake": "phone",
            "category": world["category"],
            "summary": "Kickbacks at the depot",
            "details": "Told by phone.",
        },
    )
    assert answer.status_code == 200, answer.text
    client.cookies.clear()
    return answer.context["receipt"], answer.context["case"].id


def _log_in(client: Any, receipt: str) -> Any:
    return client.post("/api/v1/reporter/session", json={"receipt": receipt})


def _audited(db: sessionmaker[Any], action: str) -> int:
    """Entries of `action`, in the chain or still held until their day is over."""
    with unit_of_work(db) as session:
        chained = session.scalars(select(AuditEntry.action).where(AuditEntry.action == action))
        held = session.scalars(select(HeldAuditEntry.action).where(HeldAuditEntry.action == action))
        return len(list(chained)) + len(list(held))


def test_a_recorder_who_logs_in_first_is_found_out(
    client: Any, app: Any, world: dict[str, Any]
) -> None:
    """Ana logs in first with the receipt she read out and keeps the new one. The reporter's
    own login the next day is refused in words that say what happened, the old receipt
    still opens nothing, and Bob, reading the case, is told: on the code before, the
    reporter got "wrong code" like any typo and nobody learned anything."""
    recorded, case_id = _record(client, world)
    stolen = _log_in(client, recorded)
    assert stolen.status_code == 200, stolen.text
    assert stolen.json()["new_receipt"] != recorded

    world["clock"].advance(days=1)
    reporter = _log_in(client, recorded)
    client.cookies.clear()
    match = CSRF.search(client.get("/status").text)
    assert match
    page = client.post("/status", data={"csrf": match.group(1), "receipt": recorded})
    tried_on = local_day(world["clock"].now(), ZONE)
    list_arrivals(world["db"], world["clock"])
    # The count shows uses of days that are over (the timing test below): the next day,
    # once the jobs round has entered the reporter's held audit entries.
    world["clock"].advance(days=1)
    JobRunner(world["db"], world["clock"], JobConfig.of(app.state.settings)).run_once()
    bob = bearer(client, world["bob"], world["clock"])
    seen = client.get(f"/api/v1/cases/{case_id}", headers=bob)
    log_in(client, world["bob"], world["clock"])
    case_page = client.get(f"/staff/cases/{case_id}")

    assert reporter.status_code == 401
    assert reporter.json()["error"] == "receipt_replaced"
    assert "token" not in reporter.json()
    assert page.status_code == 401
    assert "someone else did" in page.text
    assert seen.status_code == 200, seen.text
    reused = seen.json()["receipt_reused"]
    assert reused["later_uses"] == 2
    assert reused["last_used_on"] == tried_on.isoformat()
    assert "used again after it was replaced" in case_page.text
    assert _audited(world["db"], "receipt.replaced_used") == 2


def test_a_wrong_code_for_a_replaced_receipt_is_only_a_wrong_code(
    client: Any, world: dict[str, Any]
) -> None:
    """Only the holder of the replaced receipt itself learns it was replaced: a guess with
    its selector and a wrong secret half is a wrong code, counts nothing on the case, and
    the reporter who logged in first is not disturbed."""
    recorded, case_id = _record(client, world)
    first = _log_in(client, recorded)
    assert first.status_code == 200, first.text
    selector = crypto.parse_receipt(recorded).selector
    guess = crypto.Receipt(selector, "0123456789ABCDEF").formatted()

    wrong = _log_in(client, guess)
    list_arrivals(world["db"], world["clock"])
    seen = client.get(
        f"/api/v1/cases/{case_id}", headers=bearer(client, world["bob"], world["clock"])
    )
    with_new = _log_in(client, first.json()["new_receipt"])

    assert wrong.status_code == 401
    assert wrong.json()["error"] == "wrong_receipt"
    assert seen.json()["receipt_reused"] is None
    assert with_new.status_code == 200
    assert "new_receipt" not in with_new.json()


def test_the_replaced_receipt_holds_no_key_and_no_case(client: Any, world: dict[str, Any]) -> None:
    """What is kept of the old receipt is its check only: its cases moved to the new one and
    every key it held was sealed again for the new one."""
    recorded, _case_id = _record(client, world)
    assert _log_in(client, recorded).status_code == 200
    selector = crypto.parse_receipt(recorded).selector

    with unit_of_work(world["db"]) as db:
        old = db.scalars(select(Receipt).where(Receipt.selector == selector)).one()
        holders = list(
            db.scalars(select(KeyWrap.holder).where(KeyWrap.holder == reporter_holder(old.id)))
        )
        cases = list(db.scalars(select(Case.id).where(Case.receipt_id == old.id)))

    assert old.replaced_on == local_day(world["clock"].now(), ZONE)
    assert holders == []
    assert cases == []


# Red team: the recorder of a phone report learns the minute the reporter first logs in,
# by checking the receipt she read out (the check step, `POST /report/check`) every minute.
#
# The check step opens no session, so on a staff-handed receipt not yet used it answered
# "correct" and replaced nothing; from the reporter's first login on (which replaces that
# receipt) it answered "replaced". Polled, the flip dated the reporter's first visit to the
# minute, with nothing on the case for anyone to see until the flip (before the reuse notice,
# it flipped to "wrong code" alike). Now the check step answers a correct staff-handed receipt
# the same before and after its first login: it tells whoever typed it only that it is the
# code that was read out, which the recorder knows.


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def checked(client: Any, receipt: str) -> tuple[int, str]:
    """The check step's answer to this receipt, as its typer sees it."""
    client.cookies.clear()
    match = CSRF.search(client.get("/status").text)
    assert match
    answer = client.post("/report/check", data={"csrf": match.group(1), "receipt": receipt})
    client.cookies.clear()
    return answer.status_code, str(answer.url.query)


def test_checking_the_read_out_receipt_does_not_tell_the_recorder_the_reporter_logged_in(
    client: Any, world: dict[str, Any]
) -> None:
    recorded, _case_id = _record(client, world)
    list_arrivals(world["db"], world["clock"])
    world["clock"].advance(hours=2)
    before = checked(client, recorded)

    world["clock"].advance(minutes=7)
    first = _log_in(client, recorded)  # the reporter, at last
    client.cookies.clear()
    world["clock"].advance(minutes=1)
    after = checked(client, recorded)

    assert first.status_code == 200, first.text
    assert before[0] == 200
    assert after == before


# Red team: the recorder who logged in first with the receipt she read out learns, by
# watching the case, the minute the reporter tried it (cases/reports/reporter.py `_reused`).
#
# Ana takes a report down over the phone and logs in first with the receipt she read out (the
# attack the reuse notice was built against). Every use of the replaced receipt was counted on
# the case at once, and the case page and API showed the count and its day to every reader: Ana,
# reading the case every few minutes, saw it go from nothing to 1 between two looks and so learnt
# when the reporter sat down to log in (at 14:03 on Tuesday, at a desk she can place), which the
# audit trail itself never tells (a reporter's entries wait, dated by their day only, until the
# day is over). Now the count shows only uses of days that are over, as the audit trail does:
# nothing on the day of the use, the whole count after it.


def test_the_recorder_does_not_learn_the_hour_the_reporter_tried_the_old_receipt(
    client: Any, app: Any, world: dict[str, Any]
) -> None:
    clock = world["clock"]
    recorded, case_id = _record(client, world)
    assert _log_in(client, recorded).status_code == 200  # Ana, first
    client.cookies.clear()
    list_arrivals(world["db"], clock)
    clock.advance(days=1)
    clock.current = floor_day(clock.now()).replace(hour=13)
    ana = bearer(client, world["ana"], clock)
    before = client.get(f"/api/v1/cases/{case_id}", headers=ana).json()["receipt_reused"]

    clock.advance(minutes=63)
    refused = _log_in(client, recorded)  # the reporter, at 14:03
    client.cookies.clear()
    clock.advance(minutes=5)
    ana = bearer(client, world["ana"], clock)
    after = client.get(f"/api/v1/cases/{case_id}", headers=ana).json()["receipt_reused"]

    clock.current = floor_day(clock.now()).replace(hour=1) + timedelta(days=1)
    JobRunner(world["db"], clock, JobConfig.of(app.state.settings)).run_once()
    ana = bearer(client, world["ana"], clock)
    next_day = client.get(f"/api/v1/cases/{case_id}", headers=ana).json()["receipt_reused"]

    assert refused.json()["error"] == "receipt_replaced"
    assert after == before  # nothing tells the reporter's visit on its day
    assert next_day is not None
    assert next_day["later_uses"] == 1
