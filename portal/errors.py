"""Error answers in one place: JSON under /api/, a translated HTML page elsewhere.

Every error shows a stable code and plain words, never a stack trace, a class
name or a value from the request. Domain errors (``cases.errors.CaseError``) carry a
``kind``, not a status: ``STATUS_BY_KIND`` is the one table that turns a kind into an
HTTP status, for the domain's errors and the portal's own (BadRequest, TooLarge…) alike.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ExceptionHandler

from cases.db import unit_of_work
from cases.errors import CaseError, Invalid, Kind, Throttled
from cases.principals import StaffPrincipal
from portal.auth import require_staff
from portal.form_refusals import refused_form_target
from portal.held_log import HELD
from portal.i18n import N_, translator
from portal.shapes import ErrorOut

logger = logging.getLogger("portal.errors")

# status → (code, page title, message); the words are translated when shown.
_STATUS_TEXT: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", N_("Bad request"), N_("The request could not be understood.")),
    401: (
        "unauthorized",
        N_("Not signed in"),
        N_("Please sign in, or check what you entered, and try again."),
    ),
    403: ("forbidden", N_("Not allowed"), N_("You are not allowed to do this.")),
    404: (
        "not_found",
        N_("Page not found"),
        N_("There is nothing at this address. Check it, or start again from the home page."),
    ),
    405: (
        "method_not_allowed",
        N_("Not allowed here"),
        N_("This address does not accept that kind of request."),
    ),
    408: (
        "timeout",
        N_("Too slow"),
        N_("What you sent stopped arriving, so it was not accepted. Please send it again."),
    ),
    409: (
        "conflict",
        N_("Something changed"),
        N_("The request conflicts with the current state. Reload the page and try again."),
    ),
    413: (
        "too_large",
        N_("Too large"),
        N_("What you sent is larger than allowed. Send less, or smaller files."),
    ),
    415: (
        "unsupported_media_type",
        N_("Unsupported format"),
        N_("This address does not accept data in that format."),
    ),
    422: ("invalid", N_("Please check your input"), N_("Some of what you entered is not valid.")),
    429: (
        "throttled",
        N_("Too many attempts"),
        N_("Too many attempts. Please wait a while before trying again."),
    ),
    500: (
        "internal",
        N_("Something went wrong"),
        N_("Something went wrong on our side. Please try again later."),
    ),
}
_GENERIC = ("error", N_("Something went wrong"), N_("The request could not be completed."))

# The one table from a refusal's kind to its HTTP status.
STATUS_BY_KIND: dict[Kind, int] = {
    Kind.BAD_REQUEST: 400,
    Kind.UNAUTHORIZED: 401,
    Kind.FORBIDDEN: 403,
    Kind.NOT_FOUND: 404,
    Kind.GONE: 410,
    Kind.CONFLICT: 409,
    Kind.TOO_LARGE: 413,
    Kind.UNSUPPORTED: 415,
    Kind.INVALID: 422,
    Kind.THROTTLED: 429,
}


def http_status(error: CaseError) -> int:
    """The HTTP status that answers a domain (or portal) error, from its kind."""
    return STATUS_BY_KIND[error.kind]


class BadRequest(CaseError):
    """The request could not be understood."""

    kind = Kind.BAD_REQUEST
    code = "bad_request"


class TooLarge(CaseError):
    """What you sent is larger than allowed."""

    kind = Kind.TOO_LARGE
    code = "too_large"
    default_message = N_("What you sent is larger than allowed.")


class UnsupportedMediaType(CaseError):
    """The body is not in the format this address accepts."""

    kind = Kind.UNSUPPORTED
    code = "unsupported_media_type"
    default_message = N_("The body is not in the format this address accepts.")


async def read_json(request: Request) -> dict[str, Any]:
    """The body as a JSON object: 415 unless sent as application/json, 400 ``bad_json`` if bad.

    Only ``application/json`` is read: a cross-site page can send ``text/plain`` without a
    CORS preflight, so accepting it would let any web page file reports through its visitors.
    """
    if media_type(request) != "application/json":
        raise UnsupportedMediaType(N_("Send the body as application/json."))
    body = await request.body()
    try:
        data = json.loads(body, parse_constant=_reject_constant)
        _reject_lone_surrogates(data)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(N_("The body is not valid JSON."), code="bad_json") from exc
    if not isinstance(data, dict):
        raise BadRequest(N_("The body must be a JSON object."), code="bad_json")
    return data


def media_type(conn: HTTPConnection) -> str:
    """The request's Content-Type without parameters, lower case ("" when absent)."""
    return conn.headers.get("content-type", "").split(";")[0].strip().lower()


