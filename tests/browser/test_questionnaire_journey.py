"""A questionnaire end to end in Chromium, zh-CN and en: an admin rewords a question, a reporter
with JavaScript off answers it (after one refused answer), an investigator reads it; axe on each."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select
from support.arrivals import list_arrivals
from support.db import TEST_SECRET
from support.questionnaires import axe_as_served
from support.staff_world import PASSWORD, Person, build_world

import crypto
from cases.clock import SystemClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.reports.models import Case

pytestmark = pytest.mark.browser
NEW_WORDING = {"en": "Which customer, by name?", "zh": "请写出客户名称"}


def staff_login(page: Any, url: str, person: Person) -> None:
    page.goto(f"{url}/staff/login")
    page.fill("#email", person.account.email)
    page.fill("#password", PASSWORD)
    submit(page, "/staff/login")
    assert person.totp_secret is not None
    page.fill("#code", crypto.totp_code(person.totp_secret, time.time()))
    submit(page, "/staff/login/totp")


def submit(page: Any, action: str) -> None:
    page.locator(f"form[action$='{action}'] button[type=submit]").first.click()
    page.wait_for_load_state("load")


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_questionnaire_edited_answered_without_javascript_and_read(
    start_live_server: Any, browser: Any, page_nojs: Any, locale: str
) -> None:
    """The reporter sees the admin's new wording, keeps their answers through a refusal, and
    the investigator reads every answer under that wording."""
    server = start_live_server()
    engine = make_engine(server.database_url)
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        world = build_world(db, SystemClock())
        boss = world.staff("boss@example.com", "admin")
        ana = world.staff("ana@example.com")
        channel_id, category_id = world.channel.id, world.category("order-diversion").id
    admin = browser.new_context(locale=locale).new_page()
    wording = NEW_WORDING["zh" if locale == "zh-CN" else "en"]

    staff_login(admin, server.url, boss)
    questions = f"{server.url}/admin/channels/{channel_id}/questions"
    admin.goto(questions)
    axe_as_served(browser, admin, locale)
    admin.goto(f"{questions}/diversion-customer")
    axe_as_served(browser, admin, locale)
    admin.fill("#label_en", NEW_WORDING["en"])
    admin.fill("#label_zh", NEW_WORDING["zh"])
    submit(admin, "/questions/diversion-customer")
    listed = admin.locator("main").inner_text()
    axe_as_served(browser, admin, locale)

    page = page_nojs
    page.goto(f"{server.url}/report")
    axe_as_served(browser, page, locale)
    page.select_option("#category", category_id)
    page.fill("#summary", "飞单" if locale == "zh-CN" else "Order diverted")
    page.fill("#details", "A-1001 went to a competitor on 1 March.")
    page.fill("#q-diversion-customer", "Acme Trading")
    page.fill("#q-diversion-competitor", "Rival Co")
    page.fill("#q-diversion-value", "12 万")
    page.select_option("#q-diversion-value-currency", "USD")
    page.fill("#q-diversion-when", "2026-03-01")
    page.check("#q-diversion-source-2")
    page.locator("#report-form button[type=submit]").click()
    page.wait_for_load_state("load")
    kept = page.input_value("#q-diversion-customer")
    refusal = page.locator("#answers\\.diversion-value-error").inner_text()
    axe_as_served(browser, page, locale)
    page.fill("#q-diversion-value", "120000")
    page.locator("#report-form button[type=submit]").click()
    page.wait_for_load_state("load")
    receipt = page.locator(".receipt").inner_text().strip()

    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        case_id = db.scalars(select(Case.id)).one()
    list_arrivals(session_factory(engine, TEST_SECRET))  # the jobs round, at the case's hour
    engine.dispose()
    reader = browser.new_context(locale=locale).new_page()
    staff_login(reader, server.url, ana)
    reader.goto(f"{server.url}/staff/cases/{case_id}")
    answers = reader.locator("dl.answers").inner_text()
    axe_as_served(browser, reader, locale)

    assert wording in listed
    assert kept == "Acme Trading"
    assert refusal
    assert receipt
    assert wording in answers
    assert "Acme Trading" in answers
    assert "Rival Co" in answers
    assert "120000 USD" in answers
    assert "2026-03-01" in answers
    assert ("从文件、邮件或系统记录中看到的" if locale == "zh-CN" else "From documents") in answers
