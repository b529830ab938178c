"""Accounts made on the web: no admin-set password, no key until a key holder approves,
and keys that follow roles at once (issue 10 §3, issue 17 §2)."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker
from support.staff_http import app_world
from support.staff_world import PASSWORD, Person, build_world

import crypto
from cases.audit.models import AuditEntry
from cases.clock import FixedClock, epoch
from cases.db import unit_of_work
from cases.notify.models import OutboxMessage
from cases.reports.models import KeyWrap, PendingGrant
from cases.staff.models import KeyApproval, StaffAccount

NEW_PASSWORD = "my very own secret phrase 42"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    with app_world(app, app_db) as made:
        clock = made.clock
        boss = made.staff("boss@example.com", "admin")
        ana = made.staff("ana@example.com", "investigator")
        bob = made.staff("bob@example.com", "investigator")
        old = made.file("Filed before the puppet").case.id
    return {"clock": clock, "boss": boss, "ana": ana, "bob": bob, "old": old, "db": app_db}


def auth(client: Any, person: Person, clock: FixedClock) -> dict[str, str]:
    return bearer(client, person.account.email, person.password, person.totp_secret, clock)


def bearer(
    client: Any, email: str, password: str, secret: Any, clock: FixedClock
) -> dict[str, str]:
    code = crypto.totp_code(secret, epoch(clock.now()))
    answer = client.post(
        "/api/v1/staff/session", json={"email": email, "password": password, "totp": code}
    )
    assert answer.status_code == 200, answer.text
    clock.advance(seconds=30)
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def b32(secret: str) -> bytes:
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def enrol_puppet(client: Any, world: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The admin makes an investigator over the API; someone completes the link and logs in."""
    boss = auth(client, world["boss"], world["clock"])
    made = client.post(
        "/api/v1/admin/accounts",
        headers=boss,
        json={"email": "puppet@example.com", "name": "Puppet", "roles": ["investigator"]},
    )
    assert made.status_code == 201, made.text
    token = made.json()["enrolment_url"].rsplit("/", 1)[-1]
    enrolled = client.post(
        "/api/v1/staff/enrolment", json={"token": token, "password": NEW_PASSWORD}
    )
    assert enrolled.status_code == 201, enrolled.text
    secret = b32(enrolled.json()["totp_secret"])
    puppet = bearer(client, "puppet@example.com", NEW_PASSWORD, secret, world["clock"])
    return made.json()["id"], puppet


def wraps_of(world: dict[str, Any], staff_id: str, kind: str = "case") -> int:
    with unit_of_work(world["db"]) as db:
        stmt = (
            select(func.count())
            .select_from(KeyWrap)
            .where(KeyWrap.staff_id == staff_id, KeyWrap.key_kind == kind)
        )
        return int(db.scalar(stmt) or 0)


def file_case(world: dict[str, Any], summary: str) -> str:
    with unit_of_work(world["db"]) as db:
        return build_world(db, world["clock"]).file(summary).case.id


def test_puppet_reads_nothing_old_or_new_until_a_key_holder_approves(
    client: Any, world: dict[str, Any]
) -> None:
    """An admin-made investigator gets no key, old or new, until another key holder approves."""
    puppet_id, puppet = enrol_puppet(client, world)
    new = file_case(world, "Filed after the puppet")

    listed = client.get("/api/v1/cases", headers=puppet).json()
    before = [
        client.get(f"/api/v1/cases/{c}", headers=puppet).status_code for c in (world["old"], new)
    ]
    held_before = wraps_of(world, puppet_id)
    ana = auth(client, world["ana"], world["clock"])
    waiting = client.get("/api/v1/staff/approvals", headers=ana).json()
    approved = client.post(f"/api/v1/staff/approvals/{waiting[0]['id']}/approve", headers=ana)
    after = [
        client.get(f"/api/v1/cases/{c}", headers=puppet).status_code for c in (world["old"], new)
    ]

    assert listed["items"] == []
    assert listed["total"] == 0
    assert before == [404, 404]
    assert held_before == 0
    assert [(w["account"]["email"], w["reason"]) for w in waiting] == [
        ("puppet@example.com", "new_account")
    ]
    assert approved.status_code == 200, approved.text
    assert after == [200, 200]


