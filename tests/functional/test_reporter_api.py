"""The reporter's JSON API journey (CONTRACT.md, "Reporter") over HTTP against a real database."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from support.arrivals import list_arrivals
from support.reporter_http import PASSWORD, login, report_body, seed, staff_reply
from support.staff_world import key_ring

import crypto
from cases.clock import FixedClock, SystemClock
from cases.db import unit_of_work
from cases.principals import StaffPrincipal
from cases.reports.attachments import AttachmentReader
from cases.reports.keys import CASE
from cases.reports.models import Attachment, Case
from cases.staff.service import StaffService


def test_channels_list_the_seeded_categories(client: Any, app_db: sessionmaker[Session]) -> None:
    """GET /api/v1/channels lists each channel with its categories, in the caller's language."""
    seed(app_db)

    response = client.get("/api/v1/channels", headers={"Accept-Language": "zh-CN"})

    assert response.status_code == 200
    [channel] = response.json()
    assert channel["name"] == "综合"
    assert any(c["name"].startswith("飞单") for c in channel["categories"])


def test_recipients_list_the_team_and_unknown_channel_is_404(
    client: Any, app_db: sessionmaker[Session]
) -> None:
    """The recipients of a channel are its team; a channel that does not exist is 404."""
    ids = seed(app_db)

    found = client.get(f"/api/v1/channels/{ids['channel']}/recipients")
    missing = client.get("/api/v1/channels/nope/recipients")

    assert found.json() == [{"id": ids["staff"], "name": "Ina"}]
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"


def test_full_journey_file_login_read_reply_attach_logout(
    client: Any, app_db: sessionmaker[Session]
) -> None:
    """File, log in, read a staff reply, answer, add a file, log out: all per the contract."""
    ids = seed(app_db)

    filed = client.post("/api/v1/reports", json=report_body(ids))
    receipt = filed.json()["receipt"]
    headers = login(client, receipt.lower().replace("-", " "))
    staff_reply(app_db, ids["staff"], "Thank you. Which order number?")
    sent = client.post("/api/v1/reporter/messages", json={"body": "Order A-1001."}, headers=headers)
    upload = client.post(
        "/api/v1/reporter/attachments",
        files={"file": ("../../etc/order.txt", io.BytesIO(b"order A-1001"), "text/plain")},
        headers=headers,
    )
    report = client.get("/api/v1/reporter/report", headers=headers).json()
    closed = client.delete("/api/v1/reporter/session", headers=headers)
    after = client.get("/api/v1/reporter/report", headers=headers)

    assert filed.status_code == 201
    assert set(filed.json()) == {"receipt", "acknowledge_by", "feedback_by"}
    assert sent.status_code == 201
    assert upload.status_code == 201
    assert upload.json()["name"] == "evidence-1.txt"  # renamed: keep_names was not sent
    assert upload.json()["size"] == 12
    assert report["status"] == "new"
    assert report["category"] == ids["category"]
    assert report["messages"] == [
        {"author": "staff", "body": "Thank you. Which order number?", "at": "2026-03-02T10:30:00Z"},
        {"author": "reporter", "body": "Order A-1001.", "at": report["submitted_on"]},
    ]
    assert report["attachments"] == [upload.json()]
    assert report["reward"] is None
    assert report["identity_disclosure"] is None
    assert report["linked"] == []
    assert closed.status_code == 204
    assert after.status_code == 401


def test_receipt_typo_is_422_and_wrong_receipt_is_401(
    client: Any, app_db: sessionmaker[Session]
) -> None:
    """A check-character failure is 422 with a hint; a well-formed unknown receipt is 401."""
    ids = seed(app_db)
    receipt = client.post("/api/v1/reports", json=report_body(ids)).json()["receipt"]
    typo = receipt[:-1] + ("0" if receipt[-1] != "0" else "1")
    other = crypto.new_receipt().formatted()

    typo_answer = client.post("/api/v1/reporter/session", json={"receipt": typo})
    wrong_answer = client.post("/api/v1/reporter/session", json={"receipt": other})

    assert typo_answer.status_code == 422
    assert typo_answer.json()["error"] == "receipt_typo"
    assert "typing mistake" in typo_answer.json()["message"]
    assert wrong_answer.status_code == 401
    assert wrong_answer.json()["error"] == "wrong_receipt"


