"""Attack: read the reporter's browser profile afterwards (a shared or company computer, the IT
department, whoever uses it next).

Chromium keeps what was typed into text fields for its autofill suggestions (`Web Data`), and
the body of every form whose answer was a page in its session files (`Sessions/`), to offer
the page again after a restart. A report typed there would stay on that disk: what
happened, the names of the people it accuses, the reporter's own name. So every reporter
form turns autocomplete off, and every form whose body holds the report or the receipt is
answered by a redirect (portal/routes/reporter.py, cases/reports/handover.py).

A real Chromium with a profile on disk sends a report that is refused (no category), files it
as a confidential report, types the receipt back, logs in, replies, files a retaliation
complaint and logs out; then every file of the closed profile is searched.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from support.browser import CHROMIUM, CHROMIUM_ARGS, assert_page_accessible
from support.reporter_http import seed_url

pytestmark = pytest.mark.browser


def found_in(profile: Path, needles: dict[str, str]) -> list[str]:
    """Which needles some file of the profile holds, as UTF-8 or UTF-16 (Chromium's strings)."""
    patterns = {
        name: (value.encode(), value.encode("utf-16-le")) for name, value in needles.items()
    }
    hits = []
    for path in sorted(p for p in profile.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for name, encodings in patterns.items():
            if any(e in data for e in encodings):
                hits.append(f"{name} in {path.relative_to(profile)}")
    return hits


def test_nothing_typed_stays_in_the_browser_profile(
    start_live_server: Any, browser: Any, tmp_path: Path
) -> None:
    """No field of the report (refused once, then filed), no reply, no retaliation complaint
    and no form of the receipt is in the closed profile."""
    server = start_live_server()
    seed_url(server.database_url)
    tag = secrets.token_hex(4).upper()
    typed = {
        "summary": f"Orders diverted QXSUM{tag}",
        "details": f"The Q3 orders went to a rival QXDET{tag}",
        "subject": f"Wang QXWHO{tag}",
        "loss": f"QXLOSS{tag}",
        "identity": f"Li QXME{tag}",
        "contact": f"qxcontact{tag.lower()}@example.net",
        "reply": f"It was order QXREPLY{tag}",
        "complaint": f"Moved to night shifts QXCOMP{tag}",
        "retaliator": f"Zhou QXBOSS{tag}",
    }
    profile = tmp_path / "profile"
    context = browser.browser_type.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        headless=True,
        java_script_enabled=False,
        locale="en",
        extra_http_headers={"Accept-Language": "en"},
    )
    try:
        page = context.new_page()
        page.goto(f"{server.url}/report")
        page.fill("#summary", typed["summary"])
        page.fill("#details", typed["details"])
        page.fill("#subject-name-1", typed["subject"])
        # Refused first (no category): the form comes back with every word.
        page.get_by_role("button", name="Send report").click()
        page.wait_for_load_state("load")
        assert page.locator("#summary").input_value() == typed["summary"]
        page.select_option("#category", index=1)
        page.fill("#summary", typed["summary"])
        page.fill("#details", typed["details"])
        page.fill("#subject-name-1", typed["subject"])
        page.fill("#loss_estimate", typed["loss"])
        page.check("#mode-confidential")
        page.fill("#identity_name", typed["identity"])
        page.fill("#identity_contact", typed["contact"])
        page.get_by_role("button", name="Send report").click()
        receipt = page.locator(".receipt").inner_text().strip()
        assert_page_accessible(browser, page, "en")
        page.fill("#receipt", receipt)
        page.get_by_role("button", name="Check my code").click()
        assert "Your code is correct" in page.locator("main").inner_text()
        assert_page_accessible(browser, page, "en")
        page.go_back()
        page.wait_for_load_state("load")
        closed = page.locator("h1").inner_text()
        assert_page_accessible(browser, page, "en")
        page.goto(f"{server.url}/status")
        page.fill("#receipt", receipt)
        page.get_by_role("button", name="Open my report").click()
        page.fill("#body", typed["reply"])
        page.get_by_role("button", name="Send message").click()
        assert typed["reply"] in page.locator(".message--reporter").inner_text()
        page.goto(f"{server.url}/status/retaliation")
        page.fill("#summary", typed["complaint"])
        page.fill("#details", typed["complaint"])
        page.fill("#subject-name-1", typed["retaliator"])
        page.get_by_role("button", name="Send").click()
        page.wait_for_load_state("load")
        assert page.locator("h1").inner_text() == "Retaliation report received"
        assert_page_accessible(browser, page, "en")
        page.goto(f"{server.url}/status")
        with page.expect_navigation():
            page.get_by_role("button", name="Log out").click()
    finally:
        context.close()

    needles = {
        **typed,
        "receipt": receipt,
        "receipt without dashes": receipt.replace("-", ""),
        "receipt in a form body": receipt.replace("-", "%2D"),
    }
    assert closed == "This receipt page has closed"
    assert found_in(profile, needles) == []
