"""A reporter never loses their words or their code: refused uploads, reloads, saved receipts."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient
from support.reporter_http import NO_FILE, counts, fields, form_tokens, seed
from support.reporter_http import login as reporter
from support.rewards import offer, reward_world, staff_tokens

# Tiny limits keep the test fast: 2000 bytes a file, 3000 a report, two files.
MAX_FILE = 2000
MAX_REPORT = 3000
MAX_FILES = 2
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def small(settings: Any, engine: Engine, _reset_tables: None) -> Iterator[TestClient]:
    """A client on an app whose upload limits are a few kilobytes."""
    from portal.app import create_app

    limits = replace(
        settings.limits,
        upload_max_file=MAX_FILE,
        upload_max_report=MAX_REPORT,
        upload_max_files=MAX_FILES,
    )
    app = create_app(replace(settings, limits=limits), engine=engine)
    with TestClient(app, base_url="https://testserver") as client:
        yield client


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Session]) -> dict[str, Any]:
    """A substantiated case, its reward people and an auditor."""
    return reward_world(app, app_db, aud="auditor")


def typed(ids: dict[str, str], tokens: dict[str, str]) -> dict[str, Any]:
    """Every kind of field the form has, filled in."""
    return fields(
        ids,
        tokens,
        summary="Orders diverted to a competitor",
        details="Wang Wei moved the Acme orders to Rival Ltd in March.",
        subject_name=["Wang Wei", "Li Na"],
        subject_id=["E-1001", "li.na@example.com"],
        exclude=ids["staff"],
        loss_estimate="about 2 million",
        mode="confidential",
        identity_name="Chen Jing",
        identity_contact="chen@example.org",
        keep_names="yes",
    )


def blob(name: str, size: int) -> tuple[str, tuple[str, io.BytesIO, str]]:
    return ("files", (name, io.BytesIO(b"x" * size), "application/octet-stream"))


def assert_every_word_kept(response: Any) -> None:
    values = response.context["values"]
    assert response.template.name == "reporter/form.html"
    assert values["summary"] == "Orders diverted to a competitor"
    assert values["details"].startswith("Wang Wei moved")
    assert values["loss_estimate"] == "about 2 million"
    assert values["mode"] == "confidential"
    assert values["identity_name"] == "Chen Jing"
    assert values["identity_contact"] == "chen@example.org"
    text = response.text
    for word in ("Wang Wei", "E-1001", "Li Na", "li.na@example.com", "Chen Jing"):
        assert word in text
    assert re.search(r'<input id="exclude-1"[^>]*checked', text)
    assert re.search(r'value="[^"]+" selected>', text)  # the category stays chosen
    assert re.search(r'id="mode-confidential"[^>]*checked', text)


# Refused uploads: the files sent, the language asked for, how the files error begins.
REFUSED_UPLOADS = {
    "one file over the per-file limit": (
        [("a.bin", 100), ("big.bin", MAX_FILE + 500)],
        EN,
        "A file is larger than allowed.",
    ),
    # One file too many is not called "too large".
    "one file too many": ([("a.bin", 10), ("b.bin", 10), ("c.bin", 10)], EN, "Too many files"),
    # Each file within the limit, together over the report total.
    "files over the report total": ([("a.bin", 1600), ("b.bin", 1600)], ZH, "这些文件加起来超过了"),
}


@pytest.mark.parametrize("case", sorted(REFUSED_UPLOADS))
def test_refused_files_keep_every_typed_field_and_file_nothing(
    small: TestClient, app_db: sessionmaker[Session], case: str
) -> None:
    """A refused upload (413) re-renders the form with every word and says which limit was
    passed, next to the files field; nothing is stored."""
    files, headers, message = REFUSED_UPLOADS[case]
    ids = seed(app_db)

    response = small.post(
        "/report",
        data=typed(ids, form_tokens(small)),
        files=[blob(name, size) for name, size in files],
        headers=headers,
    )

    assert response.status_code == 413
    assert_every_word_kept(response)
    assert response.context["errors"]["files"].startswith(message)
    assert 'id="files-error"' in response.text
    assert counts(app_db) == (0, 0, 0)


def test_a_body_far_over_the_report_limit_still_keeps_the_words(
    small: TestClient, app_db: sessionmaker[Session]
) -> None:
    """A file many times the report's limit (past the 1 MiB of framing room the body limit
    allows) still ends on the form with every word kept, not on the plain "too large" page."""
    ids = seed(app_db)

    response = small.post(
        "/report",
        data=typed(ids, form_tokens(small)),
        files=[blob("huge.bin", 3 * 1024 * 1024)],
        headers=ZH,
    )

    assert response.status_code == 413
    assert_every_word_kept(response)
    assert counts(app_db) == (0, 0, 0)


def test_after_a_refused_file_the_kept_form_still_files(
    small: TestClient, app_db: sessionmaker[Session]
) -> None:
    """The re-rendered form carries a fresh one-time token: sending it again files the report."""
    ids = seed(app_db)
    refused = small.post(
        "/report",
        data=typed(ids, form_tokens(small)),
        files=[blob("big.bin", MAX_FILE + 1)],
    )
    tokens = {
        "csrf": re.findall(r'name="csrf" value="([0-9a-f]+)"', refused.text)[0],
        "once": re.findall(r'name="once" value="([^"]+)"', refused.text)[0],
    }

    again = small.post("/report", data=typed(ids, tokens), files=[blob("ok.bin", 100)])

    assert again.status_code == 200
    assert counts(app_db)[:2] == (1, 1)


def test_form_states_the_limits_next_to_the_file_field(
    small: TestClient, app_db: sessionmaker[Session]
) -> None:
    """The file field's hints name the per-file and per-report limits, in both languages."""
    seed(app_db)

    english = small.get("/report", headers=EN).text
    chinese = small.get("/report", headers=ZH).text

    assert "Each file can be up to 1.95 KiB" in english
    assert "up to 2.93 KiB" in english
    assert "每个文件最大 1.95 KiB" in chinese
    assert 'aria-describedby="files-hint files-limits"' in english


