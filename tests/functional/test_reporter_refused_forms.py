"""A reporter's form refused before the portal reads it (an expired form, a body over a size
limit, one it cannot parse, evidence over the case's quota) is answered by a 303 to a page
that says why, with the refusal's status, so the browser keeps no body of it in its session
files (portal/form_refusals.py). Nothing is stored, no throttle or audit counter moves, and
the JSON API and staff pages keep their plain statuses."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient
from support.reporter_http import CSRF, NO_FILE, counts, fields, form_tokens, report_body, seed

from cases.audit.models import AuditEntry, HeldAuditEntry
from cases.clock import FixedClock
from cases.db import unit_of_work
from cases.reports.handover import Handover
from cases.reports.models import CaseItem
from cases.sessions.models import ThrottleCounter
from portal.areas import published_at_once
from portal.form_refusals import BACK_PAGES, REPORTER_FORMS
from portal.middleware import ErrorPages
from portal.routes import all_routes

FORM = "application/x-www-form-urlencoded"
# A token of the right shape made for no cookie of this browser: an expired form.
STALE = "0" * 64
WORDS = "QXWORDS Wang moved the Acme order"


def stored(app_db: sessionmaker[Session]) -> dict[str, int]:
    """Everything a refused form could have left: cases, files, messages, throttle counters,
    audit entries and handovers."""
    models = {
        "messages": CaseItem,
        "throttles": ThrottleCounter,
        "audit": AuditEntry,
        "held audit": HeldAuditEntry,
        "handovers": Handover,
    }
    with unit_of_work(app_db) as db:
        found = {
            name: int(db.scalar(select(func.count()).select_from(m)) or 0)
            for name, m in models.items()
        }
    cases, files, chunks = counts(app_db)
    return {**found, "cases": cases, "files": files, "chunks": chunks}


def refused(client: Any, answer: Any, why: str, back: str, status: int, heading: str) -> str:
    """The answer is a 303 to the refusal page, which answers with the status and says why."""
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/refused/{why}?back={back}"
    page = client.get(answer.headers["location"])
    assert page.status_code == status
    assert f"<h1>{heading}</h1>" in page.text
    assert f'href="{BACK_PAGES[back]}"' in page.text
    assert "QXWORDS" not in page.text
    return str(page.text)


def logged_in(client: Any, app: Any, app_db: sessionmaker[Session]) -> None:
    """A filed report and a browser holding its reporter session."""
    app.state.clock = FixedClock(datetime(2026, 3, 2, 9, 0))
    filed = client.post("/api/v1/reports", json=report_body(seed(app_db)))
    assert filed.status_code == 201, filed.text
    token = CSRF.findall(client.get("/status").text)[0]
    form = {"csrf": token, "receipt": filed.json()["receipt"]}
    assert client.post("/status", data=form, follow_redirects=False).status_code == 303


@pytest.mark.parametrize("path", sorted(p for p in REPORTER_FORMS if p != "/report"))
def test_every_small_reporter_form_that_expired_is_sent_to_the_refusal_page(
    client: Any, app_db: sessionmaker[Session], path: str
) -> None:
    """An urlencoded reporter form with a stale token: 303 to the 403 page, nothing stored."""
    seed(app_db)
    client.get("/report")  # the browser holds its form cookie
    before = stored(app_db)

    answer = client.post(
        path, data={"csrf": STALE, "receipt": WORDS, "body": WORDS}, follow_redirects=False
    )

    back = REPORTER_FORMS[path]
    if path == "/status/evidence":  # no session: the receipt form, before the body is read
        assert answer.status_code == 303
        assert answer.headers["location"] == "/status"
    else:
        refused(client, answer, "expired", back, 403, "This form had expired")
    assert stored(app_db) == before


def test_an_expired_report_form_is_refused_before_a_file_is_stored(
    client: Any, app_db: sessionmaker[Session]
) -> None:
    """The report form (multipart) without its form cookie: 303 to the 403 page; no case, no
    file, no handover of its words, and the page does not show them."""
    ids = seed(app_db)
    form = fields(ids, form_tokens(client), summary=WORDS)
    files = [("files", ("ledger.pdf", io.BytesIO(b"%PDF-1.4 " * 1000), "application/pdf"))]
    client.cookies.clear()
    before = stored(app_db)

    answer = client.post("/report", data=form, files=files, follow_redirects=False)

    page = refused(client, answer, "expired", "report", 403, "This form had expired")
    assert "nothing was sent" in page
    assert stored(app_db) == before


def test_an_expired_receipt_form_counts_no_failed_attempt(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """Receipt forms refused as expired run no check: past the per-code limit of wrong
    attempts, the right code still opens the report (no throttle counter moved)."""
    app.state.clock = FixedClock(datetime(2026, 3, 2, 9, 0))
    filed = client.post("/api/v1/reports", json=report_body(seed(app_db)))
    receipt = filed.json()["receipt"]
    wrong = receipt[:-4] + ("AAAA" if not receipt.endswith("AAAA") else "BBBB")
    client.get("/status")
    before = stored(app_db)
    limit = app.state.settings.limits.receipt_failures_per_selector

    for path in ["/status", "/report/check"] * limit:
        answer = client.post(path, data={"csrf": STALE, "receipt": wrong}, follow_redirects=False)
        assert answer.headers["location"] == "/refused/expired?back=status"
    assert stored(app_db) == before

    token = CSRF.findall(client.get("/status").text)[0]
    opened = client.post(
        "/status", data={"csrf": token, "receipt": receipt}, follow_redirects=False
    )
    assert opened.status_code == 303
    assert opened.headers["location"] == "/status"


def test_a_reply_refused_unread_stores_nothing_and_keeps_the_session(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """A reply with a stale token, one over the form's field limit and one over the form's body
    limit (refused by its declared length, unread): each a 303 to its page; no message."""
    logged_in(client, app, app_db)
    token = CSRF.findall(client.get("/status").text)[0]
    limits = app.state.settings.limits
    before = stored(app_db)

    stale = client.post(
        "/status/reply", data={"csrf": STALE, "body": WORDS}, follow_redirects=False
    )
    long = client.post(
        "/status/reply",
        data={"csrf": token, "body": WORDS + "x" * limits.max_form_field},
        follow_redirects=False,
    )
    unread = client.post(
        "/status/reply",
        content=b"csrf=" + token.encode() + b"&body=" + b"x" * (limits.max_form_body + 1),
        headers={"Content-Type": FORM},
        follow_redirects=False,
    )

    refused(client, stale, "expired", "status", 403, "This form had expired")
    refused(client, long, "too-large", "status", 413, "What you sent was too large")
    refused(client, unread, "too-large", "status", 413, "What you sent was too large")
    assert stored(app_db) == before
    assert client.get("/status").status_code == 200  # still logged in


def test_a_report_with_a_field_over_the_limit_is_refused_unread(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """A report whose text field is over 64 KiB is refused while read: 303 to the 413 page;
    no case, no file, no handover (its words were never read)."""
    ids = seed(app_db)
    too_long = WORDS + "x" * app.state.settings.limits.max_form_field
    form = fields(ids, form_tokens(client), details=too_long)
    before = stored(app_db)

    answer = client.post("/report", data=form, files=NO_FILE, follow_redirects=False)

    refused(client, answer, "too-large", "report", 413, "What you sent was too large")
    assert stored(app_db) == before


@pytest.mark.parametrize(
    ("body", "content_type", "why", "status"),
    [
        (b"--xyz\r\nnot a part", "multipart/form-data; boundary=xyz", "unreadable", 400),
        (b'{"summary": "QXWORDS"}', "application/json", "unsupported", 415),
    ],
)
def test_a_report_that_cannot_be_read_is_sent_to_the_refusal_page(
    client: Any,
    app_db: sessionmaker[Session],
    body: bytes,
    content_type: str,
    why: str,
    status: int,
) -> None:
    """A broken or foreign body on the report form: 303 to the page with the old status."""
    seed(app_db)
    client.get("/report")
    before = stored(app_db)

    answer = client.post(
        "/report", content=body, headers={"Content-Type": content_type}, follow_redirects=False
    )

    refused(client, answer, why, "report", status, "This form could not be read")
    assert stored(app_db) == before


def limit(app: Any, **changes: int) -> None:
    settings = app.state.settings
    app.state.settings = replace(settings, limits=replace(settings.limits, **changes))


def evidence_post(client: Any, files: list[Any]) -> Any:
    token = CSRF.findall(client.get("/status").text)[0]
    return client.post(
        "/status/evidence", data={"csrf": token}, files=files, follow_redirects=False
    )


def test_evidence_over_the_limits_or_quota_is_refused_to_a_page(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """Evidence over the endpoint's body limit (unread), over the file limit (read and
    deleted) and past today's allowance: each a 303 to its page and status; no file kept."""
    logged_in(client, app, app_db)
    before = stored(app_db)
    big = [("files", ("ledger.pdf", io.BytesIO(b"x" * 64), "application/pdf"))]

    limit(app, upload_max_file=32)
    over_file = evidence_post(client, big)
    limit(app, evidence_files_per_day=0)
    over_today = evidence_post(client, big)

    refused(client, over_file, "file-too-large", "status", 413, "A file was too large")
    refused(client, over_today, "evidence-today", "status", 429, "No more files today")
    assert stored(app_db) == before


