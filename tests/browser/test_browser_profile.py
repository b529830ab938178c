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

Forms refused before the portal reads them (an expired form, a body over a size limit) are
answered by a redirect too, to a page that says why (portal/form_refusals.py): the second
test sends each kind from a real Chromium and searches the closed profile the same way.
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


def persistent_chromium(browser: Any, profile: Path) -> Any:
    """A JS-free Chromium context whose profile is kept on disk, as a reporter's would be."""
    return browser.browser_type.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        headless=True,
        java_script_enabled=False,
        locale="en",
        extra_http_headers={"Accept-Language": "en"},
    )


def receipt_needles(receipt: str) -> dict[str, str]:
    """Each form of the receipt that could be stored: as shown, bare, and form-encoded."""
    return {
        "receipt": receipt,
        "receipt without dashes": receipt.replace("-", ""),
        "receipt in a form body": receipt.replace("-", "%2D"),
    }


def last_words(typed: dict[str, str]) -> dict[str, str]:
    """Each value's last word alone: a form-encoded body turns the spaces into "+"."""
    return {f"{name} (last word)": value.split()[-1] for name, value in typed.items()}


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
    context = persistent_chromium(browser, profile)
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

    needles = {**typed, **last_words(typed), **receipt_needles(receipt)}
    assert closed == "This receipt page has closed"
    assert found_in(profile, needles) == []


def refused_page(browser: Any, page: Any, why: str, heading: str) -> None:
    """The browser followed the refusal's redirect to the page that says why; axe passes."""
    page.wait_for_load_state("load")
    assert f"/refused/{why}?" in page.url
    assert page.locator("h1").inner_text() == heading
    assert_page_accessible(browser, page, "en")


def test_forms_refused_before_they_are_read_leave_nothing_in_the_browser_profile(
    start_live_server: Any, browser: Any, tmp_path: Path
) -> None:
    """An expired report form, an over-long report, an expired receipt form, an expired reply
    and evidence over the size limit (refused before a byte is read) leave none of their
    words, the receipt or the file's name in the closed profile."""
    from portal.settings import Limits

    limits = Limits(upload_max_file=256 * 1024, upload_max_report=512 * 1024)
    server = start_live_server(limits=limits)
    seed_url(server.database_url)
    tag = secrets.token_hex(4).upper()
    typed = {
        "expired summary": f"Orders diverted QXSUM{tag}",
        "expired details": f"The Q3 orders went to a rival QXDET{tag}",
        "expired subject": f"Wang QXWHO{tag}",
        "expired identity": f"Li QXME{tag}",
        "long summary": f"Invoices doubled QXLONG{tag}",
        "long details": f"The invoices were paid twice QXLDET{tag}",
        "expired reply": f"It was order QXREPLY{tag}",
    }
    evidence = tmp_path / f"wang-ledger-QXFILE{tag}.pdf"
    # Over the evidence endpoint's body limit (512 KiB + 1 MiB of room): refused by its
    # declared length before any byte is read, while the browser is still sending it.
    evidence.write_bytes(b"%PDF-1.4\n" + b"x" * (6 * 1024 * 1024))
    profile = tmp_path / "profile"
    context = persistent_chromium(browser, profile)
    try:
        # Each refusal in a tab of its own, left open on the answer: the session files keep
        # every open tab's history, so nothing of it can have rolled over by the end.
        # 1. The report form expires (the browser's session ended: its form cookie is gone).
        page = context.new_page()
        page.goto(f"{server.url}/report")
        page.select_option("#category", index=1)
        page.fill("#summary", typed["expired summary"])
        page.fill("#details", typed["expired details"])
        page.fill("#subject-name-1", typed["expired subject"])
        page.check("#mode-confidential")
        page.fill("#identity_name", typed["expired identity"])
        context.clear_cookies()
        page.get_by_role("button", name="Send report").click()
        refused_page(browser, page, "expired", "This form had expired")
        # 2. A report with a field over 64 KiB, refused while it is read.
        page = context.new_page()
        page.goto(f"{server.url}/report")
        page.select_option("#category", index=1)
        page.fill("#summary", typed["long summary"])
        page.fill("#details", typed["long details"] + " " + "x" * (65 * 1024))
        page.get_by_role("button", name="Send report").click()
        refused_page(browser, page, "too-large", "What you sent was too large")
        page.get_by_role("link", name="Fill in the form again").click()
        assert page.url == f"{server.url}/report"
        # 3. A report filed, so that there is a receipt to type.
        page = context.new_page()
        page.goto(f"{server.url}/report")
        page.select_option("#category", index=1)
        page.fill("#summary", "A filed report")
        page.fill("#details", "Filed so that the receipt forms can be tried")
        page.get_by_role("button", name="Send report").click()
        receipt = page.locator(".receipt").inner_text().strip()
        # 4. The receipt form expires.
        page = context.new_page()
        page.goto(f"{server.url}/status")
        page.fill("#receipt", receipt)
        context.clear_cookies()
        page.get_by_role("button", name="Open my report").click()
        refused_page(browser, page, "expired", "This form had expired")
        # 5. Logged in, a reply's form expires (the form cookie only; the session stays).
        page = context.new_page()
        page.goto(f"{server.url}/status")
        page.fill("#receipt", receipt)
        page.get_by_role("button", name="Open my report").click()
        page.fill("#body", typed["expired reply"])
        context.clear_cookies(name="__Host-csrf")
        page.get_by_role("button", name="Send message").click()
        refused_page(browser, page, "expired", "This form had expired")
        # 6. Evidence over the endpoint's limit: answered before its body is read.
        page = context.new_page()
        page.goto(f"{server.url}/status")
        page.check("#keep_names")
        page.set_input_files("#evidence", str(evidence))
        page.get_by_role("button", name="Upload").click()
        refused_page(browser, page, "too-large", "What you sent was too large")
        page.get_by_role("link", name="Fill in the form again").click()
        assert "No files yet." in page.locator("main").inner_text()
        assert typed["expired reply"] not in page.locator("main").inner_text()
        # 7. Where a stalled upload is sent: Chromium shows a page answered 408 as it is.
        page = context.new_page()
        page.goto(f"{server.url}/refused/stalled?back=status")
        refused_page(browser, page, "stalled", "What you sent stopped arriving")
    finally:
        context.close()

    needles = {**typed, **last_words(typed), **receipt_needles(receipt), "file name": evidence.name}
    assert found_in(profile, needles) == []
