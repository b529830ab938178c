"""An investigator's day in Chromium: TOTP login to conclusion, axe on every page on the way."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from support.browser import axe_clean, submit
from support.db import TEST_SECRET
from support.staff_world import build_world, key_ring

import crypto
from cases.clock import FixedClock, SystemClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.principals import ReporterPrincipal
from cases.reports.keys import CASE
from cases.reports.models import Case, CaseItem, Receipt
from cases.reports.sealing import MESSAGE, open_text

pytestmark = pytest.mark.browser

LEDGER = b"account,amount\nA,100\n"


def seed(database_url: str) -> dict[str, Any]:
    """An investigator and a case received ten days ago, so it is overdue for acknowledgement."""
    engine = make_engine(database_url)
    clock = FixedClock(SystemClock().now() - timedelta(days=10))
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        world = build_world(db, clock)
        ana = world.staff("ana@example.com")
        filed = world.file()
    return {"engine": engine, "ana": ana, "filed": filed}


def test_investigator_journey(start_live_server: Callable[..., Any], page_js: Any) -> None:
    """Log in, find the overdue case, acknowledge, reply, note, upload, download, conclude."""
    server = start_live_server()
    data = seed(server.database_url)
    ana, case_id = data["ana"], data["filed"].case.id
    page = page_js

    page.goto(f"{server.url}/staff/login")
    axe_clean(page)
    page.fill("#email", ana.account.email)
    page.fill("#password", ana.password)
    submit(page, "/staff/login")
    axe_clean(page)
    page.fill("#code", crypto.totp_code(ana.totp_secret, time.time()))
    submit(page, "/staff/login/totp")
    page.select_option("#f-due", "overdue")
    page.locator("form.filters button").click()
    page.wait_for_load_state("load")
    axe_clean(page)
    page.locator(f"a[href='/staff/cases/{case_id}']").click()
    page.wait_for_load_state("load")
    axe_clean(page)
    page.select_option("#status", "acknowledged")
    page.fill("#reason", "Received and logged")
    submit(page, "/transition")
    page.fill("#body", "Thank you. We are looking into it.")
    submit(page, "/messages")
    page.fill("#note", "Check the CRM export first.")
    submit(page, "/notes")
    page.set_input_files(
        "#file", [{"name": "ledger.csv", "mimeType": "text/csv", "buffer": LEDGER}]
    )
    submit(page, "/evidence")
    with page.expect_download() as download_info:
        page.locator("a[download][href*='/files/']").click()
    downloaded = download_info.value.path().read_bytes()
    page.select_option("#status", "concluded")
    page.select_option("#outcome", "substantiated")
    page.fill("#reason", "The ledger proves it")
    submit(page, "/transition")
    axe_clean(page)
    page.goto(f"{server.url}/staff/account")
    axe_clean(page)
    page.locator("nav.staff-nav button[type=submit]").click()
    page.wait_for_load_state("load")
    after = page.goto(f"{server.url}/staff/cases")

    assert downloaded == LEDGER
    assert after is not None
    assert after.url.endswith("/staff/login")
    status, messages = reporter_side(data)
    assert status == "concluded"
    assert messages == ["Thank you. We are looking into it."]


def reporter_side(data: dict[str, Any]) -> tuple[str, list[str]]:
    """What the reporter's key opens: the case status and its messages (notes are not)."""
    filed = data["filed"]
    with unit_of_work(session_factory(data["engine"], TEST_SECRET)) as db:
        case = db.get(Case, filed.case.id)
        receipt = db.get(Receipt, filed.case.receipt_id)
        assert case is not None
        assert receipt is not None
        principal = ReporterPrincipal(receipt, filed.reporter_key)
        key = key_ring(db).open_for_reporter(case.id, CASE, principal)
        assert key is not None
        stmt = select(CaseItem).where(CaseItem.case_id == case.id, CaseItem.kind == "message")
        bodies = [open_text(key, case.id, MESSAGE, i.id, i.body) for i in db.scalars(stmt)]
    data["engine"].dispose()
    return case.status, bodies
