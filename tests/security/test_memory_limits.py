"""No anonymous client can make the server hold memory or wait on a body forever.

The server runs as its own process (``python -m portal.cli serve``) so its resident memory
can be read from /proc; the attacker is a plain socket client that stops sending as soon as
the server answers.
"""

from __future__ import annotations

import http.client
import os
import re
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Route
from support.availability import free_port

from portal.gate import STAFF_AREAS
from portal.routes import all_routes

MIB = 1024 * 1024
ATTACK_BYTES = 190 * MIB
CONCURRENT = 4
GROWTH_LIMIT = 64 * MIB
CHUNK = b"a" * (64 * 1024)
ROOT = Path(__file__).resolve().parents[2]
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
FORM = "application/x-www-form-urlencoded"
REFUSED = {303, 400, 401, 403, 404, 413, 415}


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    cookie: str = ""
    token: str = ""

    def rss_peak(self) -> int:
        """The server's peak resident memory so far (VmHWM), in bytes."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The portal under uvicorn in a child process, on SQLite, with a 1-second body timeout."""
    data = tmp_path_factory.mktemp("memory-server")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PORTAL_DATA_DIR": str(data),
        "PORTAL_DATABASE_URL": f"sqlite:///{data / 'portal.db'}",
        "PORTAL_RUN_JOBS": "0",
        "PORTAL_BODY_TIMEOUT_SECONDS": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("the portal server did not start")
            time.sleep(0.1)
    yield _with_form_token(Server(port, process))
    process.terminate()
    process.wait(10)


def _with_form_token(server: Server) -> Server:
    """A CSRF cookie and token, as anyone gets them from the public login page."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", "/staff/login")
    response = connection.getresponse()
    cookies = response.headers.get_all("set-cookie") or []
    page = response.read().decode()
    connection.close()
    server.cookie = next(c.split(";")[0] for c in cookies if c.startswith("__Host-csrf="))
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found is not None
    server.token = found.group(1)
    return server


def staff_form_routes() -> list[tuple[str, str]]:
    """(method, concrete path) of every route of the staff areas that takes a body."""
    found = []
    for route in all_routes():
        if not isinstance(route, Route):
            continue
        under = any(route.path == a or route.path.startswith(a + "/") for a in STAFF_AREAS)
        for method in sorted((route.methods or set()) & BODY_METHODS):
            if under:
                found.append((method, _concrete(route.path)))
    return found


def _concrete(path: str) -> str:
    parts = path.split("/")
    return "/".join("x1" if p.startswith("{") else p for p in parts)


@dataclass
class Outcome:
    status: int
    sent: int


def attack(server: Server, method: str, path: str, chunked: bool) -> Outcome:
    """Sends a valid form token, then up to 190 MiB without a session; stops at the answer."""
    uploads = path.endswith(("/evidence", "/directory"))
    content_type = "multipart/form-data; boundary=xyz" if uploads else FORM
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {content_type}"]
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {ATTACK_BYTES}")
    head.append(f"Cookie: {server.cookie}")
    start = _form_start(server.token, uploads)
    sent = len(start)
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        sock.sendall(b"%x\r\n%s\r\n" % (len(start), start) if chunked else start)
        while sent < ATTACK_BYTES:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            piece = b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK) if chunked else CHUNK
            try:
                sock.sendall(piece)
            except OSError:
                break
            sent += len(CHUNK)
        return Outcome(_status(sock), sent)


def _form_start(token: str, multipart: bool) -> bytes:
    if not multipart:
        return f"csrf={token}&body=".encode()
    return (
        f'--xyz\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{token}\r\n'
        '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
    ).encode()


def _status(sock: socket.socket) -> int:
    try:
        first = sock.recv(64)
    except OSError:
        return 0
    return int(first.split(b" ")[1]) if first.startswith(b"HTTP/1.1 ") else 0


def test_anonymous_large_form_posts_to_staff_routes_do_not_grow_server_memory(
    server: Server,
) -> None:
    """Four concurrent 190 MiB posts to each staff form route leave the server under +64 MiB."""
    routes = staff_form_routes()
    for method, path in routes:  # every route once, small, so lazy imports are done
        attack_small(server.port, method, path)
    before = server.rss_peak()

    outcomes: dict[str, list[Outcome]] = {}
    with ThreadPoolExecutor(CONCURRENT) as pool:
        for method, path in routes:
            jobs = [
                pool.submit(attack, server, method, path, n % 2 == 1) for n in range(CONCURRENT)
            ]
            outcomes[f"{method} {path}"] = [job.result() for job in jobs]
            grown = server.rss_peak() - before
            assert grown < GROWTH_LIMIT, f"{grown // MIB} MiB more after {method} {path}"

    assert len(routes) > 20
    accepted = {k: [o.status for o in v] for k, v in outcomes.items() if _any_bad(v)}
    assert accepted == {}, "these read the body or answered without refusing"
    assert server.rss_peak() - before < GROWTH_LIMIT


def _any_bad(outcomes: list[Outcome]) -> bool:
    return any(o.status not in REFUSED or o.sent >= ATTACK_BYTES for o in outcomes)


def attack_small(port: int, method: str, path: str) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        request = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\na=b"
        sock.sendall(request.encode())
        assert _status(sock) in REFUSED


@pytest.mark.parametrize(
    ("path", "content_type", "expected"),
    [
        ("/api/v1/reports", "application/json", b"HTTP/1.1 408 "),
        # A reporter's form: a redirect to the page that says why (portal/form_refusals.py).
        ("/report", "multipart/form-data; boundary=xyz", b"HTTP/1.1 303 "),
        ("/report/check", "application/x-www-form-urlencoded", b"HTTP/1.1 303 "),
    ],
)
def test_stalled_body_is_dropped_after_the_timeout(
    server: Server, path: str, content_type: str, expected: bytes
) -> None:
    """A body that stops arriving is refused (408; a reporter's form: 303 to the 408 page)
    and its connection closed after the 1 s setting."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        "Content-Length: 1000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        started = time.monotonic()
        sock.sendall(head.encode() + b"--xyz\r\n")

        first = sock.recv(64)
        waited = time.monotonic() - started
        answer = first + _drain(sock)

    assert answer.startswith(expected)
    if expected != b"HTTP/1.1 408 ":
        assert b"\r\nlocation: /refused/stalled?back=" in answer.lower()
    assert waited < 10
    assert _closed(answer)


def _drain(sock: socket.socket) -> bytes:
    data = b""
    while True:
        piece = sock.recv(65536)
        if not piece:
            return data + b"<closed>"
        data += piece


def _closed(rest: bytes) -> bool:
    return rest.endswith(b"<closed>")


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("csrf=x&note=" + "a" * (65 * 1024), "one field over 64 KiB"),
        ("&".join(f"f{n}={'a' * 1000}" for n in range(600)), "whole form over 512 KiB"),
        ("a=b&" * 300, "more than 200 fields"),
    ],
)
def test_oversized_ordinary_form_is_refused_while_read(client: Any, body: str, why: str) -> None:
    """An urlencoded form is capped per field and in total (and in fields) as it is read: 413."""
    headers = {"Content-Type": FORM, "Transfer-Encoding": "chunked"}

    response = client.post("/staff/login", content=iter([body.encode()]), headers=headers)

    assert response.status_code == 413, why