def test_neither_the_admin_nor_the_account_itself_may_approve(
    client: Any, world: dict[str, Any]
) -> None:
    """The admin who made the account and the account itself get 403; nothing is granted."""
    puppet_id, puppet = enrol_puppet(client, world)
    with unit_of_work(world["db"]) as db:
        approval_id = db.scalars(select(KeyApproval.id)).one()
    boss = auth(client, world["boss"], world["clock"])

    by_admin = client.post(f"/api/v1/staff/approvals/{approval_id}/approve", headers=boss)
    by_self = client.post(f"/api/v1/staff/approvals/{approval_id}/approve", headers=puppet)
    admin_list = client.get("/api/v1/staff/approvals", headers=boss)
    own_list = client.get("/api/v1/staff/approvals", headers=puppet).json()

    assert by_admin.status_code == 403
    assert by_self.status_code == 403
    assert admin_list.status_code == 403
    assert own_list == []
    assert wraps_of(world, puppet_id) == 0


def test_refusal_is_recorded_and_keys_stay_withheld(client: Any, world: dict[str, Any]) -> None:
    """A refused account stays without keys, for new cases too; the refusal is audited."""
    puppet_id, puppet = enrol_puppet(client, world)
    ana = auth(client, world["ana"], world["clock"])
    approval_id = client.get("/api/v1/staff/approvals", headers=ana).json()[0]["id"]

    refused = client.post(f"/api/v1/staff/approvals/{approval_id}/refuse", headers=ana)
    again = client.post(f"/api/v1/staff/approvals/{approval_id}/approve", headers=ana)
    new = file_case(world, "Filed after the refusal")
    with unit_of_work(world["db"]) as db:
        row = db.get(KeyApproval, approval_id)
        status, decided_by = row.status, row.decided_by  # type: ignore[union-attr]
        actions = list(db.scalars(select(AuditEntry.action)))

    assert refused.status_code == 200
    assert again.status_code == 409
    assert (status, decided_by) == ("refused", world["ana"].account.id)
    assert "approval.refused" in actions
    assert client.get(f"/api/v1/cases/{new}", headers=puppet).status_code == 404
    assert wraps_of(world, puppet_id) == 0


def test_key_holders_get_a_contentless_notice(client: Any, world: dict[str, Any]) -> None:
    """The approvers hear "there is news, log in"; the admin and the new account do not."""
    enrol_puppet(client, world)

    with unit_of_work(world["db"]) as db:
        mails = list(db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "approval")))

    assert sorted(m.to_address for m in mails) == ["ana@example.com", "bob@example.com"]
    assert all("puppet" not in m.body and "Puppet" not in m.body for m in mails)


