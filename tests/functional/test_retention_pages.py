"""Retention over HTTP: periods for reporters, "deleted on" and holds for staff, dead receipts."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from support.staff_world import SECRET, ZONE, Person, build_world

import crypto
from cases.audit.models import AuditEntry
from cases.clock import FixedClock
from cases.db import unit_of_work
from cases.org.models import Channel
from cases.reports.models import Case, Status
from cases.retention import RetentionConfig, RetentionService
from portal.start_pages import start_page

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    clock = FixedClock()
    app.state.clock = clock
    with unit_of_work(app_db) as db:
        made = build_world(db, clock)
        ana = made.staff("ana@example.com")
        bob = made.staff("bob@example.com")
        boss = made.staff("boss@example.com", "admin")
        filed = made.file()
        filed.case.status, filed.case.closed_on = Status.CLOSED, date(2026, 1, 31)
    return {
        "clock": clock,
        "ana": ana,
        "bob": bob,
        "boss": boss,
        "case": filed.case,
        "receipt": filed.receipt.formatted(),
        "db": app_db,
    }


def csrf(client: Any, path: str) -> str:
    match = CSRF.search(client.get(path).text)
    assert match, path
    return match.group(1)


def log_in(client: Any, person: Person, clock: FixedClock) -> None:
    client.cookies.clear()
    clock.advance(seconds=30)  # a TOTP code is taken once
    token = csrf(client, "/staff/login")
    client.post(
        "/staff/login",
        data={"csrf": token, "email": person.account.email, "password": person.password},
    )
    code = client.post(
        "/staff/login/totp",
        data={"csrf": token, "code": person.code(clock)},
        follow_redirects=False,
    )
    assert code.headers["location"] == start_page(person.account.role_names)


def shred(world: dict[str, Any]) -> None:
    with unit_of_work(world["db"]) as db:
        case = db.get(Case, world["case"].id)
        RetentionService(db, world["clock"], RetentionConfig(ZONE, SECRET)).shred(case)


def audit_actions(world: dict[str, Any]) -> list[tuple[str, str]]:
    with unit_of_work(world["db"]) as db:
        rows = db.execute(select(AuditEntry.action, AuditEntry.detail).order_by(AuditEntry.seq))
        return [(a, d) for a, d in rows if a.startswith("case.hold")]


def test_a_correct_receipt_of_a_deleted_case_says_so_and_a_wrong_one_does_not(
    client: Any, world: dict[str, Any]
) -> None:
    """Deleted: the right receipt gets the 'deleted' page and a 410; a wrong one the usual 401."""
    receipt = world["receipt"]
    real = crypto.parse_receipt(receipt)
    # Same selector (a known, deleted receipt), a different verifier: well formed but wrong.
    other = "0" if real.verifier[0] != "0" else "1"
    wrong = crypto.Receipt(real.selector, other + real.verifier[1:]).formatted()
    shred(world)

    page = client.post("/status", data={"csrf": csrf(client, "/status"), "receipt": receipt})
    api = client.post("/api/v1/reporter/session", json={"receipt": receipt})
    miss = client.post("/api/v1/reporter/session", json={"receipt": wrong})

    assert page.status_code == 410
    assert page.template.name == "reporter/deleted.html"
    assert (api.status_code, api.json()["error"]) == (410, "deleted_under_retention")
    assert "retention" in api.json()["message"]
    assert (miss.status_code, miss.json()["error"]) == (401, "wrong_receipt")


def test_the_receipt_still_opens_the_case_until_it_is_deleted(
    client: Any, world: dict[str, Any]
) -> None:
    """Before deletion the same receipt opens the status page, which shows the deletion day."""
    token = csrf(client, "/status")

    page = client.post("/status", data={"csrf": token, "receipt": world["receipt"]})

    assert page.template.name == "reporter/status.html"
    assert page.context["retention"].deletes_on == date(2029, 1, 31)
    assert "2029-01-31" in page.text


def test_landing_page_shows_each_channels_period_as_the_admin_sets_it(
    client: Any, world: dict[str, Any]
) -> None:
    """The admin's retention setting for a channel is what the landing page tells reporters."""
    log_in(client, world["boss"], world["clock"])
    channel_id = world["case"].channel_id
    path = f"/admin/channels/{channel_id}"
    with unit_of_work(world["db"]) as db:
        channel = db.get(Channel, channel_id)
        assert channel is not None
        names = {"name_en": channel.name_en, "name_zh": channel.name_zh}
    form = {
        "csrf": csrf(client, path),
        **names,
        "acknowledge_days": "7",
        "feedback_months": "3",
        "retention_months": "24",
        "active": "1",
    }
    bad = client.post(path, data={**form, "retention_months": "0"})
    saved = client.post(path, data=form, follow_redirects=False)

    landing = client.get("/")

    assert bad.status_code == 422
    assert saved.status_code == 303
    assert [m for _c, m in landing.context["retention_periods"]] == [24]
    assert "24" in landing.text


