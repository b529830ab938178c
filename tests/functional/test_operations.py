"""Operators' endpoints: /readyz, /metrics behind its token, and Tor (Onion-Location, "Safest")."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from starlette.testclient import TestClient
from support.arrivals import list_arrivals
from support.staff_world import Person, build_world

from cases.clock import FixedClock
from cases.db import unit_of_work
from portal.app import create_app

TOKEN = "metrics-token-for-the-tests-0123456789"
ONION = "http://" + "a" * 56 + ".onion"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def ops_client(settings: Any, engine: Engine, _reset_tables: None) -> Any:
    """The portal with a metrics token and an onion address configured."""
    configured = replace(settings, onion_url=ONION, metrics_token=_secret(TOKEN))
    app = create_app(configured, engine=engine)
    app.state.clock = FixedClock()
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def _secret(value: str) -> Any:
    from portal.settings import Secret

    return Secret(value.encode())


def test_readyz_says_ready_when_the_database_is_current(client: Any) -> None:
    """/readyz is 200 'ready' on a migrated database."""
    answer = client.get("/readyz")

    assert (answer.status_code, answer.text) == (200, "ready")


def test_readyz_is_503_when_the_database_is_unreachable(settings: Any, tmp_path: Any) -> None:
    """A database that cannot be opened makes /readyz 503, never a traceback."""
    broken = replace(settings, database_url=f"sqlite:///{tmp_path}/missing/dir/portal.db")
    with TestClient(create_app(broken), base_url="https://testserver") as client:
        answer = client.get("/readyz")

    assert (answer.status_code, answer.text) == (503, "database unreachable")


def test_readyz_is_503_while_a_migration_is_pending(settings: Any, fresh_database: Any) -> None:
    """A database behind the newest migration is not ready."""
    url = fresh_database(migrate=False)
    with TestClient(
        create_app(replace(settings, database_url=url)), base_url="https://testserver"
    ) as client:
        answer = client.get("/readyz")

    assert (answer.status_code, answer.text) == (503, "migrations pending")


def test_metrics_are_absent_without_a_token(client: Any) -> None:
    """With PORTAL_METRICS_TOKEN unset, /metrics does not exist (404), even with a header."""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers=BEARER).status_code == 404


def test_metrics_need_the_exact_bearer_token(ops_client: Any) -> None:
    """No header, a wrong token or another scheme is 401; the token itself is 200."""
    refused = [
        ops_client.get("/metrics"),
        ops_client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"}),
        ops_client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}),
    ]
    allowed = ops_client.get("/metrics", headers=BEARER)

    assert [r.status_code for r in refused] == [401, 401, 401]
    assert allowed.status_code == 200
    assert allowed.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "portal_outbox_due 0" in allowed.text


def test_a_whole_journey_leaves_no_identifier_in_any_label(
    ops_client: Any, app_db: sessionmaker[Any]
) -> None:
    """After filing, a receipt login, a reply and staff case work, no label or value in
    /metrics carries a case id, receipt, e-mail or address, and every route label is a
    template of the route table (or 'unmatched')."""
    clock: FixedClock = ops_client.app.state.clock
    secrets_seen, ana = _journey(ops_client, app_db, clock)
    clock.advance(days=1)  # the reporter's requests are published once their day is over

    text = ops_client.get("/metrics", headers=BEARER).text
    routes = set(re.findall(r'route="([^"]*)"', text))
    templates = {getattr(r, "path", "") for r in ops_client.app.routes} | {"unmatched"}

    assert routes <= templates, routes - templates
    assert "/api/v1/reports" in routes
    assert "/api/v1/cases/{case_id}" in routes
    for secret in [*secrets_seen, ana.account.email, ana.account.id, "testclient"]:
        assert secret not in text, secret
    for case_id in secrets_seen[:1]:
        assert case_id not in text


def _journey(client: Any, app_db: sessionmaker[Any], clock: FixedClock) -> tuple[list[str], Person]:
    with unit_of_work(app_db) as db:
        world = build_world(db, clock)
        ana = world.staff("ana@example.com")
        channel, category = world.channel.id, world.category("order-diversion").id
    filed = client.post(
        "/api/v1/reports",
        json={
            "channel": channel,
            "category": category,
            "summary": "Orders diverted",
            "details": "Wang moved the Acme order to a rival.",
        },
    )
    assert filed.status_code == 201, filed.text
    receipt = filed.json()["receipt"]
    reporter = client.post("/api/v1/reporter/session", json={"receipt": receipt})
    reporter_auth = {"Authorization": f"Bearer {reporter.json()['token']}"}
    sent = client.post(
        "/api/v1/reporter/messages", headers=reporter_auth, json={"body": "More details"}
    )
    assert sent.status_code == 201, sent.text
    list_arrivals(app_db, clock)  # the jobs round lists the case at its hour
    body = {"email": ana.account.email, "password": ana.password, "totp": ana.code(clock)}
    staff = client.post("/api/v1/staff/session", json=body)
    assert staff.status_code == 200, staff.text
    auth = {"Authorization": f"Bearer {staff.json()['token']}"}
    case_id = client.get("/api/v1/cases", headers=auth).json()["items"][0]["id"]
    assert client.get(f"/api/v1/cases/{case_id}", headers=auth).status_code == 200
    client.get("/api/v1/cases/not-a-case", headers=auth)
    client.get("/no/such/page/ana@example.com")
    tokens = [staff.json()["token"], reporter.json()["token"]]
    return [case_id, receipt, receipt.replace("-", ""), *tokens], ana


def test_reporter_requests_are_published_only_after_their_day(ops_client: Any) -> None:
    """A report filed today changes no series until the local day is over, so Prometheus
    cannot date it; staff and plumbing requests are published at once."""
    clock: FixedClock = ops_client.app.state.clock
    before = ops_client.get("/metrics", headers=BEARER).text
    assert ops_client.get("/report").status_code == 200
    assert ops_client.get("/status").status_code == 200
    same_day = ops_client.get("/metrics", headers=BEARER).text
    clock.advance(days=1)
    next_day = ops_client.get("/metrics", headers=BEARER).text

    assert 'route="/report"' not in before + same_day
    assert 'route="/status"' not in same_day
    assert 'portal_requests_total{method="GET",route="/report",status="200"} 1' in next_day
    assert 'route="/metrics"' in same_day  # plumbing is counted live


def test_the_lag_of_a_jobs_process_without_http_is_seen_on_any_process(ops_client: Any) -> None:
    """The web processes run no jobs (PORTAL_RUN_JOBS=0) and `portal jobs` has no HTTP port:
    the lag of each job's last round is read from the database, so the web process's own
    /metrics shows when the jobs process stalls. On the code before, it showed only its own
    round's age: -1 for ever."""
    from portal.jobs import JobConfig, JobRunner

    app = ops_client.app
    clock: FixedClock = app.state.clock
    before = ops_client.get("/metrics", headers=BEARER).text
    # The jobs process: another runner on the same database, not this app's loop.
    JobRunner(app.state.db, clock, JobConfig.of(app.state.settings)).run_once()
    fresh = ops_client.get("/metrics", headers=BEARER).text
    clock.advance(minutes=10)
    stalled = ops_client.get("/metrics", headers=BEARER).text

    lags = re.compile(r'^portal_job_lag_seconds\{job="([a-z_]+)"\} ([0-9.]+)$', re.M)
    assert lags.findall(before) == []
    assert "portal_job_round_age_seconds -1.0" in fresh  # this process ran no round itself
    ran = dict(lags.findall(fresh))
    assert {"deadline_reminders", "retention", "sweep"} <= set(ran)
    assert all(float(value) == 0.0 for value in ran.values())
    assert {job: float(v) for job, v in lags.findall(stalled)} == dict.fromkeys(ran, 600.0)


