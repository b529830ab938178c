"""The reporter's bad paths in Chromium, JavaScript off, zh-CN and en: no word and no code lost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.browser import assert_page_accessible, blocking_violations, describe, run_axe
from support.reporter_http import seed_url

import crypto
from portal.settings import Limits

pytestmark = pytest.mark.browser

MAX_FILE = 2000
WORDS = {
    "zh-CN": {
        "send": "提交举报",
        "save": "将回执码保存为文本文件",
        "too_large": "有文件超过了大小上限",
        "closed": "此回执页已关闭",
        "code": "回执码",
    },
    "en": {
        "send": "Send report",
        "save": "Save the code as a text file",
        "too_large": "A file is larger than allowed",
        "closed": "This receipt page has closed",
        "code": "receipt code",
    },
}
TYPED = {
    "#summary": "飞单：Acme 的订单被转给竞争对手",
    "#details": "销售王伟在 3 月把 Acme 的订单 A-1001 转给了 Rival Ltd。",
    "#subject-name-1": "王伟",
    "#subject-id-1": "E-1001",
    "#loss_estimate": "约 200 万元",
    "#identity_name": "陈静",
    "#identity_contact": "chen@example.org",
}


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_refused_file_keeps_every_word_and_the_receipt_survives_a_reload(
    start_live_server: Any, page_nojs: Any, browser: Any, locale: str
) -> None:
    """Over-limit file: the form comes back whole; the saved file has the receipt; a reload
    of the receipt page (shown once) says it has closed and shows no code."""
    server = start_live_server(
        limits=Limits(upload_max_file=MAX_FILE, upload_max_report=3000, upload_max_files=2)
    )
    seed_url(server.database_url)
    words = WORDS[locale]
    page = page_nojs

    page.goto(f"{server.url}/report")
    page.select_option("#category", index=1)
    for selector, text in TYPED.items():
        page.fill(selector, text)
    page.check("#exclude-1")
    page.check("#mode-confidential")
    page.set_input_files(
        "#files",
        [{"name": "big.bin", "mimeType": "application/octet-stream", "buffer": b"x" * 2500}],
    )
    page.get_by_role("button", name=words["send"]).click()
    page.wait_for_load_state("load")

    kept = {selector: page.input_value(selector) for selector in TYPED}
    assert kept == TYPED
    assert page.locator("#category").input_value() != ""
    assert page.is_checked("#exclude-1")
    assert page.is_checked("#mode-confidential")
    assert words["too_large"] in page.locator("#files-error").inner_text()
    assert page.get_attribute("#files", "aria-invalid") == "true"
    assert_page_accessible(browser, page, locale)

    page.set_input_files(
        "#files",
        [{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"meeting notes"}],
    )
    page.get_by_role("button", name=words["send"]).click()
    page.wait_for_load_state("load")
    receipt = page.locator(".receipt").inner_text().strip()
    crypto.parse_receipt(receipt)
    assert_page_accessible(browser, page, locale)

    with page.expect_download() as download_info:
        page.get_by_role("button", name=words["save"]).click()
    download = download_info.value
    saved = Path(download.path()).read_text(encoding="utf-8")
    assert receipt in saved
    assert words["code"] in saved.lower()
    assert receipt not in download.url

    page.reload()
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text().strip() == words["closed"]
    assert receipt not in page.content()
    assert_page_accessible(browser, page, locale)
    assert page.requests.foreign(server.url) == []


def test_receipt_page_is_clean_for_axe_with_its_script_running(
    start_live_server: Any, page_js: Any
) -> None:
    """With JavaScript on, the copy button appears and axe still finds nothing serious."""
    server = start_live_server()
    seed_url(server.database_url)
    page = page_js

    page.goto(f"{server.url}/report")
    page.select_option("#category", index=1)
    page.fill("#summary", "飞单")
    page.fill("#details", "A-1001 went to a competitor on 1 March.")
    page.get_by_role("button", name=WORDS["zh-CN"]["send"]).click()
    page.locator(".receipt").wait_for()

    page.locator("#copy-receipt").wait_for(state="visible", timeout=10_000)
    violations = blocking_violations(run_axe(page))
    assert not violations, describe(violations)


@pytest.mark.parametrize("locale", ["zh-CN"])
def test_switching_language_mid_form_keeps_the_words(
    start_live_server: Any, page_nojs: Any, browser: Any, locale: str
) -> None:
    """JavaScript off: the language button on a half-filled form brings it back whole in English."""
    server = start_live_server()
    seed_url(server.database_url)
    page = page_nojs

    page.goto(f"{server.url}/report")
    page.select_option("#category", index=1)
    for selector, text in TYPED.items():
        page.fill(selector, text)
    page.check("#mode-confidential")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state("load")

    assert page.locator("h1").inner_text().strip() == "Make a report"
    assert {selector: page.input_value(selector) for selector in TYPED} == TYPED
    assert page.is_checked("#mode-confidential")
    assert page.locator("#category").input_value() != ""
    assert_page_accessible(browser, page, "en")


def test_script_checks_sizes_before_sending_and_sends_with_progress(
    start_live_server: Any, page_js: Any
) -> None:
    """JavaScript on: an over-limit file is caught before sending; a good one sends and files."""
    server = start_live_server(
        limits=Limits(upload_max_file=MAX_FILE, upload_max_report=3000, upload_max_files=2)
    )
    seed_url(server.database_url)
    page = page_js
    page.goto(f"{server.url}/report")
    page.select_option("#category", index=1)
    page.fill("#summary", "飞单")
    page.fill("#details", "A-1001 went to a competitor on 1 March.")

    page.set_input_files(
        "#files",
        [{"name": "big.bin", "mimeType": "application/octet-stream", "buffer": b"x" * 2500}],
    )
    page.wait_for_function("document.getElementById('upload-status').textContent !== ''")
    warned = page.locator("#upload-status").inner_text()
    page.get_by_role("button", name=WORDS["zh-CN"]["send"]).click()
    page.wait_for_timeout(300)
    still_here = page.locator("#summary").input_value()
    posts_before = [r for r in page.requests.urls if r.endswith("/report")]

    page.set_input_files(
        "#files",
        [{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"meeting notes"}],
    )
    page.get_by_role("button", name=WORDS["zh-CN"]["send"]).click()
    page.locator(".receipt").wait_for(timeout=20_000)

    assert WORDS["zh-CN"]["too_large"] in warned
    assert still_here == "飞单"
    assert len(posts_before) == 1  # only the GET of the form: nothing was sent
    crypto.parse_receipt(page.locator(".receipt").inner_text().strip())
    page.locator("#copy-receipt").wait_for(state="visible", timeout=10_000)
