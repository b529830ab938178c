"""The statistics pages in Chromium, zh-CN and en: axe clean, SVG charts under the strict CSP."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from support.browser import blocking_violations, describe, run_axe
from support.db import TEST_SECRET
from support.staff_world import build_world
from support.statistics import seed_cases

import crypto
from cases.clock import SystemClock
from cases.db import make_engine, session_factory, unit_of_work

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_statistics_pages_are_accessible(
    start_live_server: Callable[..., Any], browser: Any, locale: str
) -> None:
    """An analyst opens the page, a refused filter and the annual summary: axe finds nothing
    serious, every chart is an image named by its title, and the CSP blocks nothing."""
    server = start_live_server()
    engine = make_engine(server.database_url)
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        world = build_world(db, SystemClock())
        analyst = world.staff("analyst@example.com", "analyst")
        categories = [c.id for c in world.channel.categories]
        seed_cases(db, world.channel, 12, category=categories[0], submitted_on=date(2025, 4, 1))
        seed_cases(db, world.channel, 4, category=categories[1], submitted_on=date(2025, 5, 6))
        seed_cases(
            db,
            world.channel,
            7,
            category=categories[2],
            status="investigating",
            outcome=None,
            concluded_after=None,
            submitted_on=date(2025, 6, 2),
        )
    engine.dispose()
    context = browser.new_context(locale=locale)
    page = context.new_page()
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    page.goto(f"{server.url}/staff/login")
    page.fill("#email", analyst.account.email)
    page.fill("#password", analyst.password)
    page.locator("form[action$='/staff/login'] button[type=submit]").click()
    assert analyst.totp_secret is not None
    page.fill("#code", crypto.totp_code(analyst.totp_secret, time.time()))
    page.locator("form[action$='/totp'] button[type=submit]").click()
    page.wait_for_load_state("load")
    urls = [
        "/staff/statistics",
        f"/staff/statistics?category={categories[1]}",
        "/staff/statistics/annual?year=2025",
    ]
    found: dict[str, list[dict[str, Any]]] = {}
    charts: list[int] = []

    for path in urls:
        page.goto(server.url + path)
        found[path] = blocking_violations(run_axe(page))
        charts.append(page.locator("svg.chart[role=img][aria-labelledby]").count())
    page.goto(server.url + "/staff/statistics")
    suppressed = page.locator("td .suppressed").count()
    heading = page.locator("h1").inner_text()
    context.close()

    assert all(not v for v in found.values()), "\n".join(
        f"{path}:\n{describe(v)}" for path, v in found.items() if v
    )
    assert charts[0] >= 5
    assert charts[1:] == [0, 0]
    assert suppressed > 0
    assert heading == ("统计" if locale == "zh-CN" else "Statistics")
    assert blocked == []
