"""Files put on a case the way people do it: through the real upload endpoints.

Staff evidence goes through the staff page's form (`POST /staff/cases/{id}/evidence`, a
streaming multipart upload behind a staff session and CSRF token); reporter files through
the reporter API's streaming upload. Nothing here writes an attachment row directly.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

from cases.clock import FixedClock
from cases.db import unit_of_work
from cases.reports.models import Attachment
from portal.start_pages import start_page
from support.arrivals import list_arrivals
from support.staff_world import Person

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def page_csrf(client: Any, path: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF.search(client.get(path).text)
    assert match, path
    return match.group(1)


def staff_browser(app: Any, person: Person, clock: FixedClock) -> TestClient:
    """A client of its own, logged in on the staff pages (password, then TOTP).

    The clock moves on 30 s afterwards, so the next login of the same person gets a fresh
    code. The caller's own client keeps its cookies.
    """
    browser = TestClient(app, base_url="https://testserver")
    token = page_csrf(browser, "/staff/login")
    first = browser.post(
        "/staff/login",
        data={"csrf": token, "email": person.account.email, "password": person.password},
        follow_redirects=False,
    )
    assert first.headers["location"] == "/staff/login/totp", first.status_code
    second = browser.post(
        "/staff/login/totp",
        data={"csrf": token, "code": person.code(clock)},
        follow_redirects=False,
    )
    assert second.headers["location"] == start_page(person.account.role_names)
    clock.advance(seconds=30)
    return browser


def staff_upload(
    app: Any,
    person: Person,
    clock: FixedClock,
    case_id: str,
    name: str,
    data: bytes,
    content_type: str = "application/octet-stream",
) -> str:
    """Upload one file as `person` through the case page's evidence form; returns its id."""
    browser = staff_browser(app, person, clock)
    before = _file_ids(app, case_id)
    path = f"/staff/cases/{case_id}"
    answer = browser.post(
        f"{path}/evidence",
        files=[("csrf", (None, page_csrf(browser, path))), ("file", (name, data, content_type))],
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    [file_id] = _file_ids(app, case_id) - before
    return file_id


def reporter_upload(client: Any, receipt: str, name: str, data: bytes) -> str:
    """Log in with the receipt and add one file through the reporter API; returns its id."""
    session = client.post("/api/v1/reporter/session", json={"receipt": receipt})
    assert session.status_code == 200, session.text
    auth = {"Authorization": f"Bearer {session.json()['token']}"}
    answer = client.post("/api/v1/reporter/attachments", headers=auth, files={"file": (name, data)})
    assert answer.status_code == 201, answer.text
    file_id: str = answer.json()["id"]
    # Staff see it once the jobs round has listed it at the next full hour (arrivals.py).
    list_arrivals(client.app.state.db, getattr(client.app.state, "clock", None))
    return file_id


def _file_ids(app: Any, case_id: str) -> set[str]:
    with unit_of_work(app.state.db) as db:
        stmt = select(Attachment.id).where(
            Attachment.case_id == case_id, Attachment.linked.is_(True)
        )
        return set(db.scalars(stmt))