def test_the_admin_page_sets_no_password_and_shows_a_one_time_link(
    client: Any, world: dict[str, Any]
) -> None:
    """The admin form ignores any password; the link works once, with the person's own one."""
    token = web_log_in(client, world["boss"], world["clock"])

    made = client.post(
        "/admin/staff",
        data={
            "csrf": token,
            "email": "new@example.com",
            "password": "admin chosen password 1",
            "roles": "investigator",
        },
    )
    link = made.context["enrolment"]
    path = link.removeprefix("https://testserver")
    with unit_of_work(world["db"]) as db:
        account = db.scalars(
            select(StaffAccount).where(StaffAccount.email == "new@example.com")
        ).one()
        no_password = account.password_hash == ""
    client.cookies.clear()
    form = client.get(path)
    csrf = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
    done = client.post(
        path, data={"csrf": csrf, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    )
    reused = client.get(path)
    admin_try = client.post(
        "/api/v1/staff/session",
        json={"email": "new@example.com", "password": "admin chosen password 1", "totp": "000000"},
    )

    assert made.status_code == 200
    assert no_password
    assert form.status_code == 200
    assert done.template.name == "staff/enrolled.html"
    assert reused.status_code == 404
    assert admin_try.status_code == 401


def test_an_enrolment_link_expires_after_72_hours(client: Any, world: dict[str, Any]) -> None:
    """A link older than 72 hours no longer sets a password."""
    boss = auth(client, world["boss"], world["clock"])
    made = client.post(
        "/api/v1/admin/accounts",
        headers=boss,
        json={"email": "late@example.com", "name": "Late", "roles": ["investigator"]},
    ).json()
    world["clock"].advance(hours=72, seconds=1)

    late = client.post(
        "/api/v1/staff/enrolment",
        json={"token": made["enrolment_url"].rsplit("/", 1)[-1], "password": NEW_PASSWORD},
    )

    assert late.status_code == 404


def test_role_change_to_finance_removes_case_keys_at_once(
    client: Any, world: dict[str, Any]
) -> None:
    """investigator → finance: every case key of the account is gone in the same request."""
    bob_id = world["bob"].account.id
    held = wraps_of(world, bob_id)
    boss = auth(client, world["boss"], world["clock"])

    changed = client.patch(
        f"/api/v1/admin/accounts/{bob_id}", headers=boss, json={"roles": ["finance"]}
    )

    assert held == 1
    assert changed.status_code == 200, changed.text
    assert changed.json()["roles"] == ["finance"]
    assert wraps_of(world, bob_id) == 0


def test_deactivation_removes_keys_and_blocks_login(client: Any, world: dict[str, Any]) -> None:
    """A deactivated account holds no key and cannot log in, on the web or the API."""
    bob = world["bob"]
    boss = auth(client, world["boss"], world["clock"])

    off = client.patch(
        f"/api/v1/admin/accounts/{bob.account.id}", headers=boss, json={"active": False}
    )
    code = bob.code(world["clock"])
    api = client.post(
        "/api/v1/staff/session",
        json={"email": bob.account.email, "password": PASSWORD, "totp": code},
    )
    client.cookies.clear()
    token = CSRF.search(client.get("/staff/login").text).group(1)  # type: ignore[union-attr]
    web = client.post(
        "/staff/login",
        data={"csrf": token, "email": bob.account.email, "password": PASSWORD},
        follow_redirects=False,
    )

    assert off.status_code == 200
    assert off.json()["active"] is False
    assert wraps_of(world, bob.account.id) == 0
    assert api.status_code == 401
    assert web.status_code == 401


def test_reactivation_and_added_roles_wait_for_approval(client: Any, world: dict[str, Any]) -> None:
    """Back on, or given a role again: no key until a key holder approves, then the keys."""
    bob_id = world["bob"].account.id
    boss = auth(client, world["boss"], world["clock"])
    client.patch(f"/api/v1/admin/accounts/{bob_id}", headers=boss, json={"active": False})

    client.patch(f"/api/v1/admin/accounts/{bob_id}", headers=boss, json={"active": True})
    new = file_case(world, "Filed while bob waits")
    waiting = wraps_of(world, bob_id)
    ana = auth(client, world["ana"], world["clock"])
    pending = client.get("/api/v1/staff/approvals", headers=ana).json()
    for row in pending:
        client.post(f"/api/v1/staff/approvals/{row['id']}/approve", headers=ana)
    with unit_of_work(world["db"]) as db:
        cases = set(db.scalars(select(KeyWrap.case_id).where(KeyWrap.staff_id == bob_id)))

    assert waiting == 0
    assert [r["reason"] for r in pending] == ["reactivated"]
    assert cases == {world["old"], new}


def test_team_join_waits_for_approval(client: Any, world: dict[str, Any]) -> None:
    """Adding an investigator to a team queues nothing until a team key holder approves."""
    with unit_of_work(world["db"]) as db:
        made = build_world(db, world["clock"])
        late = made.staff("late@example.com")
        channel = made.channel.id
    token = web_log_in(client, world["boss"], world["clock"])

    client.post(
        f"/admin/channels/{channel}/members", data={"csrf": token, "staff_id": late.account.id}
    )
    with unit_of_work(world["db"]) as db:
        grants = list(db.scalars(select(PendingGrant.staff_id)))
        row = db.scalars(select(KeyApproval)).one()
        reason, row_channel = row.reason, row.channel_id

    assert late.account.id not in grants
    assert (reason, row_channel) == ("team_joined", channel)


def test_login_reset_stops_the_old_password_and_needs_approval(
    client: Any, world: dict[str, Any]
) -> None:
    """A reset kills the old password and keys; the new link's password gets keys on approval."""
    bob = world["bob"]
    token = web_log_in(client, world["boss"], world["clock"])

    page = client.post(
        f"/admin/staff/{bob.account.id}/state", data={"csrf": token, "do": "reset_totp"}
    )
    path = page.context["enrolment"].removeprefix("https://testserver")
    old = client.post(
        "/api/v1/staff/session",
        json={"email": bob.account.email, "password": PASSWORD, "totp": bob.code(world["clock"])},
    )
    held = wraps_of(world, bob.account.id)
    enrolled = client.post(
        "/api/v1/staff/enrolment",
        json={"token": path.rsplit("/", 1)[-1], "password": NEW_PASSWORD},
    ).json()
    mine = bearer(
        client, bob.account.email, NEW_PASSWORD, b32(enrolled["totp_secret"]), world["clock"]
    )
    before = client.get(f"/api/v1/cases/{world['old']}", headers=mine).status_code
    ana = auth(client, world["ana"], world["clock"])
    row = client.get("/api/v1/staff/approvals", headers=ana).json()[0]
    client.post(f"/api/v1/staff/approvals/{row['id']}/approve", headers=ana)
    after = client.get(f"/api/v1/cases/{world['old']}", headers=mine).status_code

    assert old.status_code == 401
    assert held == 0
    assert row["reason"] == "login_reset"
    assert (before, after) == (404, 200)


def test_new_endpoints_accept_only_json(client: Any, world: dict[str, Any]) -> None:
    """The provisioning endpoints answer 415 to anything but application/json."""
    answer = client.post(
        "/api/v1/staff/enrolment", content=b"token=x", headers={"content-type": "text/plain"}
    )

    assert answer.status_code == 415
    assert answer.json()["error"] == "unsupported_media_type"


def web_log_in(client: Any, person: Person, clock: FixedClock) -> str:
    client.cookies.clear()
    token = CSRF.search(client.get("/staff/login").text).group(1)  # type: ignore[union-attr]
    client.post(
        "/staff/login",
        data={"csrf": token, "email": person.account.email, "password": person.password},
    )
    client.post("/staff/login/totp", data={"csrf": token, "code": person.code(clock)})
    clock.advance(seconds=30)
    return token


def test_an_admin_chosen_password_must_be_replaced_at_next_login(
    client: Any, world: dict[str, Any]
) -> None:
    """A marked account reaches only the own-password page; after it, the old password is dead."""
    bob = world["bob"]
    with unit_of_work(world["db"]) as db:
        db.get(StaffAccount, bob.account.id).password_must_change = True  # type: ignore[union-attr]
    api = client.post(
        "/api/v1/staff/session",
        json={"email": bob.account.email, "password": PASSWORD, "totp": bob.code(world["clock"])},
    )
    world["clock"].advance(seconds=30)

    client.cookies.clear()
    token = CSRF.search(client.get("/staff/login").text).group(1)  # type: ignore[union-attr]
    client.post(
        "/staff/login", data={"csrf": token, "email": bob.account.email, "password": PASSWORD}
    )
    step = client.post(
        "/staff/login/totp",
        data={"csrf": token, "code": bob.code(world["clock"])},
        follow_redirects=False,
    )
    blocked = client.get("/staff/cases", follow_redirects=False)
    chosen = client.post(
        "/staff/login/password",
        data={"csrf": token, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
        follow_redirects=False,
    )
    case = client.get(f"/staff/cases/{world['old']}")
    world["clock"].advance(seconds=30)
    old = client.post(
        "/api/v1/staff/session",
        json={"email": bob.account.email, "password": PASSWORD, "totp": bob.code(world["clock"])},
    )

    assert api.status_code == 403
    assert api.json()["error"] == "password_change_required"
    assert step.headers["location"] == "/staff/login/password"
    assert blocked.headers["location"] == "/staff/login"
    assert chosen.headers["location"] == "/staff/cases"
    assert case.status_code == 200
    assert old.status_code == 401


def test_a_routing_rule_that_adds_someone_waits_for_approval(
    client: Any, world: dict[str, Any]
) -> None:
    """Routing a category to an investigator is a team join: new reports wait for approval."""
    with unit_of_work(world["db"]) as db:
        made = build_world(db, world["clock"])
        category = made.category().id
    token = web_log_in(client, world["boss"], world["clock"])

    client.post(
        f"/admin/categories/{category}/rules",
        data={"csrf": token, "staff_id": world["bob"].account.id, "action": "add"},
    )
    new = file_case(world, "Filed after the rule")
    with unit_of_work(world["db"]) as db:
        reasons = list(db.scalars(select(KeyApproval.reason)))
        bob_keys = set(
            db.scalars(select(KeyWrap.case_id).where(KeyWrap.staff_id == world["bob"].account.id))
        )

    assert reasons == ["team_joined"]
    assert new not in bob_keys
    assert world["old"] in bob_keys


def test_the_approver_sees_the_key_code_the_person_was_shown(
    client: Any, world: dict[str, Any]
) -> None:
    """No approval before enrolment (409); then the approver's code is the person's own."""
    boss = auth(client, world["boss"], world["clock"])
    made = client.post(
        "/api/v1/admin/accounts",
        headers=boss,
        json={"email": "xin@example.com", "name": "Xin", "roles": ["investigator"]},
    ).json()
    ana = auth(client, world["ana"], world["clock"])
    early = client.get("/api/v1/staff/approvals", headers=ana).json()[0]
    too_soon = client.post(f"/api/v1/staff/approvals/{early['id']}/approve", headers=ana)

    enrolled = client.post(
        "/api/v1/staff/enrolment",
        json={"token": made["enrolment_url"].rsplit("/", 1)[-1], "password": NEW_PASSWORD},
    ).json()
    later = client.get("/api/v1/staff/approvals", headers=ana).json()[0]

    assert early["key_code"] is None
    assert too_soon.status_code == 409
    assert too_soon.json()["error"] == "not_enrolled"
    assert re.fullmatch(r"[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}", enrolled["key_code"])
    assert later["key_code"] == enrolled["key_code"]