def test_guessing_one_selector_is_throttled(
    client: Any, app, app_db: sessionmaker[Session]
) -> None:  # type: ignore[no-untyped-def]
    """After the allowed failures on one selector, more guesses are refused with 429, but the
    right receipt still opens the report (DESIGN.md, "Availability")."""
    ids = seed(app_db)
    receipt = crypto.parse_receipt(
        client.post("/api/v1/reports", json=report_body(ids)).json()["receipt"]
    )
    limit = app.state.settings.limits.receipt_failures_per_selector
    wrong = crypto.Receipt(receipt.selector, "0" * 16).formatted()

    answers = [
        client.post("/api/v1/reporter/session", json={"receipt": wrong}).status_code
        for _ in range(limit)
    ]
    again = client.post("/api/v1/reporter/session", json={"receipt": wrong})
    right = client.post("/api/v1/reporter/session", json={"receipt": receipt.formatted()})

    assert answers == [401] * limit
    assert again.status_code == 429
    assert right.status_code == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"summary": ""}, "summary"),
        ({"summary": "x" * 201}, "summary"),
        ({"category": "nope"}, "category"),
        ({"details": 5}, "details"),
        ({"exclude": ["someone-else"]}, "exclude"),
    ],
)
def test_bad_reports_are_422_and_store_nothing(
    client: Any, app_db: sessionmaker[Session], change: dict[str, Any], field: str
) -> None:
    """A missing, too long or wrong field is 422 naming the field, and no case is stored."""
    ids = seed(app_db)

    response = client.post("/api/v1/reports", json=report_body(ids, **change))

    assert response.status_code == 422
    assert field in response.json()["fields"]
    with unit_of_work(app_db) as db:
        assert db.scalar(select(func.count()).select_from(Case)) == 0


def test_empty_attachment_is_422_and_stores_nothing(
    client: Any, app_db: sessionmaker[Session]
) -> None:
    """An empty file is refused with 422 and leaves no attachment row behind."""
    ids = seed(app_db)
    receipt = client.post("/api/v1/reports", json=report_body(ids)).json()["receipt"]
    headers = login(client, receipt)

    response = client.post(
        "/api/v1/reporter/attachments",
        files={"file": ("empty.pdf", io.BytesIO(b""), "application/pdf")},
        headers=headers,
    )

    assert response.status_code == 422
    assert response.json()["error"] == "empty_file"
    with unit_of_work(app_db) as db:
        assert db.scalar(select(func.count()).select_from(Attachment)) == 0


def test_over_limit_attachment_is_413_and_stores_nothing(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """A file over the per-file limit stops with 413 and leaves no chunk behind."""
    from dataclasses import replace

    app.state.settings = replace(
        app.state.settings, limits=replace(app.state.settings.limits, upload_max_file=100_000)
    )
    ids = seed(app_db)
    receipt = client.post("/api/v1/reports", json=report_body(ids)).json()["receipt"]
    headers = login(client, receipt)

    response = client.post(
        "/api/v1/reporter/attachments",
        files={"file": ("big.bin", io.BytesIO(b"x" * 300_000), "application/octet-stream")},
        headers=headers,
    )

    assert response.status_code == 413
    with unit_of_work(app_db) as db:
        assert db.scalar(select(func.count()).select_from(Attachment)) == 0


def test_staff_can_read_the_uploaded_file_back(client: Any, app_db: sessionmaker[Session]) -> None:
    """A reporter's file decrypts for a staff member holding the case key, byte for byte."""
    ids = seed(app_db)
    receipt = client.post("/api/v1/reports", json=report_body(ids)).json()["receipt"]
    headers = login(client, receipt)
    payload = bytes(range(256)) * 1000
    client.post(
        "/api/v1/reporter/attachments",
        files={"file": ("data.bin", io.BytesIO(payload), "application/octet-stream")},
        headers=headers,
    )
    list_arrivals(app_db)  # the jobs round lists the case and the file at their hour

    with unit_of_work(app_db) as db:
        service = StaffService(
            db, SystemClock(), server_secret=b"t" * 32, profile=crypto.PROFILES["test"]
        )
        account = service.by_email("ina@example.com")
        assert account is not None
        principal = StaffPrincipal(account, service.check_password(account, PASSWORD))
        case = db.scalars(select(Case)).one()
        key = key_ring(db).open_for_staff(case.id, CASE, principal)
        assert key is not None
        reader = AttachmentReader(db)
        [meta] = reader.files(case.id, key)
        data = b"".join(reader.open(case.id, meta.id, key).chunks)

    assert data == payload
    assert meta.cleaned is False


def test_reporter_session_ends_when_idle(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """Past the idle timeout the reporter token no longer opens the case."""

    clock = FixedClock(datetime(2026, 3, 2, 9, 0))
    app.state.clock = clock
    ids = seed(app_db)
    receipt = client.post("/api/v1/reports", json=report_body(ids)).json()["receipt"]
    headers = login(client, receipt)
    idle = app.state.settings.limits.reporter_session_idle

    clock.advance(seconds=idle - 1)
    fresh = client.get("/api/v1/reporter/report", headers=headers)
    clock.advance(seconds=idle + 1)
    stale = client.get("/api/v1/reporter/report", headers=headers)

    assert fresh.status_code == 200
    assert stale.status_code == 401


def test_attachment_in_another_field_is_refused(client: Any, app_db: sessionmaker[Session]) -> None:
    """Only the field `file` is read; a file under another name is a 422 and is not stored."""
    ids = seed(app_db)
    headers = login(client, client.post("/api/v1/reports", json=report_body(ids)).json()["receipt"])

    response = client.post(
        "/api/v1/reporter/attachments",
        files={"upload": ("a.txt", io.BytesIO(b"abc"), "text/plain")},
        headers=headers,
    )

    assert response.status_code == 422
    with unit_of_work(app_db) as db:
        assert db.scalar(select(func.count()).select_from(Attachment)) == 0
