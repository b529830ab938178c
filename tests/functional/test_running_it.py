"""Running it: serve refuses plain HTTP away from localhost, the trial mode, CSRF causes, demo."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.availability import free_port

from portal.held_log import HELD
from portal.settings import Settings, SettingsError

PROJECT = Path(__file__).resolve().parents[2]
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
BANNER_EN = "Trial mode: this portal runs on plain HTTP"
BANNER_ZH = "试用模式"


@pytest.fixture
def cli_env(fresh_database: Callable[..., str], tmp_path: Path) -> dict[str, str]:
    """A child's environment: this worktree's code, its own empty database and data dir."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")},
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")])),
        "PORTAL_DATA_DIR": str(tmp_path / "data"),
        "PORTAL_DATABASE_URL": fresh_database(migrate=False),
        "PORTAL_SECRET_KEY": "running-it-secret-" + "x" * 32,
        "PORTAL_RUN_JOBS": "0",
    }


def portal(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_serve_refuses_plain_http_at_a_non_local_address(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    """serve on http:// away from localhost exits 2 at once, naming PORTAL_BASE_URL and TLS."""
    env = {**cli_env, "PORTAL_BASE_URL": "http://192.0.2.10:8000"}
    started = time.monotonic()
    done = portal(env, tmp_path, "serve", "--port", str(free_port()))
    assert done.returncode == 2, done.stdout + done.stderr
    assert time.monotonic() - started < 60
    assert "PORTAL_BASE_URL" in done.stderr
    assert "http://192.0.2.10:8000" in done.stderr
    assert "TLS" in done.stderr
    assert "https://" in done.stderr
    assert "--insecure-http" in done.stderr
    assert "serving on" not in done.stdout
    # Refused before anything was created: no setup link, no database schema.
    assert "setup" not in done.stdout.lower()


def test_serve_on_all_interfaces_without_a_base_url_is_refused(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    """--host 0.0.0.0 with no PORTAL_BASE_URL would be browsed over plain HTTP: refused."""
    done = portal(
        cli_env,
        tmp_path,
        "serve",
        "--host",
        "0.0.0.0",  # noqa: S104 (refused before binding)
        "--port",
        str(free_port()),
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "PORTAL_BASE_URL is http://0.0.0.0:" in done.stderr


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "http://[::1]:8000",
        "http://127.0.0.2:8000",
        "https://portal.example.com",
        "https://10.0.0.5:8443",
    ],
)
def test_https_and_loopback_base_urls_may_be_served(base_url: str, tmp_path: Path) -> None:
    """Browsers keep Secure __Host- cookies over https and on loopback http: those are served."""
    Settings.for_tests(tmp_path, base_url=base_url).check_serving()


@pytest.mark.parametrize(
    "base_url", ["http://192.0.2.10:8000", "http://0.0.0.0:8000", "http://portal.corp.example"]
)
def test_plain_http_elsewhere_is_refused_unless_in_trial_mode(
    base_url: str, tmp_path: Path
) -> None:
    """http:// at a non-local address is refused, and passes only with the trial mode."""
    with pytest.raises(SettingsError, match="PORTAL_BASE_URL"):
        Settings.for_tests(tmp_path, base_url=base_url).check_serving()
    trial = Settings.for_tests(tmp_path, base_url=base_url, insecure_http=True)
    trial.check_serving()
    assert not trial.secure_cookies


@pytest.fixture
def trial_server(cli_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`portal serve --insecure-http` in a child process: (its URL, its stderr file)."""
    port = free_port()
    env = {**cli_env, "PORTAL_BASE_URL": f"http://192.0.2.10:{port}"}
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        child = subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "serve", "--port", str(port), "--insecure-http"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert child.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        yield url, log
    finally:
        child.terminate()
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def test_insecure_http_trial_mode_serves_forms_and_warns_loudly(
    trial_server: tuple[str, Path],
) -> None:
    """--insecure-http logs a warning, sets non-Secure trial- cookies, banners pages, forms work."""
    url, log = trial_server
    assert "TRIAL MODE (--insecure-http)" in log.read_text()
    # A plain-HTTP client keeps no Secure cookie: this is what a browser on http:// does.
    with httpx.Client(base_url=url, timeout=30) as browser:
        page = browser.get("/status")
        assert page.status_code == 200
        cookies = page.headers.get_list("set-cookie")
        assert cookies
        assert all(c.startswith("trial-") for c in cookies), cookies
        assert not any("secure" in c.lower() for c in cookies), cookies
        assert all("httponly" in c.lower() and "samesite=strict" in c.lower() for c in cookies)
        assert BANNER_EN in page.text
        token = CSRF.findall(page.text)[0]
        sent = browser.post(
            "/report/check",
            data={"csrf": token, "receipt": "AAAA-BBBB"},
            follow_redirects=True,
        )
        # The form got past CSRF: the answer is about the receipt, not an expired form.
        assert sent.status_code != 403, sent.text
        assert "This form has expired" not in sent.text
        assert BANNER_EN in sent.text
        chinese = browser.get("/status", headers={"Accept-Language": "zh-CN"})
        assert BANNER_ZH in chinese.text


def test_csrf_refusal_logs_its_cause_never_a_value(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A refused form logs why (no cookie, no token, mismatch) on portal.csrf, never a value;
    on a reporter's page once the hour is over, through portal.held_log (one line per cause)."""
    page = client.get("/status")
    token = CSRF.findall(page.text)[0]
    cookie = client.cookies["__Host-csrf"]
    wrong = "0" * len(token)
    caplog.set_level(logging.INFO, logger="portal.csrf")
    caplog.set_level(logging.INFO, logger="portal.held_log")

    mismatch = client.post("/report/check", data={"csrf": wrong, "receipt": "x"})
    no_token = client.post("/report/check", data={"receipt": "x"})
    client.cookies.clear()
    no_cookie = client.post("/report/check", data={"csrf": token, "receipt": "x"})
    at_the_time = [r for r in caplog.records if "CSRF" in r.getMessage()]
    HELD.flush(datetime(2026, 3, 2, 10, 0))

    assert [r.status_code for r in (mismatch, no_token, no_cookie)] == [403, 403, 403]
    assert at_the_time == []
    records = [r for r in caplog.records if r.getMessage().startswith("portal.csrf: ")]
    messages = sorted(r.getMessage() for r in records)
    assert len(messages) == 3, messages
    assert "mismatch" in messages[0]
    assert "missing cookie" in messages[1]
    assert "PORTAL_BASE_URL" in messages[1]
    assert "missing token" in messages[2]
    assert all("/report/check" in m for m in messages)
    assert all(r.levelno >= logging.WARNING for r in records)
    for message in messages:
        assert token not in message
        assert cookie not in message
        assert wrong not in message


def test_demo_prints_the_address_serve_uses(
    cli_env: dict[str, str], tmp_path: Path, fresh_database: Callable[..., str]
) -> None:
    """demo takes serve's --host/--port and prints that address, or PORTAL_BASE_URL when set."""
    port = free_port()
    done = portal(cli_env, tmp_path, "demo", "--port", str(port))
    assert done.returncode == 0, done.stderr
    assert f"http://127.0.0.1:{port}/staff/login" in done.stdout
    assert f"portal serve --port {port}" in done.stdout
    assert "127.0.0.1:8000" not in done.stdout

    public = {
        **cli_env,
        "PORTAL_DATABASE_URL": fresh_database(migrate=False),
        "PORTAL_DATA_DIR": str(tmp_path / "data2"),
        "PORTAL_BASE_URL": "https://speakup.example.com/",
    }
    again = portal(public, tmp_path, "demo")
    assert again.returncode == 0, again.stderr
    assert "https://speakup.example.com/staff/login" in again.stdout
    assert "https://speakup.example.com/status" in again.stdout
    assert "127.0.0.1" not in again.stdout


def test_trial_mode_renames_cookies_both_ways_and_drops_real_host_cookies() -> None:
    """Trial cookies are read as __Host- ones; a __Host- cookie sent over trial HTTP is ignored."""
    from portal.trial import _incoming_cookies, _outgoing_cookie

    incoming = _incoming_cookies(b"trial-csrf=abc; __Host-staff=planted; other=1")
    assert incoming == b"__Host-csrf=abc; other=1"
    out = _outgoing_cookie(b"__Host-staff=tok; HttpOnly; Path=/; SameSite=strict; Secure")
    assert out == b"trial-staff=tok; HttpOnly; Path=/; SameSite=strict"
    assert _outgoing_cookie(b"other=1; Secure") == b"other=1; Secure"
