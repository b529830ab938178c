"""Anti-retaliation in Chromium: the boss of a named manager sees no trace of the case, and a
disclosed identity reaches only the investigator who asked for it; axe on each page visited."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from support.browser import axe_clean, submit
from support.db import TEST_SECRET
from support.staff_world import SECRET, Person, build_world

import crypto
from cases.clock import SystemClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.reports.intake import IdentityInput, SubjectInput
from cases.staff.directory import DirectoryService, Row

pytestmark = pytest.mark.browser

REPORTER_NAME = "Liu Fang"
DIRECTORY = [
    Row("D1", "Sun Qiang", "sun@example.com", "Sales", ""),
    Row("M1", "Zhou Min", "zhou@example.com", "Sales", "D1"),
    Row("R1", "Wu Gang", "wu@example.com", "Sales", "M1"),
]


def seed(database_url: str) -> dict[str, Any]:
    """The sales chain director → manager → rep; the director is also an investigator; a
    confidential report names the manager."""
    engine = make_engine(database_url)
    clock = SystemClock()
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        world = build_world(db, clock)
        DirectoryService(db, clock, SECRET).import_rows(DIRECTORY)
        people = {
            "boss": world.staff("sun@example.com", "investigator", employee_id="D1"),
            "ana": world.staff("ana@example.com", "investigator"),
            "bo": world.staff("bo@example.com", "investigator"),
            "cus": world.staff("cus@example.com", "custodian"),
        }
        filed = world.file(
            summary="My manager moves key-account orders to a rival",
            subjects=[SubjectInput(name="Zhou Min", employee_id="M1")],
            identity=IdentityInput(name=REPORTER_NAME, contact="liu.fang@example.net"),
        )
    engine.dispose()
    return {**people, "case_id": filed.case.id, "reference": filed.case.reference}


def visit(page: Any, url: str) -> Any:
    """Go to a page and check it with axe; the response is returned for its status."""
    response = page.goto(url)
    axe_clean(page)
    return response


def staff_login(browser: Any, url: str, person: Person) -> Any:
    """A browser context of this person's own, logged in with password and TOTP."""
    page = browser.new_context(locale="zh-CN").new_page()
    visit(page, f"{url}/staff/login")
    page.fill("#email", person.account.email)
    page.fill("#password", person.password)
    submit(page, "/staff/login")
    assert person.totp_secret is not None
    axe_clean(page)
    page.fill("#code", crypto.totp_code(person.totp_secret, time.time()))
    submit(page, "/staff/login/totp")
    return page


def case_count(page: Any) -> int:
    """The number the case list prints above its table."""
    found = re.search(r"\d+", page.locator("p.count").inner_text())
    assert found is not None
    return int(found.group())


def test_the_managers_boss_sees_nothing_and_only_the_asker_reads_the_name(
    start_live_server: Callable[..., Any], browser: Any
) -> None:
    """The director above the named manager: no row, a zero count, 404 at the case's URLs.
    Ana asks, the custodian approves: Ana reads the reporter's name, Bo on the same case not."""
    server = start_live_server()
    data = seed(server.database_url)
    url, case_id = server.url, data["case_id"]

    boss = staff_login(browser, url, data["boss"])
    visit(boss, f"{url}/staff/cases")
    boss_list, boss_count = boss.content(), case_count(boss)
    boss_case = visit(boss, f"{url}/staff/cases/{case_id}")
    boss_access = visit(boss, f"{url}/staff/cases/{case_id}/access")
    ana = staff_login(browser, url, data["ana"])
    visit(ana, f"{url}/staff/cases")
    ana_count = case_count(ana)
    visit(ana, f"{url}/staff/cases/{case_id}/access")
    ana.fill("#disclosure_reason", "To arrange a transfer away from her manager")
    submit(ana, "/disclosures")
    custodian = staff_login(browser, url, data["cus"])
    visit(custodian, f"{url}/staff/disclosures")
    custodian.locator("textarea[name=reason]").fill("Needed to protect the reporter")
    custodian.locator("button[value=approve]").click()
    custodian.wait_for_load_state("load")
    axe_clean(custodian)
    visit(ana, f"{url}/staff/cases/{case_id}/identity")
    ana_reads = ana.locator("main").inner_text()
    bo = staff_login(browser, url, data["bo"])
    visit(bo, f"{url}/staff/cases/{case_id}/identity")
    bo_reads = bo.locator("main").inner_text()
    visit(bo, f"{url}/staff/cases/{case_id}")
    bo_case_page = bo.content()
    for page in (boss, ana, custodian, bo):
        page.context.close()

    assert data["reference"] not in boss_list
    assert case_id not in boss_list
    assert boss_count == 0
    assert (boss_case.status, boss_access.status) == (404, 404)
    assert ana_count == 1
    assert REPORTER_NAME in ana_reads
    assert REPORTER_NAME not in bo_reads
    assert REPORTER_NAME not in bo_case_page
