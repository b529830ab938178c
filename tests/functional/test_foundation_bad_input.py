"""Bad input gets a clear 4xx and changes nothing: 413, 403 CSRF, 404/405, 400 JSON, 500."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, MutableMapping
from datetime import datetime
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from cases.errors import Invalid, Throttled
from portal.csrf import csrf_token, form_with_csrf
from portal.errors import read_json
from portal.held_log import HELD

INTERNALS = ("Traceback", 'File "', "starlette", "sqlalchemy", "portal/", "Exception")


class Recorder:
    """What the test routes did: a route that changes state appends here."""

    def __init__(self) -> None:
        self.changes: list[str] = []
        self.bytes_seen = 0


def _test_routes(recorder: Recorder) -> list[Route]:
    async def form_page(request: Request) -> Response:
        response = PlainTextResponse("")
        response.headers["x-token"] = csrf_token(request, response)
        return response

    async def change(request: Request) -> Response:
        form = await form_with_csrf(request)
        recorder.changes.append(str(form.get("value")))
        return RedirectResponse("/", status_code=303)

    async def echo(request: Request) -> Response:
        return JSONResponse(await read_json(request))

    async def count(request: Request) -> Response:
        async for chunk in request.stream():
            recorder.bytes_seen += len(chunk)
        recorder.changes.append("stored")
        return PlainTextResponse("stored")

    async def explode(request: Request) -> Response:
        raise RuntimeError("secret-data-in-message")

    async def throttled(request: Request) -> Response:
        raise Throttled(retry_after=42)

    async def invalid(request: Request) -> Response:
        raise Invalid("Check the form.", fields={"summary": "Required."})

    return [
        Route("/_test/form", form_page, methods=["GET"]),
        Route("/_test/form", change, methods=["POST"]),
        Route("/api/v1/_test/echo", echo, methods=["POST"]),
        Route("/_test/count", count, methods=["POST"]),
        Route("/api/v1/_test/count", count, methods=["POST"]),
        Route("/_test/explode", explode),
        Route("/api/v1/_test/explode", explode),
        Route("/api/v1/_test/throttled", throttled),
        Route("/api/v1/_test/invalid", invalid),
    ]


@pytest.fixture
def recorder() -> Recorder:
    """A fresh record of what the test routes changed."""
    return Recorder()


@pytest.fixture
def test_app(app: Starlette, recorder: Recorder) -> Starlette:
    """The real app with the test routes appended after its own."""
    app.router.routes.extend(_test_routes(recorder))
    return app


@pytest.fixture
def http(test_app: Starlette) -> Iterator[TestClient]:
    """A client on https://testserver, so __Host- cookies are kept."""
    with TestClient(test_app, base_url="https://testserver") as client:
        yield client


def _assert_no_internals(text: str) -> None:
    for word in INTERNALS:
        assert word not in text


# --- body size --------------------------------------------------------------------------------


async def _call_raw(
    app: Starlette,
    path: str,
    headers: list[tuple[bytes, bytes]],
    body: Callable[[int], dict[str, Any]],
) -> tuple[int, int]:
    """Calls the app over raw ASGI; returns (status, number of receive calls)."""
    calls = 0
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        nonlocal calls
        calls += 1
        return body(calls)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "server": ("testserver", 443),
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
    }
    await app(scope, receive, send)
    return int(sent[0]["status"]), calls


def test_declared_length_over_the_limit_is_refused_before_any_byte_is_read(
    test_app: Starlette, recorder: Recorder, settings: Any
) -> None:
    """A Content-Length above the limit gets 413 and the app never calls receive()."""
    too_big = str(settings.limits.max_json_body + 1).encode()

    def body(_call: int) -> dict[str, Any]:
        raise AssertionError("the body was read")

    status, calls = anyio.run(
        _call_raw, test_app, "/api/v1/_test/count", [(b"content-length", too_big)], body
    )

    assert status == 413
    assert calls == 0
    assert recorder.changes == []


def test_streamed_body_over_the_limit_stops_at_the_limit(
    test_app: Starlette, recorder: Recorder, settings: Any
) -> None:
    """A chunked body is counted as it arrives and refused with 413 once it passes the limit."""
    limit = settings.limits.max_form_body
    chunk = b"x" * 65536

    def body(_call: int) -> dict[str, Any]:
        return {"type": "http.request", "body": chunk, "more_body": True}

    status, calls = anyio.run(
        _call_raw, test_app, "/_test/count", [(b"transfer-encoding", b"chunked")], body
    )

    assert status == 413
    assert calls == limit // len(chunk) + 1
    assert recorder.changes == []


