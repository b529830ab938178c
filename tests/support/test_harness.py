"""The harness checks itself: databases, savepoints, table reset, live server, browser, SMTP."""

from __future__ import annotations

import smtplib
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from support.availability import unavailable
from support.browser import RequestLog
from support.db import TableSnapshot, make_test_engine, savepoint_session
from support.live import start_live_server

PAGES = {
    "/": b'<!doctype html><html lang="en"><head><title>static</title>'
    b'<script src="/title.js"></script></head><body><main><h1>Hello</h1></main></body></html>',
    "/title.js": b"document.title = 'scripted';",
    "/bad": b'<!doctype html><html lang="en"><head><title>bad</title></head>'
    b'<body><main><img src="/x.png"></main></body></html>',
}


async def tiny_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app serving PAGES, so the harness is tested without the portal."""
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = PAGES.get(scope["path"], b"not found")
    kind = b"text/javascript" if scope["path"].endswith(".js") else b"text/html; charset=utf-8"
    status = 200 if scope["path"] in PAGES else 404
    headers = [(b"content-type", kind)]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def tiny_server() -> Any:
    server = start_live_server(lambda _settings: tiny_app, "", lambda base_url: base_url)
    yield server
    server.stop()


def _create_probe(connection: Any) -> None:
    connection.execute(text("CREATE TABLE harness_probe (label TEXT PRIMARY KEY)"))


def test_savepoint_commit_and_rollback_nest_inside_the_outer_transaction(
    db_session: Session,
) -> None:
    """A commit in db_session is a SAVEPOINT release: a later rollback keeps the committed row."""
    _create_probe(db_session)
    db_session.execute(text("INSERT INTO harness_probe (label) VALUES ('kept')"))
    db_session.commit()

    db_session.execute(text("INSERT INTO harness_probe (label) VALUES ('dropped')"))
    db_session.rollback()

    labels = db_session.execute(text("SELECT label FROM harness_probe")).scalars().all()
    assert labels == ["kept"]
    assert db_session.connection().in_transaction()


def test_savepoint_session_leaves_nothing_behind(engine: Engine) -> None:
    """Whatever a savepoint session commits, the database is unchanged after it closes."""
    with savepoint_session(engine) as session:
        _create_probe(session)
        session.execute(text("INSERT INTO harness_probe (label) VALUES ('gone')"))
        session.commit()

    assert "harness_probe" not in inspect(engine).get_table_names()


def test_fresh_database_is_a_separate_migrated_copy(
    fresh_database: Callable[..., str], engine: Engine
) -> None:
    """fresh_database() has the session schema, and what it holds stays out of the session DB."""
    other = make_test_engine(fresh_database())

    with other.begin() as connection:
        _create_probe(connection)
    tables = set(inspect(other).get_table_names())
    other.dispose()

    assert tables - {"harness_probe"} == set(inspect(engine).get_table_names())
    assert "harness_probe" not in inspect(engine).get_table_names()


def test_fresh_database_without_migration_is_empty(fresh_database: Callable[..., str]) -> None:
    """fresh_database(migrate=False) has no tables at all."""
    other = make_test_engine(fresh_database(migrate=False))

    tables = inspect(other).get_table_names()
    other.dispose()

    assert tables == []


def test_table_snapshot_restores_seeded_rows_only(fresh_database: Callable[..., str]) -> None:
    """After restore, a table holds exactly the rows it held when the snapshot was taken."""
    other = make_test_engine(fresh_database(migrate=False))
    with other.begin() as connection:
        _create_probe(connection)
        connection.execute(text("INSERT INTO harness_probe (label) VALUES ('seed')"))
    snapshot = TableSnapshot(other)
    with other.begin() as connection:
        connection.execute(text("INSERT INTO harness_probe (label) VALUES ('test data')"))
        connection.execute(text("UPDATE harness_probe SET label = 'changed' WHERE label = 'seed'"))

    snapshot.restore(other)

    with other.connect() as connection:
        labels = connection.execute(text("SELECT label FROM harness_probe")).scalars().all()
    other.dispose()
    assert labels == ["seed"]


@pytest.mark.sqlite_only
def test_sqlite_engine_takes_the_write_lock_at_begin(backend: str, engine: Engine) -> None:
    """cases.db's SQLite engine begins with BEGIN IMMEDIATE: a second writer must wait."""
    assert backend == "sqlite"
    import sqlite3

    path = engine.url.database
    with engine.begin():
        waiting = sqlite3.connect(str(path), timeout=0.1, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            waiting.execute("BEGIN IMMEDIATE")
        waiting.close()


def test_live_server_serves_over_http(tiny_server: Any) -> None:
    """start_live_server serves the app on 127.0.0.1 at the URL it reports, and stops."""
    with urllib.request.urlopen(f"{tiny_server.url}/") as response:  # noqa: S310
        body = response.read()

    assert tiny_server.url.startswith("http://127.0.0.1:")
    assert b"<h1>Hello</h1>" in body


def test_live_server_stops_cleanly(tiny_server: Any) -> None:
    """After stop() the thread is gone and the port refuses connections."""
    tiny_server.stop()

    assert not tiny_server.thread.is_alive()
    with pytest.raises(urllib.error.URLError, match="refused"):
        urllib.request.urlopen(f"{tiny_server.url}/", timeout=2)  # noqa: S310


@pytest.mark.browser
def test_page_nojs_runs_no_script_and_page_js_does(
    tiny_server: Any, page_nojs: Any, page_js: Any
) -> None:
    """The JS-disabled page keeps its static title; the JS-enabled one runs the script."""
    page_nojs.goto(f"{tiny_server.url}/")
    page_js.goto(f"{tiny_server.url}/")

    assert page_nojs.title() == "static"
    assert page_js.title() == "scripted"
    assert f"{tiny_server.url}/title.js" in page_js.requests.urls


@pytest.mark.browser
@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_locale_sets_accept_language(tiny_server: Any, page_nojs: Any, locale: str) -> None:
    """The `locale` parameter reaches the server as the Accept-Language header."""
    seen: list[str] = []
    page_nojs.on("request", lambda request: seen.append(request.headers["accept-language"]))

    page_nojs.goto(f"{tiny_server.url}/")

    assert seen
    assert seen[0].startswith(locale)


@pytest.mark.browser
def test_assert_accessible_passes_a_clean_page(
    tiny_server: Any, assert_accessible: Callable[[str, str], None]
) -> None:
    """A page with a title, a lang and a heading has no serious or critical axe violation."""
    assert_accessible(f"{tiny_server.url}/", "en")


@pytest.mark.browser
def test_assert_accessible_fails_an_image_without_alt(
    tiny_server: Any, assert_accessible: Callable[[str, str], None]
) -> None:
    """An <img> without alt text is a critical violation, and the failure names it."""
    with pytest.raises(AssertionError, match="image-alt"):
        assert_accessible(f"{tiny_server.url}/bad", "en")


def test_request_log_reports_only_foreign_origins() -> None:
    """RequestLog.foreign lists requests to other origins and ignores data: URLs."""
    log = RequestLog(
        urls=[
            "http://127.0.0.1:8000/",
            "http://127.0.0.1:8000/static/site.css",
            "data:image/png;base64,AAAA",
            "http://127.0.0.1:9999/",
            "https://fonts.example/font.woff2",
        ]
    )

    assert log.foreign("http://127.0.0.1:8000") == [
        "http://127.0.0.1:9999/",
        "https://fonts.example/font.woff2",
    ]


def test_smtp_server_collects_parsed_messages(smtp_server: Any) -> None:
    """A message sent to smtp_server.url arrives parsed, with its envelope recipients."""
    message = EmailMessage()
    message["From"] = "portal@example.org"
    message["To"] = "investigator@example.org"
    message["Subject"] = "有新消息 / news"
    message.set_content("Log in to read it.")
    host, port = smtp_server.url.removeprefix("smtp://").split(":")

    with smtplib.SMTP(host, int(port), timeout=10) as connection:
        connection.send_message(message)
    received = smtp_server.wait_for(1, timeout=10)

    assert received[0]["Subject"] == "有新消息 / news"
    assert received[0].get_content().strip() == "Log in to read it."
    assert smtp_server.envelopes == [("portal@example.org", ["investigator@example.org"])]


def test_smtp_wait_for_fails_when_nothing_arrives(smtp_server: Any) -> None:
    """wait_for raises an AssertionError saying how many messages came instead."""
    with pytest.raises(AssertionError, match="got 0"):
        smtp_server.wait_for(1, timeout=0.2)


def test_unavailable_fails_in_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing tool skips a test locally but fails it when CI=true."""
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required when CI=true"):
        unavailable("no chromium")

    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="no chromium"):
        unavailable("no chromium")


def test_clock_is_fixed_until_advanced(clock: Any) -> None:
    """The clock fixture stands still and moves only when told."""
    start = clock.now()

    clock.advance(days=1)

    assert clock.now() - start == timedelta(days=1)


def test_client_talks_to_the_portal_over_https(client: Any) -> None:
    """The client fixture reaches the portal app at https://testserver."""
    response = client.get("/healthz")

    assert str(client.base_url) == "https://testserver"
    assert response.status_code == 200
    assert response.text == "ok"


def test_live_server_runs_the_portal(live_server: str) -> None:
    """The live_server fixture serves the portal itself: /healthz answers ok."""
    with urllib.request.urlopen(f"{live_server}/healthz") as response:  # noqa: S310
        body = response.read()

    assert body == b"ok"
