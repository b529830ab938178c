"""The case page's export button in Chromium, in English and Chinese: axe clean, a real PDF."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import pytest
from pypdf import PdfReader
from support.browser import blocking_violations, describe, run_axe
from support.db import TEST_SECRET
from support.staff_world import build_world

import crypto
from cases.clock import SystemClock
from cases.db import make_engine, session_factory, unit_of_work

pytestmark = pytest.mark.browser

CANARY = "金丝雀浏览器导出"
BUTTON = {"en": "Export as PDF", "zh-CN": "导出为 PDF"}


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_export_button_downloads_the_case_file(
    start_live_server: Callable[..., Any], page_js: Any, locale: str
) -> None:
    """An investigator clicks "Export as PDF" on the case page and gets the case as a PDF."""
    server = start_live_server()
    engine = make_engine(server.database_url)
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        world = build_world(db, SystemClock())
        ana = world.staff("ana@example.com", "investigator")
        case = world.file(summary=f"订单被转给竞争对手 {CANARY}").case
        case_id, reference = case.id, case.reference
    engine.dispose()
    page = page_js
    page.goto(f"{server.url}/staff/login")
    page.fill("#email", ana.account.email)
    page.fill("#password", ana.password)
    page.locator("form[action$='/staff/login'] button[type=submit]").click()
    assert ana.totp_secret is not None
    page.fill("#code", crypto.totp_code(ana.totp_secret, time.time()))
    page.locator("form[action$='/totp'] button[type=submit]").click()
    page.wait_for_load_state("load")
    page.goto(f"{server.url}/staff/cases/{case_id}")
    violations = blocking_violations(run_axe(page))
    button = page.locator("#export-pdf")

    with page.expect_download() as download_info:
        button.click()
    download = download_info.value
    text = "".join(
        p.extract_text() for p in PdfReader(io.BytesIO(download.path().read_bytes())).pages
    )

    assert not violations, describe(violations)
    assert button.inner_text().strip() == BUTTON[locale]
    assert download.suggested_filename.startswith(f"case-{reference}-")
    assert CANARY in text
    assert ("案卷" in text) == (locale == "zh-CN")  # the file speaks the page's language
