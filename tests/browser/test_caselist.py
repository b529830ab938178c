"""The case list and case page in Chromium: related reports, search, bulk work, phone, keyboard."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from support.browser import blocking_violations, describe, run_axe
from support.caselist import browser_login, seed_related, seed_searchable

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


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_search_finds_a_visible_word_and_never_a_hidden_one(
    start_live_server: Callable[..., Any], page_js: Any, locale: str
) -> None:
    """The search lists and counts the visible case only; the word is in no URL; axe clean."""
    server = start_live_server()
    data = seed_searchable(server.database_url, "Zephyr")
    page = page_js
    browser_login(page, server.url, data.person)
    page.goto(f"{server.url}/staff/cases")

    page.fill("#q", "zephyr")
    page.locator("form.case-search button[type=submit]").click()
    page.wait_for_load_state("load")
    rows = page.locator("table.case-table tbody tr")

    assert rows.count() == 1
    assert data.seen.reference in rows.first.inner_text()
    assert data.hidden.reference not in page.content()
    assert page.locator("#search-count").inner_text().strip().startswith("1")
    assert all("zephyr" not in url.lower() for url in page.requests.urls)
    axe_clean(page)


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_bulk_transition_without_javascript(
    start_live_server: Callable[..., Any], page_nojs: Any, locale: str
) -> None:
    """Tick two cases, acknowledge them with one reason: both are acknowledged."""
    server = start_live_server()
    data = seed_searchable(server.database_url, "Zephyr")
    page = page_nojs
    browser_login(page, server.url, data.person)
    page.goto(f"{server.url}/staff/cases")

    for case in data.others:
        page.check(f"#select-{case.id}")
    page.select_option("#bulk-action", "transition")
    page.select_option("#bulk-status", "acknowledged")
    page.fill("#bulk-reason", "Logged in the weekly triage")
    page.locator("form#bulk button[type=submit]").click()
    page.wait_for_load_state("load")
    page.goto(f"{server.url}/staff/cases?status=acknowledged")
    text = page.locator("table.case-table").inner_text()

    assert all(case.reference in text for case in data.others)
    assert data.seen.reference not in text


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_phone_width_and_keyboard(
    start_live_server: Callable[..., Any], browser: Any, locale: str
) -> None:
    """At 390 px nothing scrolls sideways (the list is cards); Tab shows a visible focus ring."""
    server = start_live_server()
    data = seed_searchable(server.database_url, "Zephyr")
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        locale=locale,
        extra_http_headers={"Accept-Language": locale},
    )
    try:
        page = context.new_page()
        browser_login(page, server.url, data.person)
        widths = {}
        for path in ("/staff/cases", f"/staff/cases/{data.seen.id}"):
            page.goto(f"{server.url}{path}")
            widths[path] = page.evaluate("document.scrollingElement.scrollWidth")
            axe_clean(page)
        page.goto(f"{server.url}/staff/cases")
        # The list itself fits: cards, not a table scrolled sideways inside its box.
        region = page.evaluate(
            "(() => { const r = document.querySelector('.case-list');"
            " return [r.scrollWidth, r.clientWidth]; })()"
        )
        page.goto(f"{server.url}/staff/cases")
        page.keyboard.press("Tab")
        skip = page.evaluate(_FOCUSED)
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        after_skip = page.evaluate(_FOCUSED)
    finally:
        context.close()

    assert all(width <= 390 for width in widths.values()), widths
    assert region[0] <= region[1], region
    assert skip["className"] == "skip-link"
    assert skip["outline"] != "none"
    assert skip["outlineWidth"] != "0px"
    assert after_skip["inMain"], after_skip
    assert after_skip["outline"] != "none"


_FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {
    className: el.className,
    outline: style.outlineStyle,
    outlineWidth: style.outlineWidth,
    inMain: !!el.closest('main'),
  };
}"""
