"""Staff endpoints check the session before reading a single byte of the body.

Without this an anonymous client could make the server parse (and hold) a large form on
any staff page before the page found out there was no session. The route still checks
the session and the roles itself; the gate only refuses early, from the headers alone.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from cases.db import unit_of_work
from portal.areas import STAFF_AREAS
from portal.auth import LOGIN_REQUIRED, staff_session
from portal.errors import error_response
from portal.signin import STAFF_LOGIN as TO_LOGIN

# Logging in and enrolling by a one-time link start without a session (their forms stay
# within the small form limit; the link's token is checked by the route).
ANONYMOUS = frozenset({"/staff/login", "/api/v1/staff/session", "/api/v1/staff/enrolment"})
ANONYMOUS_PREFIXES = ("/staff/enrol/",)
# The code, enrolment and own-password steps of a login run on the half session the
# password opened.
HALF_SESSION = frozenset({"/staff/login/totp", "/staff/login/enroll", "/staff/login/password"})
READ_ONLY = frozenset({"GET", "HEAD", "OPTIONS"})


def gated(method: str, path: str) -> bool:
    """Whether a request must show a staff session before its body is read."""
    if method in READ_ONLY or path in ANONYMOUS or path.startswith(ANONYMOUS_PREFIXES):
        return False
    return any(path == area or path.startswith(area + "/") for area in STAFF_AREAS)


class StaffFirst:
    """Answers a staff request without a live session at once: the login page or a 401."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not gated(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        if await run_in_threadpool(_has_session, conn):
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/api/"):
            refusal = error_response(conn, 401, "login_required", LOGIN_REQUIRED)
        else:
            refusal = RedirectResponse(TO_LOGIN, status_code=303, headers={"Connection": "close"})
        await refusal(scope, receive, send)


def _has_session(conn: HTTPConnection) -> bool:
    with unit_of_work(conn.app.state.db) as db:
        active = staff_session(conn, db)
    if active is None:
        return False
    return active.stage == "full" or conn.url.path in HALF_SESSION