REPORTER_PAGES = ("/", "/report", "/status")


@pytest.mark.parametrize("path", REPORTER_PAGES)
def test_reporter_pages_announce_the_onion_service(ops_client: Any, path: str) -> None:
    """Each reporter page says Onion-Location: the onion address with the same path."""
    answer = ops_client.get(path)

    assert answer.status_code == 200
    assert answer.headers["onion-location"] == ONION + path


def test_staff_pages_and_unset_onion_carry_no_onion_location(ops_client: Any, client: Any) -> None:
    """Staff pages never say Onion-Location; nor does any page while no onion is configured."""
    assert "onion-location" not in ops_client.get("/staff/login").headers
    assert "onion-location" not in client.get("/").headers


def test_landing_page_explains_tor_and_shows_the_onion_address(ops_client: Any) -> None:
    """The landing page tells reporters how to use Tor Browser, in English and Chinese."""
    english = ops_client.get("/", headers={"Accept-Language": "en"}).text
    chinese = ops_client.get("/", headers={"Accept-Language": "zh-CN"}).text

    assert "Tor Browser" in english
    assert ONION in english
    assert "Tor 浏览器" in chinese
    assert ONION in chinese


# Tor Browser's "Safest" level: no JavaScript at all, no remote fonts, and (with the CSP) no
# inline styles. A reporter page that needs any of them breaks there.
# A same-origin script file may enhance a page (CSP: script-src 'self'); the page must not
# depend on it, which the JavaScript-off browser tests show. Inline code is never allowed.
_SCRIPT = re.compile(
    r"<script(?![^>]*\ssrc=\"/static/[a-z_]+\.js\")[^>]*>|\son[a-z]+\s*=|javascript:",
    re.IGNORECASE,
)
_INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)
_REMOTE = re.compile(r"""(?:src|href|action)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize("path", [*REPORTER_PAGES, "/report?channel=general"])
def test_reporter_pages_work_at_tor_browser_safest(ops_client: Any, path: str) -> None:
    """No script, no event handler, no inline style, nothing from another origin, no font."""
    html = ops_client.get(path).text
    sheets = re.findall(r'<link rel="stylesheet" href="(/static/[a-z_]+\.css)"', html)
    css = [ops_client.get(sheet) for sheet in sheets]

    assert not _SCRIPT.search(html), _SCRIPT.search(html)
    assert not _INLINE_STYLE.search(html), _INLINE_STYLE.search(html)
    assert not _REMOTE.search(html), _REMOTE.search(html)
    assert sheets
    assert all(sheet.status_code == 200 for sheet in css)
    assert not any("@font-face" in s.text or "url(http" in s.text for s in css)