def test_a_form_sent_again_says_the_report_was_filed(
    client: TestClient, app_db: sessionmaker[Session]
) -> None:
    """Resending a filed form (a reload) says it WAS filed and what to do without the code."""
    ids = seed(app_db)
    tokens = form_tokens(client)
    first = client.post("/report", data=fields(ids, tokens), files=NO_FILE, headers=ZH)

    again = client.post("/report", data=fields(ids, tokens), files=NO_FILE, headers=ZH)

    assert first.status_code == 200
    assert again.status_code == 200  # the "already filed" page, after the redirect
    assert again.template.name == "reporter/already_filed.html"
    assert "您的举报已经提交过了" in again.text
    assert "重新提交一份举报" in again.text
    assert first.context["receipt"] not in again.text
    assert counts(app_db)[0] == 1


def test_receipt_saves_as_a_text_file_from_a_post_body(
    client: TestClient, app_db: sessionmaker[Session]
) -> None:
    """The save button POSTs the code and gets it back as a no-store attachment, nowhere else."""
    ids = seed(app_db)
    done = client.post("/report", data=fields(ids, form_tokens(client)), files=NO_FILE)
    receipt = done.context["receipt"]
    csrf = re.findall(r'name="csrf" value="([0-9a-f]+)"', done.text)[0]
    assert 'action="/report/receipt.txt"' in done.text

    saved = client.post("/report/receipt.txt", data={"csrf": csrf, "receipt": receipt}, headers=ZH)
    forged = client.post(
        "/report/receipt.txt", data={"csrf": csrf, "receipt": "<script>x</script>"}
    )
    no_csrf = client.post("/report/receipt.txt", data={"receipt": receipt})

    assert saved.status_code == 200
    assert saved.headers["content-disposition"].startswith("attachment")
    assert saved.headers["cache-control"] == "no-store"
    assert saved.headers["content-type"].startswith("text/plain")
    assert receipt in saved.text
    assert "回执码" in saved.text
    assert receipt not in str(saved.headers)
    assert all(receipt not in value for value in client.cookies.values())
    assert forged.status_code == 400
    assert "<script>" not in forged.text
    assert no_csrf.status_code == 403


def test_receipt_page_loads_the_same_origin_script_and_no_inline_one(
    client: TestClient, app_db: sessionmaker[Session]
) -> None:
    """The copy/leave-warning help is a same-origin file; the page has no inline script."""
    ids = seed(app_db)
    done = client.post("/report", data=fields(ids, form_tokens(client)), files=NO_FILE)

    script = client.get("/static/reporter.js")

    assert '<script src="/static/reporter.js" defer></script>' in done.text
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", done.text) == []
    assert 'id="copy-receipt" hidden' in done.text
    assert script.status_code == 200
    assert "beforeunload" in script.text
    assert "clipboard" in script.text


