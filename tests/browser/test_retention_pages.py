"""Retention in Chromium, JS off, zh-CN and en, axe on each page: periods, dates, deletion."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pytest
from support.db import TEST_SECRET
from support.foureyes import held_case
from support.retention import axe_as_served
from support.staff_world import SECRET, ZONE, build_world

import crypto
from cases.clock import SystemClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.reports.models import Case, Status
from cases.retention import RetentionConfig, RetentionService

pytestmark = pytest.mark.browser

WORDS = {
    "zh-CN": {
        "period": "结案 30 个月后删除",
        "done": "保留 30 个月",
        "deleted_on": "将于 2028-07-31 删除",
        "send": "提交举报",
        "open": "打开我的举报",
        "gone": "此举报已被删除",
    },
    "en": {
        "period": "deleted 30 months after the case is closed",
        "done": "kept for 30 months",
        "deleted_on": "Deleted on 2028-07-31",
        "send": "Send report",
        "open": "Open my report",
        "gone": "This report has been deleted",
    },
}


def seed(database_url: str) -> dict[str, Any]:
    """Channel kept 30 months; an investigator; a case of hers closed on 2026-01-31."""
    engine = make_engine(database_url)
    clock = SystemClock()
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        world = build_world(db, clock)
        world.channel.retention_months = 30
        ana = world.staff("ana@example.com")
        case = world.file().case
        case.status, case.closed_on = Status.CLOSED, date(2026, 1, 31)
    return {"engine": engine, "ana": ana, "case_id": case.id}


def shred_all(engine: Any) -> None:
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        service = RetentionService(db, SystemClock(), RetentionConfig(ZONE, SECRET))
        for case in db.query(Case).all():
            service.shred(case)


def click(page: Any, name: str) -> None:
    page.get_by_role("button", name=name).click()
    page.wait_for_load_state("load")


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_retention_is_told_to_reporters_and_staff_and_a_deleted_receipt_says_so(
    start_live_server: Any, page_nojs: Any, browser: Any, locale: str
) -> None:
    """Landing and receipt pages give the period, the case page 'deleted on', then 'deleted'."""
    server = start_live_server()
    data = seed(server.database_url)
    words, page = WORDS[locale], page_nojs

    page.goto(f"{server.url}/")
    period = page.locator(".retention-periods").inner_text()
    axe_as_served(browser, page, locale)
    page.goto(f"{server.url}/report")
    page.select_option("#category", index=1)
    page.fill("#summary", "飞单" if locale == "zh-CN" else "Order diverted")
    page.fill("#details", "A-1001 went to a competitor on 1 March.")
    click(page, words["send"])
    receipt = page.locator(".receipt").inner_text().strip()
    done = page.locator(".retention-note").inner_text()
    axe_as_served(browser, page, locale)
    ana = data["ana"]
    page.goto(f"{server.url}/staff/login")
    page.fill("#email", ana.account.email)
    page.fill("#password", ana.password)
    page.locator("form[action$='/staff/login'] button[type=submit]").click()
    page.wait_for_load_state("load")
    page.fill("#code", crypto.totp_code(ana.totp_secret, time.time()))
    page.locator("form[action$='/staff/login/totp'] button[type=submit]").click()
    page.wait_for_load_state("load")
    page.goto(f"{server.url}/staff/cases/{data['case_id']}")
    staff = page.locator(".retention-date").inner_text()
    axe_as_served(browser, page, locale)
    shred_all(data["engine"])
    page.goto(f"{server.url}/status")
    page.fill("#receipt", receipt)
    click(page, words["open"])
    heading = page.locator("h1").inner_text()
    axe_as_served(browser, page, locale)

    assert words["period"] in period
    assert words["done"] in done
    assert words["deleted_on"] in staff
    assert heading == words["gone"]


def log_in(page: Any, server: Any, person: Any) -> None:
    page.context.clear_cookies()
    page.goto(f"{server.url}/staff/login")
    page.fill("#email", person.account.email)
    page.fill("#password", person.password)
    page.locator("form[action$='/staff/login'] button[type=submit]").click()
    page.wait_for_load_state("load")
    page.fill("#code", crypto.totp_code(person.totp_secret, time.time()))
    page.locator("form[action$='/staff/login/totp'] button[type=submit]").click()
    page.wait_for_load_state("load")


@pytest.mark.parametrize("locale", ["zh-CN"])
def test_ending_a_hold_is_proposed_and_approved_on_the_case_page_by_two_key_holders(
    start_live_server: Any, page_nojs: Any, browser: Any, locale: str
) -> None:
    """An investigator proposes on the case page; the admin's hold page shows the proposal and
    why he, holding no key, cannot approve; a colleague holding the key approves on the case
    page and the hold is lifted (axe on every page)."""
    server = start_live_server()
    engine = make_engine(server.database_url)
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        held = held_case(db, SystemClock())
    page = page_nojs

    log_in(page, server, held.ana)
    page.goto(f"{server.url}/staff/cases/{held.case_id}")
    page.fill("#release-reason", "Court case closed")
    page.locator("form[action$='/hold/release'] button").click()
    page.wait_for_load_state("load")
    proposed = page.locator("section[aria-labelledby=retention-heading] div.notice").inner_text()
    axe_as_served(browser, page, locale)
    log_in(page, server, held.boss)
    page.goto(f"{server.url}/admin/holds")
    listed = page.locator(".case-table").inner_text()
    admin_buttons = page.locator("form[action$='/admin/holds/release/approve']").count()
    axe_as_served(browser, page, locale)
    log_in(page, server, held.bob)
    page.goto(f"{server.url}/staff/cases/{held.case_id}")
    offered = page.locator("section[aria-labelledby=retention-heading]").inner_text()
    axe_as_served(browser, page, locale)
    page.locator("form[action$='/hold/release/approve'] button").click()
    page.wait_for_load_state("load")
    after = page.locator("main").inner_text()
    axe_as_served(browser, page, locale)
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        lifted = db.get(Case, held.case_id).hold_reason is None  # type: ignore[union-attr]
    engine.dispose()

    assert "提议解除诉讼保留" in proposed
    assert "Court case closed" in proposed
    assert "只有持有此案件密钥的调查员才能批准解除其诉讼保留" in listed
    assert admin_buttons == 0
    assert "批准：解除诉讼保留" in offered
    assert "诉讼保留已解除" in after
    assert lifted
