"""The reporter's whole journey in Chromium, JavaScript off, zh-CN and en, axe on every page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from support.browser import assert_page_accessible
from support.db import TEST_SECRET
from support.reporter_http import seed_url, staff_reply

import crypto
from cases.clock import SystemClock
from cases.db import make_engine, session_factory

pytestmark = pytest.mark.browser

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


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_reporter_journey_without_javascript(
    start_live_server: Any, page_nojs: Any, browser: Any, locale: str
) -> None:
    """File with two files, keep the receipt, come back, read the reply, answer, add, log out."""
    server = start_live_server()
    ids = seed_url(server.database_url)
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
    engine = make_engine(server.database_url)
    staff_reply(session_factory(engine, TEST_SECRET), ids["staff"], words["staff"], SystemClock())
    engine.dispose()

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
