"""A reporter never loses a message they typed on the status page: not when it is refused as
too long, not when their session ended while they were writing it."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from support.reporter_http import CSRF, report_body, seed

from cases.clock import FixedClock
from cases.db import unit_of_work
from cases.reports.models import Case, CaseItem

TEXTAREA = re.compile(r"<textarea[^>]*>([^<]*)</textarea>")


def logged_in(client: Any, app: Any, app_db: sessionmaker[Session]) -> FixedClock:
    """A filed report and a browser holding its reporter session on the status page."""
    clock = FixedClock(datetime(2026, 3, 2, 9, 0))
    app.state.clock = clock
    filed = client.post("/api/v1/reports", json=report_body(seed(app_db)))
    assert filed.status_code == 201, filed.text
    token = CSRF.findall(client.get("/status").text)[0]
    form = {"csrf": token, "receipt": filed.json()["receipt"]}
    opened = client.post("/status", data=form, follow_redirects=False)
    assert opened.status_code == 303, opened.text
    return clock


def messages(app_db: sessionmaker[Session]) -> int:
    with unit_of_work(app_db) as db:
        return int(db.scalar(select(func.count()).where(CaseItem.kind == "message")) or 0)


def kept(page: str) -> list[str]:
    return [html.unescape(text) for text in TEXTAREA.findall(page)]


def test_a_reply_refused_as_too_long_comes_back_in_the_box(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """A message over the length limit is refused with every word back in the text box."""
    logged_in(client, app, app_db)
    words = "经理把订单转给了竞争对手。" * 1600 + " <b>&amp;</b>"
    token = CSRF.findall(client.get("/status").text)[0]

    answer = client.post("/status/reply", data={"csrf": token, "body": words})

    assert answer.status_code == 422
    assert words in kept(answer.text)
    assert messages(app_db) == 0


def test_a_reply_after_the_session_ended_is_shown_back_not_lost(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """A message sent after the session idled out is not sent and not stored, but shown back
    with the receipt form, so the reporter can copy it and send it after logging in again."""
    clock = logged_in(client, app, app_db)
    token = CSRF.findall(client.get("/status").text)[0]
    clock.advance(minutes=40)
    words = "He deleted the Q3 order log on Friday night. <script>x</script>"

    sent = client.post("/status/reply", data={"csrf": token, "body": words}, follow_redirects=False)
    answer = client.get(sent.headers["location"])

    # A redirect (the browser keeps no form body), then the words behind its link.
    assert sent.status_code == 303
    assert words not in sent.headers["location"]
    cookies = sent.headers.get_list("set-cookie")
    assert any(c.startswith("__Host-") and "Max-Age=0" in c for c in cookies)
    assert answer.status_code == 401
    assert words in kept(answer.text)
    assert 'action="/status"' in answer.text
    assert messages(app_db) == 0


def test_a_retaliation_complaint_after_the_session_ended_is_shown_back(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """A retaliation complaint sent after the session idled out files nothing and comes back
    word for word with the receipt form."""
    clock = logged_in(client, app, app_db)
    token = CSRF.findall(client.get("/status/retaliation").text)[0]
    clock.advance(minutes=40)
    details = "Since my report I work nights."
    form = {"csrf": token, "summary": "Moved to nights", "details": details}

    answer = client.post("/status/retaliation", data=form, headers={"Accept-Language": "zh-CN"})

    assert answer.status_code == 401
    assert "您写的内容" in answer.text
    assert any("Moved to nights" in t and "I work nights." in t for t in kept(answer.text))
    with unit_of_work(app_db) as db:
        assert db.scalar(select(func.count()).select_from(Case)) == 1