def test_evidence_over_the_body_limit_is_refused_before_it_is_read(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """Evidence declared larger than the endpoint takes: 303 to the 413 page, nothing kept."""
    logged_in(client, app, app_db)
    token = CSRF.findall(client.get("/status").text)[0]
    before = stored(app_db)
    huge = 3 * 1024 * 1024 * 1024  # declared only: refused before a byte is read

    answer = client.post(
        "/status/evidence",
        content=b"--xyz\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=xyz", "Content-Length": str(huge)},
        follow_redirects=False,
    )

    assert token
    refused(client, answer, "too-large", "status", 413, "What you sent was too large")
    assert stored(app_db) == before


def test_the_refusal_page_speaks_chinese_and_refuses_unknown_reasons(client: Any) -> None:
    """The page is translated, an unknown reason is a 404, an unknown way back is the form."""
    page = client.get("/refused/expired?back=nowhere", headers={"Accept-Language": "zh-CN"})
    missing = client.get("/refused/nothing")

    assert page.status_code == 403
    assert "此表单已过期，因此没有发送任何内容" in page.text
    assert 'href="/report"' in page.text
    assert missing.status_code == 404


def test_the_api_json_clients_and_staff_forms_keep_their_statuses(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """Only reporter HTML forms are redirected: the JSON API's 413, a JSON client's 403 on a
    reporter form and a staff form's 403 stay as they were."""
    seed(app_db)
    client.get("/report")
    limit = app.state.settings.limits.max_json_body

    api = client.post(
        "/api/v1/reports",
        content=b"{" + b" " * limit + b"}",
        headers={"Content-Type": "application/json"},
        follow_redirects=False,
    )
    json_client = client.post(
        "/status/reply",
        data={"csrf": STALE, "body": WORDS},
        headers={"Accept": "application/json"},
        follow_redirects=False,
    )
    staff = client.post(
        "/staff/login", data={"csrf": STALE, "email": "a@b.c"}, follow_redirects=False
    )

    assert (api.status_code, api.json()["error"]) == (413, "too_large")
    assert (json_client.status_code, json_client.json()["error"]) == (403, "csrf")
    assert staff.status_code == 403
    assert "location" not in staff.headers


async def _broken(request: Request) -> Response:
    raise RuntimeError("a bug")


def test_a_fault_while_answering_a_reporter_form_is_sent_to_the_500_page() -> None:
    """An unhandled error on a reporter form: a 303 to the 500 page; on a staff form the
    500 page itself, as before."""
    routes = [Route(p, _broken, methods=["POST"]) for p in ("/status/reply", "/staff/cases")]
    app = Starlette(routes=routes, middleware=[Middleware(ErrorPages)])
    with TestClient(app, raise_server_exceptions=False) as http:
        reporter = http.post("/status/reply", data={"body": WORDS}, follow_redirects=False)
        staff = http.post("/staff/cases", data={"body": WORDS}, follow_redirects=False)

    assert reporter.status_code == 303
    assert reporter.headers["location"] == "/refused/failed?back=status"
    assert staff.status_code == 500


def test_the_page_of_a_fault_says_so_with_its_status(client: Any) -> None:
    """The refusal page for a fault answers 500 with the 500 page's words."""
    page = client.get("/refused/failed?back=status")

    assert page.status_code == 500
    assert "Something went wrong on our side. Please try again later." in page.text


def test_a_report_with_the_hidden_field_filled_is_sent_to_a_page_without_its_words(
    client: Any, app_db: sessionmaker[Session]
) -> None:
    """The honeypot's refusal (read, but nothing handed back): 303 to the 400 page; no case."""
    ids = seed(app_db)
    form = fields(ids, form_tokens(client), summary=WORDS, website="http://spam.example")
    before = stored(app_db)

    answer = client.post("/report", data=form, files=NO_FILE, follow_redirects=False)

    refused(client, answer, "rejected", "report", 400, "This form could not be accepted")
    assert stored(app_db) == before


def test_an_empty_evidence_file_is_sent_to_a_page_and_nothing_is_kept(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """Evidence with an empty file among the chosen ones: 303 to the 422 page; no file kept."""
    logged_in(client, app, app_db)
    before = stored(app_db)
    files = [
        ("files", ("ledger.pdf", io.BytesIO(b"%PDF-1.4 ledger"), "application/pdf")),
        ("files", ("empty.txt", io.BytesIO(b""), "text/plain")),
    ]

    answer = evidence_post(client, files)

    page = refused(client, answer, "empty-file", "status", 422, "A file was empty")
    assert "A file you chose is empty." in page
    assert stored(app_db) == before


def test_every_reporter_form_of_the_route_table_is_answered_so() -> None:
    """Each POST route a reporter may use outside the API (not staff, not the setup page) is
    in REPORTER_FORMS: a new reporter form cannot be forgotten."""
    posts = {
        route.path
        for route in all_routes()
        if isinstance(route, Route) and "POST" in (route.methods or set())
    }
    reporter_forms = {
        path
        for path in posts
        if not published_at_once(path) and not path.startswith(("/api/", "/setup/"))
    }

    assert reporter_forms == set(REPORTER_FORMS)