def test_chinese_catalogue_says_huizhima_for_the_receipt_code() -> None:
    """zh-CN names the receipt code 回执码 everywhere: no translation says 凭证码 or 凭证."""
    locales = Path(__file__).resolve().parents[2] / "portal" / "locales" / "zh_CN"

    offenders = [
        f"{path.name}: {line.strip()}"
        for path in sorted(locales.glob("*.po"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("msgstr") and "凭证" in line
    ]

    assert offenders == []


def test_a_reload_that_resends_files_empty_still_says_filed(
    client: TestClient, app_db: sessionmaker[Session]
) -> None:
    """A browser reload may resend the chosen file without its bytes: still "it was filed"."""
    ids = seed(app_db)
    tokens = form_tokens(client)
    first = client.post(
        "/report", data=fields(ids, tokens), files=[blob("notes.txt", 20)], headers=EN
    )

    again = client.post(
        "/report", data=fields(ids, tokens), files=[blob("notes.txt", 0)], headers=EN
    )

    assert first.status_code == 200
    assert again.status_code == 200  # the "already filed" page, after the redirect
    assert again.template.name == "reporter/already_filed.html"
    assert counts(app_db)[:2] == (1, 1)


def test_an_empty_file_keeps_the_words(small: TestClient, app_db: sessionmaker[Session]) -> None:
    """A chosen file with no bytes brings the form back whole with the problem on the files."""
    ids = seed(app_db)

    response = small.post(
        "/report", data=typed(ids, form_tokens(small)), files=[blob("e.pdf", 0)], headers=EN
    )

    assert response.status_code == 422
    assert_every_word_kept(response)
    assert response.context["errors"]["files"] == "A file you chose is empty."
    assert counts(app_db) == (0, 0, 0)


def test_switching_language_on_a_half_filled_form_keeps_every_word(
    small: TestClient, app_db: sessionmaker[Session]
) -> None:
    """The form's language switch is a button that carries the fields into the other language."""
    ids = seed(app_db)
    page = small.get("/report", headers=ZH).text
    assert 'form="report-form" formaction="/report/language"' in page
    tokens = form_tokens(small)
    typed_form = {k: v for k, v in typed(ids, tokens).items() if k != "once"}

    switched = small.post("/report/language", data={**typed_form, "switch_lang": "en"}, headers=ZH)

    assert switched.status_code == 200
    assert_every_word_kept(switched)
    assert "<h1>Make a report</h1>" in switched.text
    assert 'lang="en"' in switched.text
    assert small.cookies.get("__Host-lang") == "en"
    assert counts(app_db) == (0, 0, 0)


def _reporter_login(client: TestClient, receipt: str) -> str:
    """Opens a reporter session by the HTML form; returns a CSRF token for later forms."""
    csrf = re.findall(r'name="csrf" value="([0-9a-f]+)"', client.get("/status").text)[0]
    opened = client.post("/status", data={"csrf": csrf, "receipt": receipt})
    assert opened.status_code in (200, 303), opened.text
    return re.findall(r'name="csrf" value="([0-9a-f]+)"', client.get("/status").text)[0]


def test_declining_a_reward_asks_first_and_can_be_undone_until_it_expires(
    client: TestClient,
    world: dict[str, Any],
    app_db: sessionmaker[Session],
) -> None:
    """Saying no asks to confirm; a confirmed no can be taken back until the offer's last day."""
    from sqlalchemy import select

    from cases.audit.models import HeldAuditEntry

    offer(client, world, staff_tokens(client, world))
    api = reporter(client, world["receipt"])
    csrf = _reporter_login(client, world["receipt"])

    def status() -> dict[str, Any]:
        answer: dict[str, Any] = client.get("/api/v1/reporter/reward", headers=api).json()
        return answer

    asked = client.post(
        "/status/reward/decline", data={"csrf": csrf}, headers=EN, follow_redirects=False
    )
    assert asked.status_code == 200
    assert "Say no to the reward?" in asked.text
    assert status()["status"] == "offered"

    declined = client.post(
        "/status/reward/decline", data={"csrf": csrf, "confirm": "yes"}, follow_redirects=False
    )
    assert declined.status_code == 303
    assert status()["status"] == "declined"
    assert status()["undo_until"] == status()["expires_on"]
    assert 'action="/status/reward/undo"' in client.get("/status/reward").text

    undone = client.post("/status/reward/undo", data={"csrf": csrf}, follow_redirects=False)
    assert undone.status_code == 303
    assert status()["status"] == "offered"

    client.post(
        "/status/reward/decline", data={"csrf": csrf, "confirm": "yes"}, follow_redirects=False
    )
    expires = status()["expires_on"]
    world["clock"].advance(days=91)
    # The sessions ended long ago: the reporter comes back with the receipt.
    csrf = _reporter_login(client, world["receipt"])
    api.update(reporter(client, world["receipt"]))
    late = client.post(
        "/status/reward/undo", data={"csrf": csrf}, headers=EN, follow_redirects=False
    )
    assert late.status_code == 409
    assert status()["status"] == "declined"
    assert status()["undo_until"] is None
    with app_db() as db:
        held = db.scalars(
            select(HeldAuditEntry).where(HeldAuditEntry.action == "reward.decline_undo")
        ).all()
    assert len(held) == 1
    assert held[0].actor_kind == "reporter"
    assert expires


def test_payout_form_says_who_sees_what_and_is_styled(
    client: TestClient,
    world: dict[str, Any],
) -> None:
    """The payout fields are text inputs (styled like every form) under a "who sees what" list."""

    offer(client, world, staff_tokens(client, world))
    _reporter_login(client, world["receipt"])

    page = client.get("/status/reward", headers=EN).text

    assert "Who will see what" in page
    assert "The finance team sees" in page
    assert re.search(r'<input id="account" name="account" type="text"', page)
