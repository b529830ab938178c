"""Each staff role signs in (zh-CN) and lands on its own start page, which passes axe."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from support.browser import blocking_violations, describe, run_axe
from support.staff_world import build_world

import crypto
from cases.clock import SystemClock
from cases.db import make_engine, session_factory, unit_of_work

pytestmark = pytest.mark.browser

START = {
    "admin": "/admin",
    "auditor": "/staff/audit",
    "finance": "/staff/rewards/payouts",
    "custodian": "/staff/disclosures",
    "reward_approver": "/staff/rewards",
    "investigator": "/staff/cases",
    "retaliation_officer": "/staff/cases",
}


def test_each_role_lands_on_its_start_page(
    start_live_server: Callable[..., Any], browser: Any
) -> None:
    """Password and code, then the role's start page; axe finds nothing serious there, nor on
    the "not allowed" page, which keeps the staff navigation."""
    server = start_live_server()
    engine = make_engine(server.database_url)
    with unit_of_work(session_factory(engine)) as db:
        world = build_world(db, SystemClock())
        people = {role: world.staff(f"{role}@example.com", role) for role in START}
        world.file()
    engine.dispose()
    landed: dict[str, str] = {}
    found: dict[str, list[dict[str, Any]]] = {}

    for role, person in people.items():
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        page.goto(f"{server.url}/staff/login")
        page.fill("#email", person.account.email)
        page.fill("#password", person.password)
        page.locator("form[action$='/staff/login'] button[type=submit]").click()
        assert person.totp_secret is not None
        page.fill("#code", crypto.totp_code(person.totp_secret, time.time()))
        page.locator("form[action$='/totp'] button[type=submit]").click()
        page.wait_for_load_state("load")
        landed[role] = page.url.removeprefix(server.url)
        found[role] = blocking_violations(run_axe(page))
        if role == "investigator":  # the "not allowed" page keeps the staff navigation
            refused = page.goto(f"{server.url}/staff/audit")
            assert refused is not None
            assert refused.status == 403
            assert page.locator("nav.staff-nav").count() == 1
            found["403"] = blocking_violations(run_axe(page))
        context.close()

    assert landed == START
    assert all(not v for v in found.values()), "\n".join(
        f"{role}:\n{describe(v)}" for role, v in found.items() if v
    )
