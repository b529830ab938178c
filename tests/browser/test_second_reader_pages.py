"""The second reader in Chromium, JS off, zh-CN and en, axe on each page: the list's flag,
the case page's notice and its button (cases/workflow/second_reader.py)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from support.db import TEST_SECRET
from support.retention import axe_as_served
from support.staff_world import SECRET, ZONE, build_world, key_ring

import crypto
from cases.clock import SystemClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.reports.keys import CASE
from cases.reports.models import Case
from cases.workflow.service import WorkflowConfig, WorkflowService

pytestmark = pytest.mark.browser

WORDS = {
    "zh-CN": {
        "flag": "由一名阅办人单独认定不成立，等待第二名阅办人",
        "notice": "Ana 单独作出了“不成立”的结论，等待第二名阅办人。",
        "agree": "作为第二名阅办人表示同意",
        "done": "您已作为第二名阅办人表示同意：该结论成立。",
    },
    "en": {
        "flag": "Concluded unfounded by one reader, awaiting a second reader",
        "notice": "Concluded unfounded by Ana alone, awaiting a second reader.",
        "agree": "Agree as the second reader",
        "done": "You agreed as the second reader: the ending stands.",
    },
}


def seed(database_url: str) -> dict[str, Any]:
    """Ana and Bob on the team; Ana alone concluded the case unsubstantiated and closed it."""
    engine = make_engine(database_url)
    clock = SystemClock()
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        world = build_world(db, clock)
        ana = world.staff("ana@example.com", name="Ana")
        bob = world.staff("bob@example.com", name="Bob")
        case = world.file().case
        me = ana.principal(db, clock)
        key = key_ring(db).open_for_staff(case.id, CASE, me)
        assert key is not None
        flow = WorkflowService(db, clock, WorkflowConfig(ZONE, SECRET))
        for target, outcome in (
            ("acknowledged", None),
            ("concluded", "unsubstantiated"),
            ("closed", None),
        ):
            flow.transition(me, case, key, target, "Nothing in it.", outcome)
    return {"engine": engine, "bob": bob, "case_id": case.id}


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


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_a_colleague_sees_the_flag_and_agrees_on_the_case_page(
    start_live_server: Any, page_nojs: Any, browser: Any, locale: str
) -> None:
    """Bob's list flags the case; its page says who ended it alone; his button agrees."""
    server = start_live_server()
    data = seed(server.database_url)
    words, page = WORDS[locale], page_nojs

    log_in(page, server, data["bob"])
    page.goto(f"{server.url}/staff/cases?second=awaiting&flood=")
    listed = page.locator(".case-table").inner_text()
    axe_as_served(browser, page, locale)
    page.goto(f"{server.url}/staff/cases/{data['case_id']}")
    notice = page.locator("section[aria-labelledby=second-reading-heading]").inner_text()
    axe_as_served(browser, page, locale)
    page.get_by_role("button", name=words["agree"]).click()
    page.wait_for_load_state("load")
    after = page.locator("main").inner_text()
    axe_as_served(browser, page, locale)
    with unit_of_work(session_factory(data["engine"], TEST_SECRET)) as db:
        case = db.get(Case, data["case_id"])
        assert case is not None
        agreed = (case.unconfirmed_by, case.closed_on is not None)
    data["engine"].dispose()

    assert words["flag"] in listed
    assert words["notice"] in notice
    assert words["done"] in after
    assert agreed == (None, True)
