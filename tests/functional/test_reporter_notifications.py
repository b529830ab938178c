"""Reporter actions tell the case team "there is news" by e-mail, with no content and no minute."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import crypto
from cases.clock import SystemClock
from cases.db import unit_of_work
from cases.notify.models import OutboxMessage
from cases.org.service import OrgService
from cases.staff.service import StaffService

PASSWORD = "correct horse battery staple 42"


def _seed(app_db: sessionmaker[Session]) -> dict[str, str]:
    with unit_of_work(app_db) as db:
        channel = OrgService(db).general_channel()
        StaffService(
            db, SystemClock(), server_secret=b"t" * 32, profile=crypto.PROFILES["test"]
        ).create("ina@example.com", PASSWORD, ["investigator"], name="Ina")
        category = next(c for c in channel.categories if c.slug == "kickbacks")
        return {"channel": channel.id, "category": category.id}


def _mails(app_db: sessionmaker[Session]) -> list[OutboxMessage]:
    with unit_of_work(app_db) as db:
        return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.kind)))


def test_filing_replying_and_evidence_queue_contentless_mails(
    client: Any, app_db: sessionmaker[Session]
) -> None:
    """A new case and the reporter's later message each queue one mail, on the hour, no content."""
    ids = _seed(app_db)
    summary = "CANARY-kickback-on-the-Acme-deal"

    filed = client.post(
        "/api/v1/reports",
        json={
            "channel": ids["channel"],
            "category": ids["category"],
            "summary": summary,
            "details": "Details of the kickback.",
            "subjects": [],
            "exclude": [],
            "identity": None,
        },
    )
    token = client.post(
        "/api/v1/reporter/session", json={"receipt": filed.json()["receipt"]}
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    client.post("/api/v1/reporter/messages", json={"body": "One more thing."}, headers=headers)
    client.post(
        "/api/v1/reporter/attachments",
        files={"file": ("note.txt", io.BytesIO(b"evidence"), "text/plain")},
        headers=headers,
    )

    mails = _mails(app_db)
    assert [(m.kind, m.to_address) for m in mails] == [
        ("new_case", "ina@example.com"),
        ("reporter_message", "ina@example.com"),
    ]
    for mail in mails:
        assert (mail.created_at.minute, mail.created_at.second) == (0, 0)
        assert summary not in mail.body
        assert summary not in mail.subject
        assert "/staff/login" in mail.body
