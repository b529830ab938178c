"""Fixtures shared by every test: databases, the app, a live server, Chromium, SMTP and a clock.

How to write each kind of test (see README.md, "Tests"):

- unit: no fixture needed; pass a `clock` where time matters.
- integration (tests/integration, or @pytest.mark.db): use `db_session`; it is rolled back at the
  end of the test, so `session.commit()` is allowed and cheap.
- functional (tests/functional): use `client` (or `app`); arrange data with `app_db`, a
  sessionmaker on the app's engine whose commits are real. Tables are reset after the test.
  Do not combine `db_session` with `app`/`client`: on SQLite the two would lock each other.
- live server, browser or concurrency: `live_server` (a base URL) or `start_live_server(...)`,
  and `fresh_database()` for a database of their own.
- browser (tests/browser, or @pytest.mark.browser): `page_nojs` / `page_js`, `locale`,
  `assert_accessible(url, locale)`.
- mail: `smtp_server` (`.url`, `.messages`, `.wait_for(n)`).

Every test that uses a database fixture, or lives in tests/integration or tests/functional, is
marked `db` automatically: the PostgreSQL pass of CI runs `-m "db and not browser and not slow"`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).parent))

from support.availability import unavailable
from support.db import (
    DatabaseFactory,
    TableSnapshot,
    configured_server_url,
    make_test_engine,
    savepoint_session,
)

TESTS = Path(__file__).parent
DB_DIRECTORIES = ("integration", "functional")
DB_FIXTURES = {
    "database_url",
    "engine",
    "db_session",
    "fresh_database",
    "settings",
    "app",
    "app_db",
    "client",
    "live_server",
    "start_live_server",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_browser = os.environ.get("PORTAL_TEST_SKIP_BROWSER") == "1"
    for item in items:
        parts = Path(str(item.path)).relative_to(TESTS).parts if TESTS in item.path.parents else ()
        if parts and parts[0] == "browser":
            item.add_marker(pytest.mark.browser)
        fixtures = set(getattr(item, "fixturenames", ()))
        if (parts and parts[0] in DB_DIRECTORIES) or fixtures & DB_FIXTURES:
            item.add_marker(pytest.mark.db)
        if skip_browser and item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.skip(reason="PORTAL_TEST_SKIP_BROWSER=1"))
    # A test about SQLite itself does not apply to a PostgreSQL run: it is left out, not
    # skipped, so CI's PostgreSQL pass reports no skip at all.
    # Likewise a test of several processes on one server database (docs/deploy.md) belongs to
    # the PostgreSQL run only.
    left_out = "sqlite_only" if os.environ.get("PORTAL_TEST_DATABASE_URL") else "postgres_only"
    deselected = [item for item in items if item.get_closest_marker(left_out)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]
    # Browser tests run last: while Playwright's sync API is alive its event loop counts as
    # running in the main thread, so asyncio.run() in any later test would fail.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


# --- databases -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    """Creates test databases (PostgreSQL if PORTAL_TEST_DATABASE_URL is set, else SQLite)."""
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"), configured_server_url())
    if factory.server_url:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            unavailable("PORTAL_TEST_DATABASE_URL is set but psycopg is not installed")
    yield factory
    factory.close()


@pytest.fixture(scope="session")
def backend(databases: DatabaseFactory) -> str:
    """'sqlite' or 'postgresql': the backend this session runs against."""
    return databases.backend


@pytest.fixture(scope="session")
def database_url(databases: DatabaseFactory) -> str:
    """The session's migrated database, shared by `engine`, `db_session` and `app`."""
    return databases.create()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The session engine (cases.db.make_engine), schema applied once."""
    engine = make_test_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    """A Session whose commits are SAVEPOINTs inside a transaction rolled back after the test."""
    with savepoint_session(engine) as session:
        yield session


@pytest.fixture
def fresh_database(databases: DatabaseFactory) -> Iterator[Callable[..., str]]:
    """`fresh_database(migrate=True) -> url`: a database of the test's own, dropped afterwards.

    For live-server, browser and concurrency tests, where a savepoint cannot contain the writes.
    """
    made: list[str] = []

    def create(*, migrate: bool = True) -> str:
        url = databases.create(migrate=migrate)
        made.append(url)
        return url

    yield create
    for url in made:
        databases.drop(url)


@pytest.fixture(scope="session")
def _seeded_tables(engine: Engine) -> TableSnapshot:
    return TableSnapshot(engine)


@pytest.fixture
def _reset_tables(engine: Engine, _seeded_tables: TableSnapshot) -> Iterator[None]:
    yield
    _seeded_tables.restore(engine)


# --- settings, app, client -----------------------------------------------------------------


@pytest.fixture
def clock() -> Any:
    """A cases.clock.FixedClock (2026-03-02 09:00 UTC); move it with clock.advance(days=1)."""
    from cases.clock import FixedClock

    return FixedClock()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def settings(data_dir: Path, database_url: str) -> Any:
    """Settings.for_tests with a temporary data dir and the session's test database."""
    from portal.settings import Settings

    return Settings.for_tests(data_dir, database_url)


