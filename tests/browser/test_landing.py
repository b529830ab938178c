"""The landing page in a real Chromium with JavaScript off: translated, same-origin, accessible."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.browser

HAN = re.compile(r"[\u4e00-\u9fff]")
LOCALES = [
    pytest.param("zh-CN", "zh-CN", True, id="zh-CN"),
    pytest.param("en", "en", False, id="en"),
]


@pytest.mark.parametrize(("locale", "lang", "in_chinese"), LOCALES)
def test_landing_without_javascript_speaks_the_language_and_stays_on_origin(
    live_server: str, page_nojs: Any, locale: str, lang: str, in_chinese: bool
) -> None:
    """With JS off, / renders in the browser's language and requests nothing from elsewhere."""
    response = page_nojs.goto(f"{live_server}/")
    page_nojs.wait_for_load_state("load")

    assert response is not None
    assert response.status == 200
    assert page_nojs.get_attribute("html", "lang") == lang
    heading = page_nojs.locator("h1").first
    assert heading.is_visible()
    assert bool(HAN.search(heading.inner_text())) is in_chinese
    assert f"{live_server}/" in page_nojs.requests.urls
    assert page_nojs.requests.foreign(live_server) == []


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_landing_has_no_serious_accessibility_violation(
    live_server: str, assert_accessible: Callable[[str, str], None], locale: str
) -> None:
    """axe finds no serious or critical violation on / in either language."""
    assert_accessible(f"{live_server}/", locale)
