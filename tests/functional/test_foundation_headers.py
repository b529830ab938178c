"""Every route answers with the security headers, and every cookie carries the strict flags."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import httpx
import pytest
from starlette.applications import Starlette
from starlette.convertors import FloatConvertor, IntegerConvertor, UUIDConvertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.testclient import TestClient

from portal.csrf import csrf_token
from portal.middleware import CONTENT_SECURITY_POLICY, HSTS
from portal.templating import render

EXPECTED_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "x-frame-options": "DENY",
    "strict-transport-security": HSTS,
}
# Realistic values for path parameters whose name a route's meaning depends on.
SAMPLE_PARAMS = {"code": "zh-CN"}


async def _form_page(request: Request) -> Response:
    response = render(request, "errors/error.html", {"title": "t", "message": "m"})
    csrf_token(request, response)
    return response


def _with_form_page(app: Starlette) -> Starlette:
    # No real page renders a form yet; this one makes the CSRF cookie appear.
    app.router.routes.append(Route("/_test/form-page", _form_page, methods=["GET"]))
    return app


def _sample(name: str, convertor: Any) -> str:
    if name in SAMPLE_PARAMS:
        return SAMPLE_PARAMS[name]
    if isinstance(convertor, IntegerConvertor):
        return "1"
    if isinstance(convertor, FloatConvertor):
        return "1.5"
    if isinstance(convertor, UUIDConvertor):
        return str(UUID(int=1))
    return "x"


def _route_requests(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) for every method of every route, Mount children and static files too."""
    for route in routes:
        if isinstance(route, Mount) and isinstance(route.app, StaticFiles):
            yield "GET", f"{prefix}{route.path}/site.css"
            yield "HEAD", f"{prefix}{route.path}/site.css"
            yield "GET", f"{prefix}{route.path}/missing.css"
            yield "POST", f"{prefix}{route.path}/site.css"
        elif isinstance(route, Mount):
            yield from _route_requests(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            params = {n: _sample(n, c) for n, c in route.param_convertors.items()}
            path = prefix + route.path_format.format(**params)
            for method in sorted(route.methods or {"GET"}):
                yield method, path
        else:
            assert isinstance(route, WebSocketRoute), f"unknown route type {route!r}"


def _send(client: TestClient, method: str, path: str) -> httpx.Response:
    body: dict[str, Any] = {}
    if method in {"POST", "PUT", "PATCH"}:
        body = {"json": {}} if path.startswith("/api/") else {"data": {}}
    response: httpx.Response = client.request(method, path, follow_redirects=False, **body)
    return response


def _assert_secure_headers(response: httpx.Response, label: str) -> None:
    for name, value in EXPECTED_HEADERS.items():
        assert response.headers.get(name) == value, f"{label}: {name}"
    assert "server" not in response.headers, f"{label}: server header"


def _assert_cookie_flags(response: httpx.Response, label: str) -> None:
    for header in response.headers.get_list("set-cookie"):
        name = header.split("=", 1)[0]
        attributes = [part.strip().lower() for part in header.split(";")[1:]]
        assert name.startswith("__Host-"), f"{label}: {header}"
        assert "secure" in attributes, f"{label}: {header}"
        assert "httponly" in attributes, f"{label}: {header}"
        assert "samesite=strict" in attributes, f"{label}: {header}"
        assert "path=/" in attributes, f"{label}: {header}"
        assert not any(a.startswith("domain=") for a in attributes), f"{label}: {header}"


@pytest.fixture
def full_client(app: Starlette) -> Iterator[TestClient]:
    """A client on https://testserver for the app with the test form page added."""
    with TestClient(_with_form_page(app), base_url="https://testserver") as client:
        yield client


def test_every_route_and_method_carries_the_security_headers(full_client: TestClient) -> None:
    """Each method of each route (static files and error answers included) has every header."""
    requests = list(_route_requests(full_client.app.routes))  # type: ignore[attr-defined]

    responses = [(f"{m} {p}", _send(full_client, m, p)) for m, p in requests]

    assert len(responses) >= 8
    for label, response in responses:
        _assert_secure_headers(response, label)


def test_unknown_paths_and_methods_carry_the_security_headers(full_client: TestClient) -> None:
    """404 and 405 answers, HTML and JSON, carry the headers too."""
    responses = {
        "html 404": full_client.get("/no/such/page"),
        "json 404": full_client.get("/api/v1/no/such/thing"),
        "405": full_client.delete("/healthz"),
    }

    for label, response in responses.items():
        assert response.status_code in {404, 405}
        _assert_secure_headers(response, label)


def test_every_cookie_set_is_host_only_secure_httponly_and_strict(
    full_client: TestClient,
) -> None:
    """Every Set-Cookie of every route, the language and CSRF cookies included, has the flags."""
    requests = [*_route_requests(full_client.app.routes), ("GET", "/lang/en")]  # type: ignore[attr-defined]

    responses = [(f"{m} {p}", _send(full_client, m, p)) for m, p in requests]
    names = {
        header.split("=", 1)[0]
        for _label, response in responses
        for header in response.headers.get_list("set-cookie")
    }

    assert {"__Host-lang", "__Host-csrf"} <= names
    for label, response in responses:
        _assert_cookie_flags(response, label)


def test_plain_http_base_url_sends_no_hsts(settings: Any, engine: Any) -> None:
    """HSTS appears only when the portal's base URL is https."""
    from dataclasses import replace

    from portal.app import create_app

    app = create_app(replace(settings, base_url="http://127.0.0.1:8000"), engine=engine)

    with TestClient(app, base_url="https://testserver") as client:
        response = client.get("/healthz")

    assert response.text == "ok"
    assert "strict-transport-security" not in response.headers
    assert response.headers["x-frame-options"] == "DENY"
