"""An admin makes an investigator on the web; the person enrols by the link; a colleague who
holds the keys approves; only then does the new investigator see the case. In zh-CN, with
axe on every page on the way (issue 10, "Done when")."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from support.browser import axe_clean, staff_login, submit
from support.staff_world import PASSWORD, build_world

from cases.clock import SystemClock
from cases.db import make_engine, session_factory, unit_of_work

pytestmark = pytest.mark.browser
OWN_PASSWORD = "长城 is long enough 2026"


def test_admin_made_investigator_sees_cases_only_after_approval(
    start_live_server: Callable[..., Any], page_js: Any
) -> None:
    """Create, enrol, wait, approve by an existing investigator, then the case opens."""
    server = start_live_server()
    engine = make_engine(server.database_url)
    with unit_of_work(session_factory(engine)) as db:
        world = build_world(db, SystemClock())
        boss = world.staff("boss@example.com", "admin")
        ana = world.staff("ana@example.com", "investigator")
        case = world.file("货款被转入竞争对手").case
        reference = case.reference
    engine.dispose()
    assert boss.totp_secret is not None
    assert ana.totp_secret is not None
    page, url = page_js, server.url

    page.context.clear_cookies()
    staff_login(page, url, "boss@example.com", PASSWORD, boss.totp_secret)
    page.goto(f"{url}/admin/staff")
    page.fill("#email", "xin@example.com")
    page.fill("#name", "新调查员")
    page.check("#new-investigator")
    submit(page, "/admin/staff")
    axe_clean(page)
    link = page.locator("#enrolment-link").inner_text().strip()
    admin_notice = page.locator("main").inner_text()

    page.context.clear_cookies()
    page.goto(link)
    axe_clean(page)
    page.fill("#password", OWN_PASSWORD)
    page.fill("#password_again", OWN_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("load")
    axe_clean(page)
    text = page.locator("#totp-secret").inner_text().strip()
    code = page.locator("#key-code").inner_text().strip()
    secret = base64.b32decode(text + "=" * (-len(text) % 8))

    page.context.clear_cookies()
    staff_login(page, url, "xin@example.com", OWN_PASSWORD, secret)
    page.goto(f"{url}/staff/cases")
    axe_clean(page)
    before = page.locator("main").inner_text()
    blocked = page.goto(f"{url}/staff/cases/{case.id}")
    assert blocked is not None

    page.context.clear_cookies()
    staff_login(page, url, "ana@example.com", PASSWORD, ana.totp_secret)
    page.goto(f"{url}/staff/approvals")
    axe_clean(page)
    waiting = page.locator("main").inner_text()
    page.locator("main form button[value=approve]").first.click()
    page.wait_for_load_state("load")
    axe_clean(page)
    decided = page.locator("main").inner_text()

    page.context.clear_cookies()
    staff_login(page, url, "xin@example.com", OWN_PASSWORD, secret, ahead=30)
    page.goto(f"{url}/staff/cases")
    after = page.locator("main").inner_text()
    opened = page.goto(f"{url}/staff/cases/{case.id}")
    assert opened is not None
    axe_clean(page)
    content = page.locator("main").inner_text()

    assert "开通链接" in admin_notice
    assert link.startswith(f"{url}/staff/enrol/")
    assert reference not in before
    assert blocked.status == 404
    assert "xin@example.com" in waiting
    assert "新账号" in waiting
    assert code in waiting
    assert "您的决定已记录" in decided
    assert reference in after
    assert opened.status == 200
    assert "货款被转入竞争对手" in content
