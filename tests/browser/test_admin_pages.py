"""An admin's round in Chromium: TOTP login, new account, new category, directory, outbox."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.browser import axe_clean, submit
from support.db import TEST_SECRET
from support.staff_world import PASSWORD, build_world

import crypto
from cases.clock import SystemClock
from cases.db import make_engine, session_factory, unit_of_work

pytestmark = pytest.mark.browser


def test_admin_round(start_live_server: Callable[..., Any], page_js: Any, tmp_path: Path) -> None:
    """Every admin page works and passes axe; the changes made there are shown back."""
    server = start_live_server()
    engine = make_engine(server.database_url)
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        boss = build_world(db, SystemClock()).staff("boss@example.com", "admin")
    engine.dispose()
    csv = tmp_path / "directory.csv"
    csv.write_text("employee_id,name,email,department,manager_id\nE1,李娜,li@example.com,销售,E9\n")
    page = page_js

    page.goto(f"{server.url}/staff/login")
    page.fill("#email", "boss@example.com")
    page.fill("#password", PASSWORD)
    submit(page, "/staff/login")
    assert boss.totp_secret is not None
    page.fill("#code", crypto.totp_code(boss.totp_secret, time.time()))
    submit(page, "/staff/login/totp")
    page.goto(f"{server.url}/admin")
    axe_clean(page)
    overview = page.locator("main").inner_text()
    page.goto(f"{server.url}/admin/staff")
    axe_clean(page)
    page.fill("#email", "new@example.com")
    page.check("#new-investigator")
    submit(page, "/admin/staff")
    axe_clean(page)
    staff = page.locator("main").inner_text()
    page.goto(f"{server.url}/admin/channels")
    axe_clean(page)
    page.locator("main a[href^='/admin/channels/']").first.click()
    page.wait_for_load_state("load")
    axe_clean(page)
    page.fill("#cat-slug", "gifts")
    page.fill("#cat-en", "Gifts")
    page.fill("#cat-zh", "收受礼品")
    submit(page, "/categories")
    channel = page.locator("main").inner_text()
    page.goto(f"{server.url}/admin/directory")
    page.set_input_files("#file", str(csv))
    submit(page, "/admin/directory")
    axe_clean(page)
    directory = page.locator("main").inner_text()
    page.goto(f"{server.url}/admin/outbox")
    axe_clean(page)
    outbox = page.locator("h1").inner_text()

    assert "尚未设置恢复密钥" in overview
    assert "new@example.com" in staff
    assert "收受礼品" in channel
    assert "E1 → E9" in directory
    assert outbox == "邮件发件箱"
