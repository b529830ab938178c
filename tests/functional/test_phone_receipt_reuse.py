"""A receipt staff handed over (phone, meeting, letter) is replaced at its first login. The
person who took the report saw it: if they log in first, they take the new receipt and the
reporter is locked out. That must not pass unseen: the old receipt, used again, is refused
with words only its holder reads, and the case's readers are told on the page and the API."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from support.arrivals import list_arrivals
from support.staff_http import app_world, bearer, log_in
from support.staff_world import ZONE

import crypto
from cases.audit.models import AuditEntry, HeldAuditEntry
from cases.clock import local_day
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
    # The count shows uses of days that are over (test_receipt_reuse_timing.py): the next day,
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
