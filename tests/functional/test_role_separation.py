"""Separation of duties over HTTP: the admin pages and API refuse forbidden pairs, existing
accounts holding one are named at start-up and on every admin page, and case content is for
case readers only."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker
from starlette.testclient import TestClient
from support.staff_http import app_world, bearer, log_in
from support.staff_world import PASSWORD, SECRET, ZONE, key_ring

from cases.casework.service import CaseworkConfig, CaseworkService
from cases.db import unit_of_work
from cases.reports.keys import CASE
from cases.staff.models import StaffAccount

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
REPORT_TEXT = "Orders moved to a rival"


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    with app_world(app, app_db) as made:
        db, clock = made.db, made.clock
        people = {
            "boss": made.staff("boss@example.com", "admin"),
            "ana": made.staff("ana@example.com", "investigator"),
            "both": made.legacy_staff("both@example.com", "investigator", "custodian"),
        }
        for role in ("custodian", "finance", "reward_approver"):
            people[role] = made.staff(f"{role}@example.com", role)
        filed = made.file(summary=REPORT_TEXT)
        work = CaseworkService(db, clock, CaseworkConfig(ZONE, SECRET))
        key = work.require_key(people["ana"].principal(db, clock), filed.case)
        # Even holding the case key, the roles that read no case are refused its content.
        for role in ("custodian", "finance", "reward_approver"):
            key_ring(db).wrap_for_staff(filed.case.id, CASE, key, people[role].account)
        note = work.add_note(people["ana"].principal(db, clock), filed.case.id, "A note")
    return {"clock": clock, "case": filed.case.id, "note": note.id, "db": app_db, **people}


def accounts(app_db: sessionmaker[Any]) -> int:
    with unit_of_work(app_db) as db:
        return int(db.scalar(select(func.count()).select_from(StaffAccount)) or 0)


def test_start_up_names_the_accounts_and_serves(
    app: Any, world: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """An account made before the table, holding investigator + custodian: the app starts and
    logs a warning naming it (and no other account)."""
    caplog.set_level(logging.WARNING, logger="portal.roles")

    with TestClient(app, base_url="https://testserver") as client:
        health = client.get("/healthz")

    warnings = [r.getMessage() for r in caplog.records if r.name == "portal.roles"]
    assert health.status_code == 200
    assert len(warnings) == 1
    assert "both@example.com" in warnings[0]
    assert "reader_custodian" in warnings[0]


def test_every_admin_page_names_the_accounts(client: Any, world: dict[str, Any]) -> None:
    """The admin banner lists each account holding a forbidden pair, with the rule it breaks."""
    log_in(client, world["boss"], world["clock"])

    pages = [client.get(path) for path in ("/admin", "/admin/staff", "/admin/channels")]

    for page in pages:
        assert page.status_code == 200
        assert [a.email for a in page.context["role_conflicts"]] == ["both@example.com"]
        assert "Someone who reads cases cannot also be an identity custodian." in page.text


def test_the_admin_page_refuses_investigator_plus_custodian(
    client: Any, world: dict[str, Any]
) -> None:
    """Creating or changing an account to investigator + custodian on the web: 422 with the
    rule, no account made, roles unchanged."""
    token = log_in(client, world["boss"], world["clock"])
    before = accounts(world["db"])
    pair = ["investigator", "custodian"]

    made = client.post(
        "/admin/staff",
        data={"csrf": token, "email": "new@example.com", "password": PASSWORD, "roles": pair},
    )
    changed = client.post(
        f"/admin/staff/{world['ana'].account.id}/roles", data={"csrf": token, "roles": pair}
    )

    for answer in (made, changed):
        assert answer.status_code == 422
        assert answer.context["errors"] == {"roles": "reader_custodian"}
    assert accounts(world["db"]) == before
    with unit_of_work(world["db"]) as db:
        ana = db.get(StaffAccount, world["ana"].account.id)
        assert ana is not None
        assert ana.role_names == {"investigator"}


def test_the_admin_api_refuses_forbidden_pairs(client: Any, world: dict[str, Any]) -> None:
    """POST /api/v1/admin/accounts and PATCH …/{id} (the insiders issue's provisioning API):
    investigator + custodian, auditor + admin, approver + finance are 422, nothing changes."""
    paths = {r.path for r in client.app.routes if hasattr(r, "path")}
    if "/api/v1/admin/accounts" not in paths:
        pytest.skip("the provisioning API arrives with the insiders issue's accounts work")
    admin = bearer(client, world["boss"], world["clock"])
    before = accounts(world["db"])
    pairs = [["investigator", "custodian"], ["auditor", "admin"], ["reward_approver", "finance"]]

    made = [
        client.post(
            "/api/v1/admin/accounts",
            headers=admin,
            json={"email": f"p{i}@example.com", "name": "P", "roles": pair},
        )
        for i, pair in enumerate(pairs)
    ]
    changed = client.patch(
        f"/api/v1/admin/accounts/{world['ana'].account.id}",
        headers=admin,
        json={"roles": ["investigator", "custodian"]},
    )

    assert [a.status_code for a in made] == [422, 422, 422]
    assert changed.status_code == 422
    assert accounts(world["db"]) == before


@pytest.mark.parametrize("role", ["custodian", "finance", "reward_approver"])
def test_content_is_for_case_readers_only(client: Any, world: dict[str, Any], role: str) -> None:
    """Custodians, finance and reward approvers get 403 from every content endpoint, even
    holding the case key, and never see the report's text; the investigator reads it."""
    case, note = world["case"], world["note"]
    own = bearer(client, world[role], world["clock"])
    reader = bearer(client, world["ana"], world["clock"])
    api = [
        f"/api/v1/cases/{case}",
        f"/api/v1/cases/{case}/items",
        f"/api/v1/cases/{case}/subjects",
        f"/api/v1/cases/{case}/protection",
    ]

    answers = [client.get(path, headers=own) for path in api]
    redact = client.post(
        f"/api/v1/cases/{case}/items/{note}/redact", headers=own, json={"start": 0, "end": 1}
    )
    read = client.get(api[0], headers=reader)

    assert [a.status_code for a in answers] == [403, 403, 403, 403]
    assert redact.status_code == 403
    assert all(REPORT_TEXT not in a.text for a in answers)
    assert read.status_code == 200
    assert REPORT_TEXT in read.text