def test_chunked_upload_over_the_limit_gets_json_413(
    http: TestClient, recorder: Recorder, settings: Any
) -> None:
    """Over HTTP, a chunked JSON body over the limit gets a JSON 413 and nothing is stored."""

    def chunks() -> Iterator[bytes]:
        for _ in range(settings.limits.max_json_body // 65536 + 2):
            yield b"x" * 65536

    response = http.post("/api/v1/_test/count", content=chunks())

    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert recorder.changes == []


def test_form_post_over_the_declared_limit_gets_html_413(
    http: TestClient, recorder: Recorder, settings: Any
) -> None:
    """An HTML form body whose length is over the form limit gets an HTML 413 page."""
    response = http.post("/_test/count", content=b"x" * (settings.limits.max_form_body + 1))

    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert recorder.changes == []


def test_body_within_the_limit_is_accepted(http: TestClient, recorder: Recorder) -> None:
    """A body under the limit reaches the handler whole."""
    response = http.post("/_test/count", content=b"y" * 1000)

    assert response.status_code == 200
    assert recorder.bytes_seen == 1000


# --- CSRF -------------------------------------------------------------------------------------


def test_form_post_without_csrf_token_is_403_and_changes_nothing(
    http: TestClient, recorder: Recorder
) -> None:
    """A form POST with no csrf field gets a 403 HTML page and the handler changes nothing."""
    http.get("/_test/form")

    response = http.post("/_test/form", data={"value": "evil"})

    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert recorder.changes == []


def test_form_post_with_wrong_or_foreign_token_is_403(
    http: TestClient, recorder: Recorder, test_app: Starlette
) -> None:
    """A token made for another browser's cookie is refused."""
    with TestClient(test_app, base_url="https://testserver") as other:
        foreign = other.get("/_test/form").headers["x-token"]
    http.get("/_test/form")

    wrong = http.post("/_test/form", data={"value": "a", "csrf": "0" * 64})
    stolen = http.post("/_test/form", data={"value": "b", "csrf": foreign})

    assert (wrong.status_code, stolen.status_code) == (403, 403)
    assert recorder.changes == []


def test_form_post_without_the_cookie_is_403(http: TestClient, recorder: Recorder) -> None:
    """A token alone, with no CSRF cookie in the browser, is refused."""
    token = http.get("/_test/form").headers["x-token"]
    http.cookies.clear()

    response = http.post("/_test/form", data={"value": "a", "csrf": token})

    assert response.status_code == 403
    assert recorder.changes == []


def test_form_post_with_its_token_is_accepted(http: TestClient, recorder: Recorder) -> None:
    """The token from this browser's page, sent back with the form, lets the change happen."""
    token = http.get("/_test/form").headers["x-token"]

    response = http.post(
        "/_test/form", data={"value": "fine", "csrf": token}, follow_redirects=False
    )

    assert response.status_code == 303
    assert recorder.changes == ["fine"]


def test_csrf_failure_on_json_request_is_json(http: TestClient) -> None:
    """A client asking for JSON gets the 403 as {"error": "csrf", "message"}."""
    response = http.post("/_test/form", data={"v": "1"}, headers={"accept": "application/json"})

    assert response.status_code == 403
    assert response.json()["error"] == "csrf"
    assert response.json()["message"]


# --- 404, 405 ----------------------------------------------------------------------------------


def test_unknown_api_path_is_json_404(http: TestClient) -> None:
    """Under /api/ an unknown path is a JSON 404 with a code and a message."""
    response = http.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert response.json()["message"]


def test_unknown_page_is_html_404_without_internals(http: TestClient) -> None:
    """Elsewhere an unknown path is a translated HTML page that shows no internals."""
    response = http.get("/nothing-here", headers={"accept-language": "zh-CN"})

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "找不到页面" in response.text
    _assert_no_internals(response.text)


def test_wrong_method_is_405_json_under_api_and_html_elsewhere(http: TestClient) -> None:
    """A method a route does not allow gets 405 with Allow, JSON under /api/, HTML elsewhere."""
    api = http.delete("/api/v1/openapi.json")
    page = http.delete("/")

    assert (api.status_code, page.status_code) == (405, 405)
    assert api.json()["error"] == "method_not_allowed"
    assert "GET" in api.headers["allow"]
    assert page.headers["content-type"].startswith("text/html")
    _assert_no_internals(page.text)


# --- JSON bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"[1, 2]", b'"text"', b"NaN", b'{"a": Infinity}', b"\xff\xfe{"],
    ids=["malformed", "empty", "array", "string", "nan", "infinity", "bad-utf8"],
)
def test_malformed_or_non_object_json_is_400_bad_json(http: TestClient, body: bytes) -> None:
    """A body that is not a JSON object gets 400 {"error": "bad_json", "message": ...}."""
    response = http.post(
        "/api/v1/_test/echo", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"] == "bad_json"
    assert response.json()["message"]


def test_json_object_is_read(http: TestClient) -> None:
    """A well-formed JSON object reaches the handler as a dict."""
    response = http.post("/api/v1/_test/echo", json={"a": [1, "二"]})

    assert response.json() == {"a": [1, "二"]}


# --- domain errors and crashes ----------------------------------------------------------------


def test_throttled_gets_429_with_retry_after(http: TestClient) -> None:
    """Throttled maps to 429 with Retry-After from the error."""
    response = http.get("/api/v1/_test/throttled")

    assert response.status_code == 429
    assert response.headers["retry-after"] == "42"
    assert response.json()["error"] == "throttled"


def test_invalid_gets_422_with_fields(http: TestClient) -> None:
    """Invalid maps to 422 and carries its per-field messages."""
    response = http.get("/api/v1/_test/invalid")

    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid",
        "message": "Check the form.",
        "fields": {"summary": "Required."},
    }


@pytest.mark.parametrize(
    ("path", "kind"), [("/_test/explode", "html"), ("/api/v1/_test/explode", "json")]
)
def test_crash_is_generic_500_and_logs_only_the_type(
    http: TestClient, caplog: pytest.LogCaptureFixture, path: str, kind: str
) -> None:
    """An unhandled exception gives a generic 500; neither answer nor log repeats its message
    (outside the staff areas the line is held until its hour is over: written by the flush)."""
    with caplog.at_level(logging.DEBUG):
        response = http.get(path, headers={"x-forwarded-for": "203.0.113.9"})
        HELD.flush(datetime(2026, 3, 2, 10, 0))

    assert response.status_code == 500
    assert "secret-data" not in response.text
    _assert_no_internals(response.text)
    if kind == "json":
        assert response.json()["error"] == "internal"
    assert "RuntimeError" in caplog.text
    assert "secret-data" not in caplog.text
    assert "203.0.113.9" not in caplog.text
    assert "testclient" not in caplog.text
