"""The staff JSON API over HTTP, as CONTRACT.md describes it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import sessionmaker
from support.staff_http import app_world, bearer
from support.staff_world import SECRET, ZONE, key_ring

from cases.casework.service import CaseworkConfig, CaseworkService
from cases.db import unit_of_work
from cases.principals import ReporterPrincipal
from cases.reports.keys import CASE
from cases.reports.models import CaseItem, Receipt
from cases.reports.sealing import MESSAGE, open_text


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    with app_world(app, app_db) as made:
        db, clock = made.db, made.clock
        ana = made.staff("ana@example.com")
        bo = made.staff("bo@example.com")
        admin = made.staff("root@example.com", "admin")
        filed = made.file(exclude=[bo.account.id])
        work = CaseworkService(db, clock, CaseworkConfig(ZONE, SECRET))
        work.add_evidence(ana.principal(db, clock), filed.case.id, "a.txt", "text/plain", [b"hi"])
    return {"clock": clock, "ana": ana, "bo": bo, "admin": admin, "filed": filed}


def test_investigator_journey_over_the_api(client: Any, world: dict[str, Any], app_db: Any) -> None:
    """List, read, acknowledge, reply, note, download, conclude; the reporter sees the reply."""
    clock, case = world["clock"], world["filed"].case
    auth = bearer(client, world["ana"], clock)

    listed = client.get("/api/v1/cases", headers=auth).json()
    one = client.get(f"/api/v1/cases/{case.id}", headers=auth).json()
    steps = [
        client.post(
            f"/api/v1/cases/{case.id}/transition",
            headers=auth,
            json={"status": "acknowledged", "reason": "Received"},
        ),
        client.post(f"/api/v1/cases/{case.id}/messages", headers=auth, json={"body": "Thanks"}),
        client.post(f"/api/v1/cases/{case.id}/notes", headers=auth, json={"body": "Internal"}),
        client.post(
            f"/api/v1/cases/{case.id}/transition",
            headers=auth,
            json={"status": "concluded", "outcome": "substantiated", "reason": "Proven"},
        ),
    ]
    file_id = one["attachments"][0]["id"]
    download = client.get(f"/api/v1/cases/{case.id}/attachments/{file_id}", headers=auth)

    assert [item["id"] for item in listed["items"]] == [case.id]
    assert one["summary"] == "Orders moved to a rival"
    assert [s.status_code for s in steps] == [200, 201, 201, 200]
    assert steps[3].json()["status"] == "concluded"
    assert download.content == b"hi"
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["x-content-sha256"] == one["attachments"][0]["sha256"]
    assert reporter_messages(app_db, world) == ["Thanks"]


def reporter_messages(app_db: Any, world: dict[str, Any]) -> list[str]:
    """What the reporter's key opens: every message item (notes are not messages)."""
    filed = world["filed"]
    with unit_of_work(app_db) as db:
        receipt = db.get(Receipt, filed.case.receipt_id)
        key = key_ring(db).open_for_reporter(
            filed.case.id, CASE, ReporterPrincipal(receipt, filed.reporter_key)
        )
        assert key is not None
        items = db.query(CaseItem).filter_by(case_id=filed.case.id, kind="message").all()
        return [open_text(key, filed.case.id, MESSAGE, i.id, i.body) for i in items]


def test_refusals(client: Any, world: dict[str, Any]) -> None:
    """Excluded → 404, admin → 403, bad transition → 409, no reason → 422, no token → 401."""
    clock, case = world["clock"], world["filed"].case
    bo, admin, ana = (bearer(client, world[k], clock) for k in ("bo", "admin", "ana"))

    excluded = client.get(f"/api/v1/cases/{case.id}", headers=bo)
    admin_list = client.get("/api/v1/cases", headers=admin)
    close_new = client.post(
        f"/api/v1/cases/{case.id}/transition", headers=ana, json={"status": "closed", "reason": "x"}
    )
    no_reason = client.post(
        f"/api/v1/cases/{case.id}/transition",
        headers=ana,
        json={"status": "acknowledged", "reason": ""},
    )
    anonymous = client.get("/api/v1/cases")

    assert (excluded.status_code, excluded.json()["error"]) == (404, "case_not_found")
    assert admin_list.status_code == 403
    assert close_new.status_code == 409
    assert no_reason.status_code == 422
    assert anonymous.status_code == 401
    assert set(excluded.json()) >= {"error", "message"}


def test_wrong_password_and_throttle(client: Any, world: dict[str, Any], app: Any) -> None:
    """Wrong password → 401; after the limit → 429 with Retry-After."""
    ana = world["ana"]
    body = {"email": ana.account.email, "password": "wrong password", "totp": "000000"}

    answers = [client.post("/api/v1/staff/session", json=body) for _ in range(11)]

    assert answers[0].status_code == 401
    assert answers[-1].status_code == 429
    assert int(answers[-1].headers["retry-after"]) > 0