def test_case_page_shows_deleted_on_and_a_hold_with_its_reason(
    client: Any, world: dict[str, Any]
) -> None:
    """A closed case shows its deletion day; a hold replaces it with the reason; ending it is
    proposed on the page; the admin, who holds no key, is told why he cannot approve (403 if he
    tries); a colleague holding the key approves on the case page; audited."""
    log_in(client, world["ana"], world["clock"])
    path = f"/staff/cases/{world['case'].id}"
    token = csrf(client, path)

    before = client.get(path)
    empty = client.post(f"{path}/hold", data={"csrf": token, "reason": " "})
    client.post(f"{path}/hold", data={"csrf": token, "reason": "Labour court case 2026-17"})
    held = client.get(path)
    client.post(f"{path}/hold/release", data={"csrf": token, "release_reason": "Court closed"})
    proposed = client.get(path)
    log_in(client, world["boss"], world["clock"])
    admin_token = csrf(client, "/admin/holds")
    listed = client.get("/admin/holds")
    barred = client.post(
        "/admin/holds/release/approve",
        data={"csrf": admin_token, "reference": world["case"].reference},
    )
    log_in(client, world["bob"], world["clock"])
    bob_token = csrf(client, path)
    offered = client.get(path)
    client.post(f"{path}/hold/release/approve", data={"csrf": bob_token})
    log_in(client, world["ana"], world["clock"])
    released = client.get(path)

    assert "2029-01-31" in before.text
    assert empty.status_code == 422
    assert held.context["retention"].hold_reason == "Labour court case 2026-17"
    assert "Labour court case 2026-17" in held.text
    assert "2029-01-31" not in held.text
    assert proposed.context["retention"].held
    assert proposed.context["retention"].release.reason == "Court closed"
    assert "/hold/release/approve" not in proposed.text  # not for the proposer
    assert "/admin/holds/release/approve" not in listed.text  # the admin holds no key
    assert "Only an investigator who holds this case's key can approve" in listed.text
    assert barred.status_code == 403
    assert "/hold/release/approve" in offered.text
    assert released.context["retention"].deletes_on == date(2029, 1, 31)
    assert [a for a, _d in audit_actions(world)] == [
        "case.hold",
        "case.hold_release_proposed",
        "case.hold_released",
    ]


def test_admin_holds_by_reference_and_the_job_then_keeps_the_case(
    client: Any, world: dict[str, Any]
) -> None:
    """An admin's hold by reference stops the deletion a day after the period ends."""
    log_in(client, world["boss"], world["clock"])
    token = csrf(client, "/admin/holds")
    reference = world["case"].reference

    unknown = client.post(
        "/admin/holds", data={"csrf": token, "reference": "NOPE-0000", "reason": "x"}
    )
    client.post("/admin/holds", data={"csrf": token, "reference": reference, "reason": "Audit"})
    listed = client.get("/admin/holds")
    world["clock"].current = world["clock"].current.replace(year=2029, month=2, day=2)
    with unit_of_work(world["db"]) as db:
        deleted = RetentionService(db, world["clock"], RetentionConfig(ZONE, SECRET)).run()

    assert unknown.status_code == 422
    assert [c.reference for c in listed.context["held"]] == [reference]
    assert deleted == 0
    assert audit_actions(world) == [
        ("case.hold", f'{{"reason": "Audit", "reference": "{reference}"}}')
    ]


def test_hold_api_for_investigators_and_admins(client: Any, world: dict[str, Any]) -> None:
    """The JSON API holds a case; its release is a proposal (202), and a second one is 409."""
    ana = world["ana"]
    login = {"email": ana.account.email, "password": ana.password, "totp": ana.code(world["clock"])}
    token = client.post("/api/v1/staff/session", json=login).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    base = f"/api/v1/cases/{world['case'].id}/hold"

    held = client.post(base, headers=headers, json={"reason": "Regulator request"})
    again = client.post(f"{base}/release", headers=headers, json={})
    twice = client.post(f"{base}/release", headers=headers)

    assert held.status_code == 200
    assert held.json()["held"] is True
    assert held.json()["deletes_on"] is None
    # Releasing is only a proposal now: a second person approves it (test_hold_release.py).
    assert again.status_code == 202
    assert again.json()["held"] is True
    assert again.json()["release"]["proposed_by"] == ana.account.id
    assert twice.status_code == 409


def test_a_deleted_case_is_gone_from_the_staff_list_and_its_page(
    client: Any, world: dict[str, Any]
) -> None:
    """After deletion the case is in nobody's list and its page is a 404, even for its team."""
    log_in(client, world["ana"], world["clock"])
    path = f"/staff/cases/{world['case'].id}"
    before = client.get(path)

    shred(world)
    listing = client.get("/staff/cases")
    after = client.get(path)

    assert before.status_code == 200
    assert listing.context["page"].rows == []
    assert after.status_code == 404
