"""One answer to a missing or ended session: the right login page for a browser, 401 for the API.

Routes do not catch `Unauthorized`: `require_staff` and `require_reporter` raise it and this
handler answers. A staff page goes to the staff login; a reporter page (the report form and
everything under /status) goes back to the receipt form, its stale cookie dropped; an API
client, or one that asks only for JSON, gets the usual 401 error body.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from cases.errors import Unauthorized
from portal.auth import REPORTER_COOKIE
from portal.csrf import delete_host_cookie
from portal.errors import case_error, wants_json

STAFF_LOGIN = "/staff/login"
RECEIPT_LOGIN = "/status"
REPORTER_PAGES = ("/status", "/report")


def login_page_for(path: str) -> str:
    """Where a browser without a live session is sent to log in from this path."""
    reporter = any(path == page or path.startswith(page + "/") for page in REPORTER_PAGES)
    return RECEIPT_LOGIN if reporter else STAFF_LOGIN


async def unauthorized(request: Request, exc: Exception) -> Response:
    """The login page (303) for HTML, the 401 JSON error for the API."""
    assert isinstance(exc, Unauthorized)
    if wants_json(request):
        return await case_error(request, exc)
    target = login_page_for(request.url.path)
    response = RedirectResponse(target, status_code=303)
    if target == RECEIPT_LOGIN:
        delete_host_cookie(response, REPORTER_COOKIE)
    return response
