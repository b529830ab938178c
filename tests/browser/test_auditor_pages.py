"""The auditor's pages in Chromium: trail, filters, chain check and statistics pass axe."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from support.browser import blocking_violations, describe, run_axe
from support.db import TEST_SECRET
from support.staff_world import build_world

import crypto
from cases.clock import SystemClock
from cases.db import make_engine, session_factory, unit_of_work

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_auditor_pages_are_accessible(
    start_live_server: Callable[..., Any], browser: Any, locale: str
) -> None:
    """An auditor signs in and opens each auditor page; axe finds nothing serious on any."""
    server = start_live_server()
    engine = make_engine(server.database_url)
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        world = build_world(db, SystemClock())
        auditor = world.staff("aud@example.com", "auditor")
        world.staff("ana@example.com", "investigator")
        reference = world.file().case.reference
    engine.dispose()
    page = browser.new_context(locale=locale).new_page()
    page.goto(f"{server.url}/staff/login")
    page.fill("#email", auditor.account.email)
    page.fill("#password", auditor.password)
    page.locator("form[action$='/staff/login'] button[type=submit]").click()
    assert auditor.totp_secret is not None
    page.fill("#code", crypto.totp_code(auditor.totp_secret, time.time()))
    page.locator("form[action$='/totp'] button[type=submit]").click()
    page.wait_for_load_state("load")
    urls = ["/staff/audit", f"/staff/audit?case={reference}&since=2000-01-01"]
    urls += ["/staff/audit?since=nonsense", "/staff/audit/verify", "/staff/audit/statistics"]
    found: dict[str, list[dict[str, Any]]] = {}

    for path in urls:
        page.goto(server.url + path)
        found[path] = blocking_violations(run_axe(page))
    page.context.close()

    assert all(not v for v in found.values()), "\n".join(
        f"{path}:\n{describe(v)}" for path, v in found.items() if v
    )
