"""The case list and case page in Chromium: related reports, search, bulk work, phone, keyboard."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from support.browser import blocking_violations, describe, run_axe
from support.caselist import browser_login, seed_related

pytestmark = pytest.mark.browser


def axe_clean(page: Any) -> None:
    violations = blocking_violations(run_axe(page))
    assert not violations, f"axe on {page.url}:\n{describe(violations)}"


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_case_page_lists_related_reports_the_viewer_may_see(
    start_live_server: Callable[..., Any], page_js: Any, locale: str
) -> None:
    """The related section names the visible twin and the possible one, never the hidden twin."""
    server = start_live_server()
    made = seed_related(server.database_url)
    page = page_js
    browser_login(page, server.url, made.world.people[made.viewer])

    page.goto(f"{server.url}/staff/cases/{made.origin.id}")
    section = page.locator("section[aria-labelledby='related-heading']")
    text = section.inner_text()

    assert made.visible_twin.reference in text
    assert made.by_name.reference in text
    assert made.hidden_twin.reference not in page.content()
    assert ("可能相关" if locale == "zh-CN" else "possibly related") in text
    axe_clean(page)
