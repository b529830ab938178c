"""The ``--insecure-http`` trial mode: the portal on plain HTTP at a non-local address.

Browsers drop ``__Host-`` and ``Secure`` cookies from such a page, so every form would
fail. Only in this mode, this wrapper renames the cookies on the wire (``__Host-csrf``
is sent as ``trial-csrf``, without ``Secure``; HttpOnly, SameSite=Strict and Path=/
stay) and puts a banner on every HTML page: anyone on the network path can read and
change the traffic, so the mode is for made-up reports only. The application inside
never knows: it still reads and sets ``__Host-`` names.
"""

from __future__ import annotations

import logging
import re

from markupsafe import escape
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.i18n import DEFAULT_LOCALE, N_, locale_from_tag, translations

logger = logging.getLogger("portal.trial")

HOST_PREFIX = "__Host-"
TRIAL_PREFIX = "trial-"
BANNER = N_(
    "Trial mode: this portal runs on plain HTTP, without secure cookies. It is not safe "
    "for real reports: use it only with made-up ones."
)
WARNING = (
    "TRIAL MODE (--insecure-http): serving on plain HTTP at %s without secure cookies. "
    "Anyone on the network can read and change what is sent, including reports and staff "
    "passwords. Never use this for real reports; serve behind TLS instead."
)

_SECURE_FLAG = re.compile(rb";\s*secure\s*(?=;|$)", re.IGNORECASE)
_BODY_TAG = re.compile(rb"<body\b[^>]*>", re.IGNORECASE)
_HTML_LANG = re.compile(rb'<html\b[^>]*\blang="([^"]+)"', re.IGNORECASE)


class TrialMode:
    """Wraps the whole ASGI app: trial cookie names in, trial cookies and a banner out."""

    def __init__(self, app: ASGIApp, base_url: str) -> None:
        self.app = app
        logger.warning(WARNING, base_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = dict(scope)
        scope["headers"] = [
            (name, _incoming_cookies(value) if name == b"cookie" else value)
            for name, value in scope["headers"]
        ]
        start: Message | None = None
        body = bytearray()

        async def send_wrapped(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = [
                    (name, _outgoing_cookie(value) if name == b"set-cookie" else value)
                    for name, value in message.get("headers", [])
                ]
                message = {**message, "headers": headers}
                if _is_plain_html(headers):
                    start = message  # held until the whole page is here
                    return
                await send(message)
            elif message["type"] == "http.response.body" and start is not None:
                body.extend(message.get("body", b""))
                if message.get("more_body", False):
                    return
                page = _with_banner(bytes(body))
                headers = [(n, v) for n, v in start["headers"] if n != b"content-length"]
                headers.append((b"content-length", str(len(page)).encode()))
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": page})
            else:
                await send(message)

        await self.app(scope, receive, send_wrapped)


def _incoming_cookies(header: bytes) -> bytes:
    """``trial-csrf=v`` becomes ``__Host-csrf=v``; a real ``__Host-`` cookie is dropped."""
    parts = []
    for part in header.split(b";"):
        name, _, _value = part.strip().partition(b"=")
        if name.startswith(HOST_PREFIX.encode()):
            continue
        if name.startswith(TRIAL_PREFIX.encode()):
            part = HOST_PREFIX.encode() + part.strip()[len(TRIAL_PREFIX) :]
        parts.append(part.strip())
    return b"; ".join(parts)


def _outgoing_cookie(value: bytes) -> bytes:
    if not value.startswith(HOST_PREFIX.encode()):
        return value
    return TRIAL_PREFIX.encode() + _SECURE_FLAG.sub(b"", value[len(HOST_PREFIX) :])


def _is_plain_html(headers: list[tuple[bytes, bytes]]) -> bool:
    values = dict(headers)
    return values.get(b"content-type", b"").startswith(b"text/html") and (
        b"content-encoding" not in values
    )


def _with_banner(page: bytes) -> bytes:
    body = _BODY_TAG.search(page)
    if body is None:
        return page
    lang = _HTML_LANG.search(page)
    locale = locale_from_tag(lang.group(1).decode("ascii", "replace")) if lang else None
    text = translations(locale or DEFAULT_LOCALE).gettext(BANNER)
    banner = f'<div class="trial-banner" role="note"><strong>{escape(text)}</strong></div>'
    return page[: body.end()] + banner.encode() + page[body.end() :]
