"""Chromium through Playwright (Debian's /usr/bin/chromium, never a downloaded one) and axe."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CHROMIUM = Path(os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TIMEOUT_SECONDS = 30
BLOCKING_IMPACTS = ("serious", "critical")


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class RequestLog:
    """Every request a browser context made (pages, frames and workers), in order."""

    urls: list[str] = field(default_factory=list)

    def attach(self, context: Any) -> RequestLog:
        context.on("request", lambda request: self.urls.append(request.url))
        return self

    def foreign(self, allowed_origin: str) -> list[str]:
        """Requests that left `allowed_origin` (data: and about: URLs never leave the page)."""
        return [
            url
            for url in self.urls
            if urlsplit(url).scheme not in {"data", "about", "blob"}
            and origin(url) != allowed_origin
        ]


def run_axe(page: Any, timeout_seconds: float = AXE_TIMEOUT_SECONDS) -> dict[str, Any]:
    """axe-core's results for the page, or an error if axe has not answered within the timeout.

    Playwright's evaluate has no timeout of its own, so the race happens inside the page.
    """
    from axe_playwright_python.sync_playwright import Axe

    page.evaluate(Axe().axe_script)
    results: dict[str, Any] = page.evaluate(
        """([options, ms]) => Promise.race([
            axe.run(document, options),
            new Promise((_, reject) => setTimeout(
                () => reject(new Error(`axe did not finish within ${ms} ms`)), ms)),
        ])""",
        [{"resultTypes": ["violations"]}, int(timeout_seconds * 1000)],
    )
    return results


def blocking_violations(results: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in results["violations"] if v.get("impact") in BLOCKING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.extend(
            f"    {json.dumps(node['target'])}: {node.get('failureSummary', '')}"
            for node in violation["nodes"]
        )
    return "\n".join(lines)


def assert_page_accessible(browser: Any, page: Any, locale: str) -> None:
    """axe on the page as the JS-free browser got it (axe itself needs JS: a second context
    is served the same HTML at the same address, so styles load as they did)."""
    # A click that submits a form returns once navigation starts: wait for the new page.
    page.wait_for_load_state("load")
    html, url = page.content(), page.url
    context = browser.new_context(java_script_enabled=True, locale=locale)
    try:
        context.route(url, lambda route: route.fulfill(body=html, content_type="text/html"))
        checker = context.new_page()
        checker.goto(url)
        violations = blocking_violations(run_axe(checker))
    finally:
        context.close()
    assert not violations, f"axe on {url} ({locale}):\n{describe(violations)}"


def axe_clean(page: Any) -> None:
    """axe finds no serious or critical violation on the page as it is now."""
    violations = blocking_violations(run_axe(page))
    assert not violations, f"axe on {page.url}:\n{describe(violations)}"


def submit(page: Any, action: str) -> None:
    """Click the submit button of the form posting to `action`; wait for the next page."""
    page.locator(f"form[action$='{action}'] button[type=submit]").first.click()
    page.wait_for_load_state("load")


def staff_login(
    page: Any, url: str, email: str, password: str, secret: bytes, ahead: int = 0
) -> None:
    """Log in on the staff pages with password and the TOTP code `ahead` seconds from now."""
    import crypto

    page.goto(f"{url}/staff/login")
    page.fill("#email", email)
    page.fill("#password", password)
    submit(page, "/staff/login")
    page.fill("#code", crypto.totp_code(secret, time.time() + ahead))
    submit(page, "/staff/login/totp")
