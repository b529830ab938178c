"""The admin pages over HTTP: who may enter, accounts, channels, teams, directory, outbox."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker
from starlette.testclient import TestClient
from support.staff_http import app_world, log_in
from support.staff_world import ZONE, build_world

import crypto
from cases.audit.models import AuditEntry
from cases.db import unit_of_work
from cases.notify.service import NotifyConfig, Outbox
from cases.reports.models import Case, PendingGrant
from cases.staff.models import KeyApproval, StaffAccount

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    with app_world(app, app_db) as made:
        clock = made.clock
        boss = made.staff("boss@example.com", "admin")
        ana = made.staff("ana@example.com")
        bob = made.staff("bob@example.com")
        filed = made.file()
        channel_id = made.channel.id
    return {
        "clock": clock,
        "boss": boss,
        "ana": ana,
        "bob": bob,
        "case": filed.case,
        "channel": channel_id,
        "db": app_db,
    }


def test_only_admins_enter(client: Any, world: dict[str, Any]) -> None:
    """Nobody logged in goes to the login page; an investigator gets 403; an admin the page."""
    anonymous = client.get("/admin/staff", follow_redirects=False)
    log_in(client, world["ana"], world["clock"])
    investigator = client.get("/admin/staff")

    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/staff/login"
    assert investigator.status_code == 403


def test_admin_sees_counts_and_the_recovery_warning(client: Any, world: dict[str, Any]) -> None:
    """The overview shows counts, no report text, and warns that no recovery key exists."""
    world["clock"].advance(days=1)  # the case was filed today: counted from tomorrow
    log_in(client, world["boss"], world["clock"])

    page = client.get("/admin")

    assert page.template.name == "admin/overview.html"
    assert page.context["overview"].open_cases == 1
    assert page.context["recovery_missing"] is True
    assert "Orders moved to a rival" not in page.text


def test_create_account_checks_roles_and_gives_a_link(client: Any, world: dict[str, Any]) -> None:
    """admin+auditor is refused with the field error; a good one gets an enrolment link."""
    token = log_in(client, world["boss"], world["clock"])
    base = {"csrf": token, "email": "new@example.com", "name": "New"}

    mixed = client.post("/admin/staff", data={**base, "roles": ["admin", "auditor"]})
    made = client.post("/admin/staff", data={**base, "roles": "investigator"})
    with unit_of_work(world["db"]) as db:
        account = db.scalars(
            select(StaffAccount).where(StaffAccount.email == "new@example.com")
        ).one()
        enrolled = account.totp_enrolled

    assert mixed.context["errors"] == {"roles": "auditor_other"}
    assert made.status_code == 200
    assert made.context["enrolment"].startswith("https://testserver/staff/enrol/")
    assert enrolled is False


def test_deactivate_ends_sessions_and_is_audited(client: Any, world: dict[str, Any]) -> None:
    """A deactivated account's open session stops working; the audit trail names the change."""
    other = TestClient(client.app, base_url="https://testserver")
    log_in(other, world["ana"], world["clock"])
    token = log_in(client, world["boss"], world["clock"])

    done = client.post(
        f"/admin/staff/{world['ana'].account.id}/state",
        data={"csrf": token, "do": "deactivate"},
        follow_redirects=False,
    )
    after = other.get("/staff/cases", follow_redirects=False)
    with unit_of_work(world["db"]) as db:
        actions = list(db.scalars(select(AuditEntry.action)))

    assert done.status_code == 303
    assert after.headers["location"] == "/staff/login"
    assert "admin.staff_deactivated" in actions


def test_team_member_waits_for_a_key_holder(client: Any, world: dict[str, Any]) -> None:
    """Adding an investigator to the team queues no grant until a key holder approves."""
    with unit_of_work(world["db"]) as db:
        late = build_world(db, world["clock"]).staff("late@example.com")
    token = log_in(client, world["boss"], world["clock"])
    path = f"/admin/channels/{world['channel']}"

    added = client.post(
        f"{path}/members", data={"csrf": token, "staff_id": late.account.id}, follow_redirects=False
    )
    page = client.get(path)
    with unit_of_work(world["db"]) as db:
        grants = list(db.scalars(select(PendingGrant.staff_id)))
        waiting = list(db.scalars(select(KeyApproval.staff_id)))

    assert added.status_code == 303
    assert [m.email for m in page.context["members"]] == ["late@example.com"]
    assert late.account.id not in grants
    assert waiting == [late.account.id]


