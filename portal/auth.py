"""Finding the caller's session: a `__Host-` cookie for pages, a bearer token for the API.

Staff and reporter sessions use different cookies and are checked for their kind, so a
reporter token can never act as a staff session or the other way round.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from cases.errors import Unauthorized
from cases.principals import ReporterPrincipal, StaffPrincipal
from cases.reports.models import Receipt
from cases.sessions.service import ActiveSession, SessionService
from cases.staff.models import StaffAccount
from portal.deps import clock_of, reporter_session_policy, settings_of, staff_session_policy
from portal.i18n import N_

LOGIN_REQUIRED = N_("Please log in.")
SESSION_ENDED = N_("Your session has ended. Enter your receipt again.")

STAFF_COOKIE = "__Host-staff"
REPORTER_COOKIE = "__Host-reporter"


def bearer_token(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def token_for(conn: HTTPConnection, cookie: str) -> str | None:
    """API paths take only a bearer token; pages take only the cookie (so CSRF holds)."""
    if conn.url.path.startswith("/api/"):
        return bearer_token(conn)
    return conn.cookies.get(cookie)


def staff_session(conn: HTTPConnection, db: Session) -> ActiveSession | None:
    token = token_for(conn, STAFF_COOKIE)
    if not token:
        return None
    policy = staff_session_policy(settings_of(conn))
    active = SessionService(db, clock_of(conn)).resume(token, policy)
    if active is None or active.kind != "staff":
        return None
    return active


def require_staff(conn: HTTPConnection, db: Session) -> StaffPrincipal:
    """The logged-in staff member (TOTP passed), or Unauthorized."""
    active = staff_session(conn, db)
    if active is None or active.stage != "full" or active.staff_id is None:
        raise Unauthorized(LOGIN_REQUIRED, code="login_required")
    account = db.get(StaffAccount, active.staff_id)
    if account is None or not account.active:
        raise Unauthorized(LOGIN_REQUIRED, code="login_required")
    return StaffPrincipal(account, active.secret)


def require_reporter(conn: HTTPConnection, db: Session) -> ReporterPrincipal:
    """The reporter session opened with a receipt, or Unauthorized."""
    token = token_for(conn, REPORTER_COOKIE)
    if not token:
        raise Unauthorized(SESSION_ENDED, code="no_session")
    policy = reporter_session_policy(settings_of(conn))
    active = SessionService(db, clock_of(conn)).resume(token, policy)
    if active is None or active.kind != "reporter" or active.receipt_id is None:
        raise Unauthorized(SESSION_ENDED, code="no_session")
    receipt = db.get(Receipt, active.receipt_id)
    if receipt is None:
        raise Unauthorized(SESSION_ENDED, code="no_session")
    return ReporterPrincipal(receipt, active.secret)
