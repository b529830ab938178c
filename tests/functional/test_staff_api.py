"""The staff JSON API over HTTP, as CONTRACT.md describes it."""

from __future__ import annotations

from hashlib import sha256
from typing import Any

import pytest
from sqlalchemy.orm import sessionmaker
from support import crafted
from support.evidence import reporter_upload, staff_upload
from support.staff_http import app_world, bearer
from support.staff_world import key_ring

from cases.db import unit_of_work
from cases.principals import ReporterPrincipal
from cases.reports.keys import CASE
from cases.reports.models import CaseItem, Receipt
from cases.reports.sealing import MESSAGE, open_text


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    with app_world(app, app_db) as made:
        clock = made.clock
        ana = made.staff("ana@example.com")
        bo = made.staff("bo@example.com")
        admin = made.staff("root@example.com", "admin")
        filed = made.file(exclude=[bo.account.id])
    staff_upload(app, ana, clock, filed.case.id, "a.txt", b"hi", "text/plain")
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


def test_staff_download_returns_a_reporter_file_byte_for_byte(
    client: Any, world: dict[str, Any]
) -> None:
    """A file the reporter streamed in comes back through the staff endpoint unchanged."""
    clock, case = world["clock"], world["filed"].case
    # Every byte value, and more than one encryption chunk; not a type the cleaner rewrites.
    data = bytes(range(256)) * 1200
    file_id = reporter_upload(client, world["filed"].receipt.formatted(), "scan.bin", data)
    auth = bearer(client, world["ana"], clock)

    entry = next(
        f
        for f in client.get(f"/api/v1/cases/{case.id}", headers=auth).json()["attachments"]
        if f["id"] == file_id
    )
    download = client.get(f"/api/v1/cases/{case.id}/attachments/{file_id}", headers=auth)

    assert download.status_code == 200
    assert download.content == data
    assert entry["author"] == "reporter"
    assert entry["size"] == len(data)
    assert entry["sha256"] == download.headers["x-content-sha256"] == sha256(data).hexdigest()


def test_staff_evidence_is_cleaned_and_named_like_reporter_files(
    app: Any, client: Any, world: dict[str, Any]
) -> None:
    """The staff form uses the one writer: metadata removed, the path dropped, 120 characters."""
    clock, case = world["clock"], world["filed"].case
    name = "C:\\Users\\ana\\" + "合同" * 100 + ".pdf"
    file_id = staff_upload(
        app,
        world["ana"],
        clock,
        case.id,
        name,
        crafted.pdf_with_author_and_xmp(),
        "application/pdf",
    )
    auth = bearer(client, world["ana"], clock)

    [entry] = [
        f
        for f in client.get(f"/api/v1/cases/{case.id}", headers=auth).json()["attachments"]
        if f["id"] == file_id
    ]
    download = client.get(f"/api/v1/cases/{case.id}/attachments/{file_id}", headers=auth)

    assert crafted.CANARY.encode() not in download.content
    assert entry["metadata_removed"] is True
    assert entry["author"] == "staff"
    assert entry["name"] == ("合同" * 100)[:120]


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