def test_category_added_and_reordered(client: Any, world: dict[str, Any]) -> None:
    """A new category appears last; moving it up swaps it with its neighbour."""
    token = log_in(client, world["boss"], world["clock"])
    path = f"/admin/channels/{world['channel']}"

    client.post(
        f"{path}/categories",
        data={"csrf": token, "slug": "gifts", "name_en": "Gifts", "name_zh": "礼品"},
    )
    new = client.get(path).context["channel"].categories[-1]
    client.post(f"/admin/categories/{new.id}", data={"csrf": token, "move": "up"})
    order = [c.slug for c in client.get(path).context["channel"].categories]

    assert new.slug == "gifts"
    assert order[-2:] == ["gifts", "other"]


def test_directory_upload_reports_missing_managers_and_cycles(
    client: Any, world: dict[str, Any]
) -> None:
    """A good CSV is imported with its missing manager listed; a cyclic one changes nothing."""
    token = log_in(client, world["boss"], world["clock"])
    header = "employee_id,name,email,department,manager_id\n"
    good = header + "E1,Li Na,li@example.com,Sales,E9\nE2,Wang Wei,wang@example.com,Sales,E1\n"
    cyclic = header + "C1,A,,X,C2\nC2,B,,X,C1\n"

    ok = client.post(
        "/admin/directory",
        data={"csrf": token},
        files={"file": ("dir.csv", good.encode(), "text/csv")},
    )
    bad = client.post(
        "/admin/directory",
        data={"csrf": token},
        files={"file": ("dir.csv", cyclic.encode(), "text/csv")},
    )
    search = client.get("/admin/directory?q=wang")

    assert ok.status_code == 200
    assert ok.context["result"].report.created == 2
    assert ok.context["result"].report.missing_managers == [("E1", "E9")]
    assert (bad.status_code, bad.context["error_code"]) == (422, "cycle")
    assert [e.employee_id for e in search.context["entries"]] == ["E2"]


def test_outbox_page_lists_status(client: Any, world: dict[str, Any]) -> None:
    """The outbox page shows the queued new-case mails with their status: one line for the
    case's team, without addresses (tests/functional/test_admin_outbox_team.py)."""
    with unit_of_work(world["db"]) as db:
        Outbox(db, world["clock"], NotifyConfig("https://x", ZONE)).case_filed(
            db.get(Case, world["case"].id)
        )
    log_in(client, world["boss"], world["clock"])

    page = client.get("/admin/outbox")

    assert [(m.to, m.status) for m in page.context["messages"]] == [(None, "pending")]


def test_admin_is_warned_of_a_swapped_public_key(client: Any, world: dict[str, Any]) -> None:
    """A public key changed in the database shows as an alert on the admin overview."""
    with unit_of_work(world["db"]) as db:
        db.execute(
            update(StaffAccount)
            .where(StaffAccount.id == world["bob"].account.id)
            .values(public_key=crypto.KeyPair.generate().public_bytes)
        )
    log_in(client, world["boss"], world["clock"])

    page = client.get("/admin")

    rows = page.context["overview"].untrusted_keys
    assert rows == (
        f"staff public key {world['bob'].account.id}: fails its MAC (not written by this portal)",
    )
    assert 'id="key-integrity"' in page.text


def test_a_report_arriving_moves_nothing_an_admin_can_watch(
    client: Any, app_db: sessionmaker[Any], world: dict[str, Any]
) -> None:
    """An admin reloading the overview and the outbox while a report is filed at 09:20 sees
    the same counts and rows until 10:00 (the mails) and the next day (the open cases): the
    pages do not give the minute a reporter filed."""
    clock = world["clock"]
    clock.advance(days=1, minutes=20)  # 09:20 the next day; yesterday's case counts

    def watched() -> tuple[object, ...]:
        log_in(client, world["boss"], clock)  # a fresh session each time (idle timeout)
        overview = client.get("/admin").context["overview"]
        rows = client.get("/admin/outbox").context["messages"]
        return overview.open_cases, overview.outbox_pending, tuple(rows)

    before = watched()
    with unit_of_work(app_db) as db:
        build_world(db, clock).file(summary="Kickbacks on the March orders")
    clock.advance(minutes=29)  # 09:50
    still = watched()
    clock.advance(minutes=10)  # 10:00: the new case's mails are queued for now
    at_the_hour = watched()
    clock.advance(days=1)
    next_day = watched()

    assert before[0] == 1
    assert still == before
    assert at_the_hour[0] == before[0]
    assert at_the_hour[1] > before[1]
    assert len(at_the_hour[2]) > len(before[2])
    assert next_day[0] == before[0] + 1
