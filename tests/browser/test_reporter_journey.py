"""The reporter's whole journey in Chromium, JavaScript off, zh-CN and en, axe on every page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from support.browser import blocking_violations, describe, run_axe
from support.db import TEST_SECRET
from support.staff_world import ZONE

import crypto
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import SystemClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.org.service import OrgService
from cases.principals import StaffPrincipal
from cases.reports.models import Case
from cases.staff.service import StaffService

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple 42"
HAN = re.compile(r"[\u4e00-\u9fff]")
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
WORDS = {
    "zh-CN": {
        "send": "提交举报",
        "open": "打开我的举报",
        "reply": "发送消息",
        "upload": "上传",
        "logout": "退出",
        "staff": "请问是哪一个订单？",
        "answer": "订单编号 A-1001",
    },
    "en": {
        "send": "Send report",
        "open": "Open my report",
        "reply": "Send message",
        "upload": "Upload",
        "logout": "Log out",
        "staff": "Which order was it?",
        "answer": "Order number A-1001",
    },
}


def seed(database_url: str) -> None:
    with unit_of_work(session_factory(make_engine(database_url), TEST_SECRET)) as db:
        OrgService(db).general_channel()
        StaffService(
            db, SystemClock(), server_secret=b"t" * 32, profile=crypto.PROFILES["test"]
        ).create("ina@example.com", PASSWORD, ["investigator"], name="Ina")


def staff_reply(database_url: str, text: str) -> None:
    """The case team answers through the domain: case key opened as the investigator."""
    with unit_of_work(session_factory(make_engine(database_url), TEST_SECRET)) as db:
        service = StaffService(
            db, SystemClock(), server_secret=b"t" * 32, profile=crypto.PROFILES["test"]
        )
        account = service.by_email("ina@example.com")
        assert account is not None
        principal = StaffPrincipal(account, service.check_password(account, PASSWORD))
        case = db.scalars(select(Case)).one()
        CaseworkService(db, SystemClock(), CaseworkConfig(ZONE, b"t" * 32)).add_message(
            principal, case.id, text
        )


def assert_page_accessible(browser: Any, page: Any, locale: str) -> None:
    """axe on the page as the JS-free browser got it (axe itself needs JS: a second context
    is served the same HTML at the same address, so styles load as they did)."""
    # A click that submits a form returns once navigation starts: wait for the new page.
    page.wait_for_load_state("load")
    html, url = page.content(), page.url
    context = browser.new_context(java_script_enabled=True, locale=locale)
    try:
        context.route(url, lambda route: route.fulfill(body=html, content_type="text/html"))
        checker = context.new_page()
        checker.goto(url)
        violations = blocking_violations(run_axe(checker))
    finally:
        context.close()
    assert not violations, f"axe on {url} ({locale}):\n{describe(violations)}"


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_reporter_journey_without_javascript(
    start_live_server: Any, page_nojs: Any, browser: Any, locale: str
) -> None:
    """File with two files, keep the receipt, come back, read the reply, answer, add, log out."""
    server = start_live_server()
    seed(server.database_url)
    words = WORDS[locale]
    page = page_nojs

    page.goto(f"{server.url}/report")
    assert_page_accessible(browser, page, locale)
    page.select_option("#category", index=1)
    page.fill("#summary", "飞单" if locale == "zh-CN" else "Order diverted")
    page.fill("#details", "A-1001 went to a competitor on 1 March.")
    page.fill("#subject-name-1", "王伟")
    page.set_input_files(
        "#files",
        [
            {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": JPEG},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"meeting notes"},
        ],
    )
    page.get_by_role("button", name=words["send"]).click()
    receipt = page.locator(".receipt").inner_text().strip()
    assert_page_accessible(browser, page, locale)
    staff_reply(server.database_url, words["staff"])

    page.goto(f"{server.url}/status")
    assert_page_accessible(browser, page, locale)
    page.fill("#receipt", receipt)
    page.get_by_role("button", name=words["open"]).click()
    assert words["staff"] in page.locator(".message--staff").inner_text()
    assert_page_accessible(browser, page, locale)
    page.fill("#body", words["answer"])
    page.get_by_role("button", name=words["reply"]).click()
    assert words["answer"] in page.locator(".message--reporter").inner_text()
    page.set_input_files(
        "#evidence",
        [{"name": "contract.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"}],
    )
    page.get_by_role("button", name=words["upload"]).click()
    page.locator("#files li").nth(2).wait_for()
    files = page.locator("#files li").all_inner_texts()
    with page.expect_navigation():
        page.get_by_role("button", name=words["logout"]).click()
    assert_page_accessible(browser, page, locale)

    crypto.parse_receipt(receipt)
    assert len(files) == 3
    assert bool(HAN.search(page.locator("h1").inner_text())) is (locale == "zh-CN")
    assert page.requests.foreign(server.url) == []