def _reject_lone_surrogates(value: Any) -> None:
    # "\ud800" is valid JSON syntax but no Unicode text: it could never be stored or shown.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            item.encode("utf-8")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _reject_constant(name: str) -> None:
    # NaN and Infinity are not JSON; Python accepts them unless told not to.
    raise ValueError(name)


def wants_json(conn: HTTPConnection) -> bool:
    """JSON for the API and for clients that ask only for JSON; HTML for browsers."""
    if conn.url.path.startswith("/api/"):
        return True
    accept = conn.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(
    conn: HTTPConnection,
    status: int,
    code: str | None = None,
    message: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    fields: Mapping[str, str] | None = None,
) -> Response:
    """The error answer for a status; code and message default to the status's own.

    A reporter's HTML form refused before its body is read is answered by a redirect to a
    page that says why (portal/form_refusals.py), so the browser keeps no body of it.
    """
    default_code, title, default_message = _STATUS_TEXT.get(status, _GENERIC)
    target = refused_form_target(conn, code or default_code, wants_json(conn))
    if target is not None:
        return RedirectResponse(target, status_code=303, headers=headers)
    _ = translator(conn)
    text = _(message or default_message)
    if wants_json(conn):
        shown = {name: _(value) for name, value in fields.items()} if fields else None
        payload = ErrorOut(error=code or default_code, message=text, fields=shown)
        return JSONResponse(
            payload.model_dump(exclude_none=True), status_code=status, headers=headers
        )
    return _html_page(conn, status, _(title), text, headers)


def _html_page(
    conn: HTTPConnection, status: int, title: str, message: str, headers: Mapping[str, str] | None
) -> Response:
    request = Request(conn.scope)
    try:
        me = _staff_member(request) if _in_staff_area(request) else None
        return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
            request,
            "errors/error.html",
            {"status": status, "title": title, "message": message, "me": me},
            status_code=status,
            headers=headers,
        )
    except Exception as exc:  # an error page must never fail into a traceback
        kind = type(exc).__name__
        HELD.log(conn.url.path, logger, logging.ERROR, "error page could not be rendered: %s", kind)
        return PlainTextResponse(message, status_code=status, headers=headers)


def _in_staff_area(request: Request) -> bool:
    path = request.url.path
    return (path == "/admin" or path.startswith(("/admin/", "/staff/"))) and not path.startswith(
        "/staff/login"
    )


def _staff_member(request: Request) -> StaffPrincipal | None:
    """The signed-in staff member, so a staff error page keeps the staff navigation (or None).

    The account row is detached after the unit of work; the navigation reads only its roles,
    which are loaded with it.
    """
    try:
        with unit_of_work(request.app.state.db) as db:
            return require_staff(request, db)
    except Exception:  # no session, or the database is what failed: the plain error page
        return None


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's HTTPException (404, 405, 413…), without its internal detail."""
    assert isinstance(exc, HTTPException)
    if exc.status_code in {204, 304}:
        return Response(status_code=exc.status_code, headers=exc.headers)
    return error_response(request, exc.status_code, headers=exc.headers)


async def case_error(request: Request, exc: Exception) -> Response:
    """A domain error: its status, code and message; Invalid adds fields, 429 Retry-After."""
    assert isinstance(exc, CaseError)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Throttled) else None
    fields = exc.fields if isinstance(exc, Invalid) else None
    return error_response(
        request, http_status(exc), exc.code, exc.message, headers=headers, fields=fields
    )


def exception_handlers() -> dict[Any, ExceptionHandler]:
    """The handlers ``create_app`` registers with Starlette."""
    return {HTTPException: http_error, CaseError: case_error}
