"""Attack: read the server's log to date a reporter's visit.

Every log line carries the moment it was written. A reporter whose receipt form was refused
(an old page, a lost cookie) or who met a server error must not leave a line dated to the
second: such lines wait for the hour to end and are then written once, counted
(portal/held_log.py). Staff requests are still logged at once.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from portal.held_log import HELD
from portal.middleware import ErrorPages

HOUR = datetime(2026, 3, 2, 10, 0)


@pytest.fixture(autouse=True)
def nothing_held() -> None:
    HELD.flush(HOUR)


def refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "CSRF refusal" in r.getMessage()]


def test_a_refused_receipt_form_is_not_logged_until_its_hour_is_over(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Two refused receipt forms: no line at the time; after the hour one line, counted,
    that says which hour and nothing finer."""
    caplog.set_level(logging.DEBUG)
    client.get("/status")
    first = client.post("/status", data={"csrf": "0" * 64, "receipt": "x"})
    second = client.post("/status", data={"receipt": "y"})
    at_the_time = refusals(caplog)

    HELD.flush(HOUR)
    after = refusals(caplog)

    assert (first.status_code, second.status_code) == (403, 403)
    assert at_the_time == []
    assert len(after) == 2  # two causes (wrong token, no token), one line each
    assert all(
        "1 time on reporter pages in the hour before 2026-03-02 10:00 UTC" in r.getMessage()
        for r in after
    )
    assert all("/status" in r.getMessage() for r in after)


def test_a_refused_staff_form_is_logged_at_once(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Staff times are not secret: a refused staff login form is logged when it happens."""
    caplog.set_level(logging.DEBUG)
    client.get("/staff/login")

    refused = client.post("/staff/login", data={"csrf": "0" * 64, "email": "a@b.example"})

    assert refused.status_code == 403
    assert [r.getMessage() for r in refusals(caplog)] == [
        "CSRF refusal on POST /staff/login: mismatch: the form's token was made for another "
        "cookie (an expired page from an earlier browser session), another form, or another "
        "server secret"
    ]
    assert HELD.held() == 0


async def _broken(request: Request) -> Response:
    raise RuntimeError("a bug")


@pytest.mark.parametrize(("path", "at_once"), [("/report", False), ("/staff/cases", True)])
def test_a_server_error_on_a_reporter_page_is_held(
    path: str, at_once: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """The 500 page's log line: held on a reporter's page, at once on a staff page."""
    caplog.set_level(logging.DEBUG)
    app = Starlette(routes=[Route(path, _broken, methods=["GET"])])
    with TestClient(ErrorPages(app), raise_server_exceptions=False) as http:
        status = http.get(path).status_code
    at_the_time = [r for r in caplog.records if "unhandled builtins.RuntimeError" in r.getMessage()]
    HELD.flush(HOUR)
    later = [r for r in caplog.records if "unhandled builtins.RuntimeError" in r.getMessage()]

    assert status == 500
    assert len(at_the_time) == (1 if at_once else 0)
    assert len(later) == 1


def test_the_parser_warning_about_a_broken_upload_is_held(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A malformed report body (a dropped connection, a broken client): the multipart
    parser's warning is not written then, and comes out counted once the hour is over."""
    caplog.set_level(logging.DEBUG)
    client.get("/report")
    refused = client.post(
        "/report",
        content=b"--xyz\r\nA header without a colon\r\n\r\nv\r\n--xyz--\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    at_the_time = [r for r in caplog.records if "python_multipart" in r.getMessage() + r.name]

    HELD.flush(HOUR)
    later = [r for r in caplog.records if r.getMessage().startswith("python_multipart")]

    assert refused.status_code == 400
    assert at_the_time == []
    assert len(later) == 1
    assert "1 time on reporter pages" in later[0].getMessage()