@pytest.fixture
def app_db(engine: Engine, _reset_tables: None) -> sessionmaker[Session]:
    """A sessionmaker on the app's engine: commits are real, and undone after the test."""
    from support.db import TEST_SECRET

    from cases.db import session_factory

    return session_factory(engine, TEST_SECRET)


@pytest.fixture
def app(request: pytest.FixtureRequest, settings: Any, engine: Engine, _reset_tables: None) -> Any:
    """create_app(settings, engine=<session engine>); every table is reset after the test."""
    if "db_session" in request.fixturenames:
        pytest.fail("use app_db, not db_session, with app/client: they would lock each other")
    from portal.app import create_app

    return create_app(settings, engine=engine)


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    """Starlette's TestClient on https://testserver, so __Host- (Secure) cookies are kept."""
    from starlette.testclient import TestClient

    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client


# --- live server ---------------------------------------------------------------------------


@pytest.fixture
def start_live_server(
    tmp_path_factory: pytest.TempPathFactory, fresh_database: Callable[..., str]
) -> Iterator[Callable[..., Any]]:
    """`start_live_server(**settings_overrides) -> LiveServer` (.url, .settings, .database_url).

    Each server gets a fresh migrated database and data dir; all are stopped after the test.
    """
    from support.live import LiveServer
    from support.live import start_live_server as start

    servers: list[LiveServer] = []

    def launch(**overrides: Any) -> LiveServer:
        from portal.app import create_app

        url = fresh_database()
        data_dir = tmp_path_factory.mktemp("live-data")

        def settings_for(base_url: str) -> Any:
            from portal.settings import Settings

            return Settings.for_tests(data_dir, url, **{"base_url": base_url, **overrides})

        server = start(create_app, url, settings_for)
        servers.append(server)
        return server

    yield launch
    for server in servers:
        server.stop()


@pytest.fixture
def live_server(start_live_server: Callable[..., Any]) -> str:
    """The base URL (http://127.0.0.1:PORT) of the app under uvicorn, on a fresh database."""
    url: str = start_live_server().url
    return url


# --- browser -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for the session (Playwright, no downloaded browser)."""
    from support.browser import CHROMIUM, CHROMIUM_ARGS

    if os.environ.get("PORTAL_TEST_SKIP_BROWSER") == "1":
        pytest.skip("PORTAL_TEST_SKIP_BROWSER=1")
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def locale() -> str:
    """The browser locale (and Accept-Language); override with parametrize("locale", [...])."""
    return "zh-CN"


def _context(browser: Any, locale: str, *, javascript: bool) -> Any:
    return browser.new_context(
        java_script_enabled=javascript,
        locale=locale,
        extra_http_headers={"Accept-Language": locale},
    )


@pytest.fixture
def page_nojs(browser: Any, locale: str) -> Iterator[Any]:
    """A page in a fresh context with JavaScript disabled; `page.requests` logs every request."""
    from support.browser import RequestLog

    context = _context(browser, locale, javascript=False)
    page = context.new_page()
    page.requests = RequestLog().attach(context)
    yield page
    context.close()


@pytest.fixture
def page_js(browser: Any, locale: str) -> Iterator[Any]:
    """A page in a fresh context with JavaScript enabled; `page.requests` logs every request."""
    from support.browser import RequestLog

    context = _context(browser, locale, javascript=True)
    page = context.new_page()
    page.requests = RequestLog().attach(context)
    yield page
    context.close()


@pytest.fixture
def assert_accessible(browser: Any) -> Callable[[str, str], None]:
    """`assert_accessible(url, locale)`: axe finds no serious or critical violation there.

    axe needs JavaScript (it hangs in a JS-disabled context), so it opens the URL again in a
    JS-enabled context of its own, and gives up after a timeout.
    """
    from support.browser import blocking_violations, describe, run_axe

    def check(url: str, locale: str = "zh-CN") -> None:
        context = _context(browser, locale, javascript=True)
        try:
            page = context.new_page()
            page.goto(url)
            violations = blocking_violations(run_axe(page))
        finally:
            context.close()
        assert not violations, f"axe on {url} ({locale}):\n{describe(violations)}"

    return check


# --- mail ----------------------------------------------------------------------------------


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    """A real SMTP server on 127.0.0.1: `.url` (smtp://…), `.messages`, `.wait_for(n, timeout)`."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        unavailable("aiosmtpd is not installed (pip install -e '.[test]')")
    from support.availability import free_port
    from support.smtp import SmtpServer

    handler = SmtpServer()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.url = f"smtp://127.0.0.1:{port}"
    yield handler
    controller.stop()
