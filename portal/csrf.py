"""CSRF tokens for HTML forms, and the one helper that sets ``__Host-`` cookies.

Each browser gets a random ``__Host-csrf`` cookie; a form carries
HMAC(server secret, cookie value, purpose) in a hidden ``csrf`` field. A cross-site
page can neither read the cookie nor compute the token, and SameSite=Strict keeps
the cookie off cross-site requests anyway. The JSON API needs none of this: it
authenticates only by ``Authorization: Bearer``, never by a cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from typing import NoReturn
from urllib.parse import parse_qsl

from markupsafe import Markup
from starlette.datastructures import FormData, UploadFile
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from cases.errors import CaseError, Forbidden, Kind
from portal.errors import BadRequest, TooLarge, media_type
from portal.held_log import HELD
from portal.i18n import N_

CSRF_COOKIE = "__Host-csrf"
CSRF_FIELD = "csrf"
DEFAULT_PURPOSE = "form"
MAX_FORM_FIELDS = 200

_COOKIE_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
_STATE_NEW_COOKIE = "csrf_new_cookie"
_FORM_TYPE = "application/x-www-form-urlencoded"

# Why a form was refused, never a cookie or token value: operators see the cause at once.
logger = logging.getLogger("portal.csrf")

MISSING_OR_WRONG = N_(
    "This form has expired or was not sent from this site. Go back, reload the page and try again."
)


class UnsupportedForm(CaseError):
    """The form is not sent the way this page expects."""

    kind = Kind.UNSUPPORTED
    code = "unsupported_form"
    default_message = N_("The form is not sent the way this page expects.")


def set_host_cookie(response: Response, name: str, value: str) -> None:
    """Sets a ``__Host-`` cookie with the flags every cookie of the portal carries.

    No Max-Age: the cookie ends with the browser session, so a shared computer
    keeps no lasting trace of a visit to a whistleblowing portal.
    """
    if not name.startswith("__Host-"):
        raise ValueError("portal cookies use the __Host- prefix")
    response.set_cookie(name, value, path="/", secure=True, httponly=True, samesite="strict")


def delete_host_cookie(response: Response, name: str) -> None:
    """Expires a ``__Host-`` cookie (with the same flags, or browsers ignore it)."""
    response.delete_cookie(name, path="/", secure=True, httponly=True, samesite="strict")


def csrf_token(
    conn: HTTPConnection, response: Response | None = None, purpose: str = DEFAULT_PURPOSE
) -> str:
    """The form token for this browser; pass the response to set a new cookie on it."""
    token = _sign(conn, _browser_value(conn), purpose)
    if response is not None:
        set_cookie_if_new(conn, response)
    return token


def csrf_field(conn: HTTPConnection, purpose: str = DEFAULT_PURPOSE) -> Markup:
    """The hidden input a template puts in every form: ``{{ csrf_field() }}``."""
    token = csrf_token(conn, purpose=purpose)
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token)


def set_cookie_if_new(conn: HTTPConnection, response: Response) -> None:
    """Sets the cookie whose value a token was just made from, if the browser lacks it."""
    value = getattr(conn.state, _STATE_NEW_COOKIE, None)
    if value is not None:
        set_host_cookie(response, CSRF_COOKIE, value)


def verify_csrf(conn: HTTPConnection, token: str | None, purpose: str = DEFAULT_PURPOSE) -> None:
    """Raises ``Forbidden(code="csrf")`` unless the token matches this browser's cookie.

    Takes the token rather than reading the body, so the streaming upload parser
    can check the field as soon as it arrives, before any file bytes are stored.
    """
    cookie = conn.cookies.get(CSRF_COOKIE, "")
    if not cookie:
        _refuse(
            conn,
            "missing cookie: the browser sent no csrf cookie (its session ended, or it "
            "dropped the Secure cookie because the page came over plain HTTP at a "
            "non-local address: see PORTAL_BASE_URL)",
        )
    if not _COOKIE_SHAPE.fullmatch(cookie):
        _refuse(conn, "malformed cookie: the csrf cookie is not one this portal sets")
    if not token:
        _refuse(conn, "missing token: the form carried no csrf field")
    if not hmac.compare_digest(token, _sign(conn, cookie, purpose)):
        _refuse(
            conn,
            "mismatch: the form's token was made for another cookie (an expired "
            "page from an earlier browser session), another form, or another server secret",
        )


def _refuse(conn: HTTPConnection, cause: str) -> NoReturn:
    """Logs why a form was refused (never a value) and refuses it."""
    path = conn.url.path
    HELD.log(path, logger, logging.WARNING, "CSRF refusal on %s %s: %s", _method(conn), path, cause)
    raise Forbidden(MISSING_OR_WRONG, code="csrf")


def _method(conn: HTTPConnection) -> str:
    return str(conn.scope.get("method", ""))


async def form_with_csrf(request: Request, purpose: str = DEFAULT_PURPOSE) -> FormData:
    """Reads a small urlencoded form and verifies its ``csrf`` field before returning it."""
    if media_type(request) != _FORM_TYPE:
        raise UnsupportedForm(N_("This page accepts only an ordinary form."))
    form = await read_small_form(request)
    token = form.get(CSRF_FIELD)
    verify_csrf(request, token if isinstance(token, str) else None, purpose)
    return form


async def read_small_form(request: Request) -> FormData:
    """An urlencoded body, capped while it arrives (whole form) and once split (each field)."""
    limits = request.app.state.settings.limits
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limits.max_form_body:
            raise TooLarge(N_("This form is larger than allowed."))
    if body.count(b"&") >= MAX_FORM_FIELDS:
        raise TooLarge(N_("The form has too many fields."))
    try:
        pairs: list[tuple[str, str | UploadFile]] = list(
            parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
        )
    except (UnicodeDecodeError, ValueError):
        raise BadRequest(N_("The form could not be read.")) from None
    if any(len(f"{name}{value!s}".encode()) > limits.max_form_field for name, value in pairs):
        raise TooLarge(N_("A field of the form is too long."))
    return FormData(pairs)


def _browser_value(conn: HTTPConnection) -> str:
    cookie = conn.cookies.get(CSRF_COOKIE, "")
    if _COOKIE_SHAPE.fullmatch(cookie):
        return cookie
    # Remember the new value so every token on this page and the cookie agree.
    value: str | None = getattr(conn.state, _STATE_NEW_COOKIE, None)
    if value is None:
        value = secrets.token_urlsafe(32)
        setattr(conn.state, _STATE_NEW_COOKIE, value)
    return value


def _sign(conn: HTTPConnection, cookie: str, purpose: str) -> str:
    secret: bytes = conn.app.state.settings.secret_key.reveal()
    # A key of its own, so a CSRF token can never double as another HMAC of the secret.
    key = hmac.new(secret, b"portal csrf v1", hashlib.sha256).digest()
    message = f"{cookie}\x00{purpose}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
