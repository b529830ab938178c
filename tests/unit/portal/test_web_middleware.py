"""The pure ASGI middleware in isolation: header replacement and per-path body limits."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from starlette.types import Receive, Scope, Send

from portal.middleware import BodyLimit, SecurityHeaders, _content_length, security_headers


async def _banner_app(scope: Scope, receive: Receive, send: Send) -> None:
    headers = [(b"server", b"uvicorn/1.0"), (b"cache-control", b"max-age=3600")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"hi"})


def _run(app: Any) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    anyio.run(app, scope, receive, send)
    return sent


def test_security_headers_replace_a_handlers_own_and_drop_the_server_banner() -> None:
    """A handler's Server or weaker Cache-Control header does not survive the middleware."""
    start = _run(SecurityHeaders(_banner_app, https=True))[0]

    headers = dict(start["headers"])

    assert b"server" not in headers
    assert headers[b"cache-control"] == b"no-store"
    assert [name for name, _ in start["headers"]].count(b"cache-control") == 1


def test_hsts_only_for_https() -> None:
    """Strict-Transport-Security is part of the set only when the portal is on https."""
    assert "strict-transport-security" in security_headers(https=True)
    assert "strict-transport-security" not in security_headers(https=False)


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/report", 3000),
        ("/report/check", 200),
        ("/reports", 200),
        ("/staff/cases/abc/evidence", 3000),
        ("/staff/cases/abc/notes", 200),
        ("/staff/cases/abc/def/evidence", 200),
        ("/api/v1/reporter/attachments", 3000),
        ("/api/v1/reports", 100),
        ("/admin/directory", 50),
        ("/status", 200),
    ],
)
def test_limit_depends_on_the_path(path: str, limit: int) -> None:
    """Exact upload endpoints get their limit, /api/ the JSON limit, the rest the form limit."""
    middleware = BodyLimit(
        _banner_app,
        json_limit=100,
        form_limit=200,
        upload_limits={
            "/report": 3000,
            "/staff/cases/{case_id}/evidence": 3000,
            "/api/v1/reporter/attachments": 3000,
            "/admin/directory": 50,
        },
        body_timeout=5,
    )

    assert middleware.limit_for(path) == limit


@pytest.mark.parametrize(
    ("headers", "length"),
    [
        ([], 0),
        ([(b"content-length", b"12")], 12),
        ([(b"content-length", b"-1")], None),
        ([(b"content-length", b"1e3")], None),
        ([(b"content-length", b"5"), (b"content-length", b"6")], None),
        ([(b"content-length", b"5"), (b"content-length", b"5")], 5),
    ],
)
def test_content_length_parsing(headers: list[tuple[bytes, bytes]], length: int | None) -> None:
    """Only one well-formed non-negative Content-Length is trusted; anything else is None."""
    assert _content_length({"type": "http", "headers": headers}) == length
