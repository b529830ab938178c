"""Pure ASGI middleware: security headers, request body limits, generic error pages.

Pure ASGI rather than BaseHTTPMiddleware so that streaming bodies (1 GiB uploads)
pass through untouched and a limit can stop a body before the app reads it.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Mapping
from pathlib import Path

import anyio
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.areas import published_at_once
from portal.errors import error_response
from portal.held_log import HELD

logger = logging.getLogger("portal.errors")

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "x-frame-options": "DENY",
}
HSTS = "max-age=63072000; includeSubDomains"


def security_headers(https: bool) -> dict[str, str]:
    """The headers every response carries; HSTS only when the portal is served over https."""
    return {**_HEADERS, "strict-transport-security": HSTS} if https else dict(_HEADERS)


class SecurityHeaders:
    """Sets the security headers on every response and removes any ``Server`` banner.

    With an onion address configured, reporter pages (GET, outside the staff areas) also say
    ``Onion-Location``, so Tor Browser offers the reporter the onion service.
    """

    def __init__(self, app: ASGIApp, *, https: bool, onion_url: str = "") -> None:
        self.app = app
        self.headers = [(k.encode(), v.encode()) for k, v in security_headers(https).items()]
        # Ours replace any a handler set: a route cannot weaken the policy by accident.
        self.replaced = {name for name, _ in self.headers} | {b"server", b"onion-location"}
        self.onion_url = onion_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in self.replaced
                ]
                message = {**message, "headers": kept + self.headers + onion}
            await send(message)

        onion = self._onion(scope)
        await self.app(scope, receive, send_with_headers)

    def _onion(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        if not self.onion_url or scope["method"] not in {"GET", "HEAD"}:
            return []
        if published_at_once(scope["path"]):  # staff areas and plumbing: no reporter page
            return []
        path: bytes = scope.get("raw_path") or scope["path"].encode()
        return [(b"onion-location", self.onion_url.encode() + path)]


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a streamed body passes its limit."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodyStalled(HTTPException):
    """Raised from ``receive`` when the next part of a body does not arrive in time."""

    def __init__(self) -> None:
        super().__init__(status_code=408, headers={"Connection": "close"})


class BodyLimit:
    """Refuses oversized bodies before reading them: by Content-Length, then by counting.

    JSON API bodies and HTML forms each have one limit; upload endpoints are named
    exactly (``{param}`` matches one path segment), each with its own limit, given by
    ``create_app`` (``portal.app.upload_limits``). A body that stops arriving for
    ``body_timeout`` seconds is dropped, so a stalled client holds nothing for long.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        json_limit: int,
        form_limit: int,
        upload_limits: Mapping[str, int],
        body_timeout: float,
    ) -> None:
        self.app = app
        self.json_limit = json_limit
        self.form_limit = form_limit
        self.uploads = [(_exact(path), limit) for path, limit in upload_limits.items()]
        self.body_timeout = body_timeout

    def limit_for(self, path: str) -> int:
        """The largest body a path accepts."""
        for pattern, limit in self.uploads:
            if pattern.fullmatch(path):
                return limit
        return self.json_limit if path.startswith("/api/") else self.form_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is None:
            await error_response(HTTPConnection(scope), 400)(scope, receive, send)
            return
        if declared > limit:
            await error_response(HTTPConnection(scope), 413)(scope, receive, send)
            return
        await self._counted(scope, receive, send, limit)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        started = False
        body_done = False

        async def limited_receive() -> Message:
            nonlocal received, body_done
            if body_done:
                # Later receives wait for a disconnect (streaming responses): no deadline.
                return await receive()
            with anyio.move_on_after(self.body_timeout) as waiting:
                message = await receive()
            if waiting.cancelled_caught:
                raise BodyStalled
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
                body_done = not message.get("more_body", False)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except (BodyTooLarge, BodyStalled) as refusal:
            if started:
                raise
            conn = HTTPConnection(scope)
            await error_response(conn, refusal.status_code, headers=refusal.headers)(
                scope, receive, send
            )


def _exact(path: str) -> re.Pattern[str]:
    # "/staff/cases/{case_id}/evidence" matches that one endpoint, not "/staff/cases/x/notes".
    parts = re.split(r"(\{[^}]+\})", path)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


def _content_length(scope: Scope) -> int | None:
    """The declared body length (0 when absent); None when malformed or contradictory."""
    values = {
        value for name, value in scope.get("headers", []) if name.lower() == b"content-length"
    }
    if not values:
        return 0
    if len(values) > 1:
        return None
    raw = values.pop().strip()
    return int(raw) if raw.isdigit() else None


class ErrorPages:
    """Turns any unhandled exception into a generic 500 page; logs the exception type only.

    The log line names the type and the innermost source line, never the message
    (it may quote data), the client address or the body: reporters must stay unseen.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except HTTPException as exc:
            if started:
                raise
            conn = HTTPConnection(scope)
            await error_response(conn, exc.status_code, headers=exc.headers)(scope, receive, send)
        except Exception as exc:
            _log_unhandled(exc, scope["path"])
            if not started:
                await error_response(HTTPConnection(scope), 500)(scope, receive, send)


def _log_unhandled(exc: Exception, path: str) -> None:
    """The type and the innermost source line; on a reporter's page, only once its hour is
    over (portal/held_log.py)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
    HELD.log(path, logger, logging.ERROR, "unhandled %s at %s", kind, where)
