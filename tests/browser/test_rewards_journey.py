"""A reward in Chromium: proposed, approved, accepted by receipt, paid; axe on each page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from support.browser import axe_clean, submit
from support.browser import staff_login as page_login
from support.db import TEST_SECRET
from support.rewards import answer_shown_at_the_hour, substantiated_case
from support.staff_world import Person, build_world

from cases.clock import SystemClock
from cases.db import make_engine, session_factory, unit_of_work

pytestmark = pytest.mark.browser

PAYOUT = {"#name": "Li Ming", "#account": "6222 0000 1111 2222", "#contact": "limingx@example.net"}


def seed(database_url: str) -> dict[str, Any]:
    """A case concluded as substantiated, an investigator, an approver and a finance member."""
    engine = make_engine(database_url)
    clock = SystemClock()
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        people, filed = substantiated_case(build_world(db, clock))
    engine.dispose()
    return {**people, "case_id": filed.case.id, "receipt": filed.receipt.formatted()}


def log_in(page: Any, url: str, person: Person) -> None:
    assert person.totp_secret is not None
    page_login(page, url, person.account.email, person.password, person.totp_secret)


def staff_logout(page: Any) -> None:
    page.locator("nav.staff-nav button[type=submit]").click()
    page.wait_for_load_state("load")


def reporter_login(page: Any, url: str, receipt: str) -> None:
    page.goto(f"{url}/status")
    page.fill("#receipt", receipt)
    submit(page, "/status")


def test_reward_journey(start_live_server: Callable[..., Any], page_js: Any, browser: Any) -> None:
    """From a substantiated case to a paid reward; investigators never see payout details."""
    server = start_live_server()
    data = seed(server.database_url)
    url, page = server.url, page_js
    investigator = browser.new_context(locale="zh-CN").new_page()

    log_in(investigator, url, data["ana"])
    investigator.goto(f"{url}/staff/cases/{data['case_id']}/reward")
    axe_clean(investigator)
    investigator.fill("#recovered_loss", "300000")
    investigator.check("#exclusions")
    investigator.locator("form[action$='/reward'] button[value=suggest]").click()
    assert investigator.locator("#suggestion").count() == 1
    investigator.locator("form[action$='/reward'] button[value=propose]").click()
    investigator.wait_for_load_state("load")
    proposed_panel = investigator.locator("#rewards").inner_text()
    log_in(page, url, data["dai"])
    page.goto(f"{url}/staff/rewards")
    axe_clean(page)
    page.locator("button[value=approve]").click()
    page.wait_for_load_state("load")
    staff_logout(page)
    reporter_login(page, url, data["receipt"])
    page.locator("a[href='/status/reward']").click()
    page.wait_for_load_state("load")
    axe_clean(page)
    for selector, value in PAYOUT.items():
        page.fill(selector, value)
    submit(page, "/status/reward/accept")
    accepted = page.locator("#reward").inner_text()
    page.locator("form[action='/status/logout'] button").click()
    page.wait_for_load_state("load")
    # Finance sees the acceptance from the next full hour (cases/rewards/answers.py).
    assert answer_shown_at_the_hour(server.database_url) == 1
    log_in(page, url, data["fin"])
    page.goto(f"{url}/staff/rewards/payouts")
    axe_clean(page)
    desk = page.locator("main").inner_text()
    page.fill("input[name=reference]", "BANK-2026-001")
    submit(page, "/payment")
    page.goto(f"{url}/staff/rewards/ledger")
    axe_clean(page)
    ledger = page.locator("main").inner_text()
    staff_logout(page)
    investigator.goto(f"{url}/staff/cases/{data['case_id']}")
    investigator_view = investigator.content()
    investigator.context.close()
    reporter_login(page, url, data["receipt"])
    paid = page.locator("#reward").inner_text()

    assert "11,000.00" in proposed_panel
    assert "11,000.00" in accepted
    assert all(value in desk for value in PAYOUT.values())
    assert "BANK-2026-001" in ledger
    assert not any(value in investigator_view for value in PAYOUT.values())
    assert "11,000.00" in paid
    assert paid != accepted
