"""The reporter's side in functional tests: a seeded channel and investigator, report bodies,
form tokens and logins over the API and the pages."""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import crypto
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import Clock, FixedClock, SystemClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.org.service import OrgService
from cases.principals import StaffPrincipal
from cases.reports.models import Attachment, AttachmentChunk, Case
from cases.staff.service import StaffService
from support.arrivals import list_arrivals
from support.db import TEST_SECRET
from support.staff_world import ZONE

PASSWORD = "correct horse battery staple 42"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
ONCE = re.compile(r'name="once" value="([^"]+)"')
# The empty file part a browser sends when no file was chosen.
NO_FILE = [("files", ("", io.BytesIO(b""), "application/octet-stream"))]


def seed(app_db: sessionmaker[Session]) -> dict[str, str]:
    """The General channel and one investigator (Ina); returns their ids."""
    with unit_of_work(app_db) as db:
        channel = OrgService(db).general_channel()
        staff = StaffService(
            db, SystemClock(), server_secret=b"t" * 32, profile=crypto.PROFILES["test"]
        ).create("ina@example.com", PASSWORD, ["investigator"], name="Ina")
        category = next(c for c in channel.categories if c.slug == "order-diversion")
        return {"channel": channel.id, "category": category.id, "staff": staff.account.id}


def seed_url(database_url: str) -> dict[str, str]:
    """`seed` on a live server's database (by its URL)."""
    engine = make_engine(database_url)
    try:
        return seed(session_factory(engine, TEST_SECRET))
    finally:
        engine.dispose()


def staff_reply(
    app_db: sessionmaker[Session], staff_id: str, text: str, clock: Clock | None = None
) -> None:
    """A staff message written through the domain: the case key opened as that investigator."""
    clock = clock or FixedClock(datetime(2026, 3, 2, 10, 30))
    with unit_of_work(app_db) as db:
        list_arrivals(db, clock)  # the jobs round has listed the case by the hour staff reply
        service = StaffService(db, clock, server_secret=b"t" * 32, profile=crypto.PROFILES["test"])
        account = service.by_email("ina@example.com")
        assert account is not None
        assert account.id == staff_id
        principal = StaffPrincipal(account, service.check_password(account, PASSWORD))
        case = db.scalars(select(Case)).one()
        CaseworkService(db, clock, CaseworkConfig(ZONE, b"t" * 32)).add_message(
            principal, case.id, text
        )


def report_body(ids: dict[str, str], **extra: Any) -> dict[str, Any]:
    """A valid POST /api/v1/reports body for the seeded channel."""
    return {
        "channel": ids["channel"],
        "category": ids["category"],
        "summary": "Orders diverted to a competitor",
        "details": "Sales rep Wang moved the Acme order to a rival on 1 March.",
        "subjects": [{"name": "Wang Wei"}],
        "exclude": [],
        "identity": None,
        **extra,
    }


def login(client: Any, receipt: str) -> dict[str, str]:
    """Log in over the reporter API with a formatted receipt: the Authorization header."""
    response = client.post("/api/v1/reporter/session", json={"receipt": receipt})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def form_tokens(client: Any) -> dict[str, str]:
    """The CSRF and one-time tokens of a fresh report form."""
    page = client.get("/report").text
    return {"csrf": CSRF.findall(page)[0], "once": ONCE.findall(page)[0]}


def fields(ids: dict[str, str], tokens: dict[str, str], **extra: str) -> dict[str, Any]:
    """A valid report form (zh-CN words) for the seeded channel."""
    return {
        **tokens,
        "channel": ids["channel"],
        "category": ids["category"],
        "summary": "飞单：订单被转给竞争对手",
        "details": "销售王伟把 Acme 的订单转给了竞争对手。",
        "subject_name": ["王伟", ""],
        "subject_id": ["", ""],
        "mode": "anonymous",
        "website": "",
        **extra,
    }


def counts(app_db: sessionmaker[Session]) -> tuple[int, int, int]:
    """How many cases, attachments and attachment chunks are stored."""
    with unit_of_work(app_db) as db:
        return (
            db.scalar(select(func.count()).select_from(Case)) or 0,
            db.scalar(select(func.count()).select_from(Attachment)) or 0,
            db.scalar(select(func.count()).select_from(AttachmentChunk)) or 0,
        )
