"""Test databases: a migrated template, copied into fresh databases (PostgreSQL) or files (SQLite).

The backend is PostgreSQL when PORTAL_TEST_DATABASE_URL is set (a URL of a database the role may
connect to and whose role has CREATEDB), SQLite files in a temporary directory otherwise. The
schema is applied once, to a template; every database handed out is a copy of it
(`CREATE DATABASE ... TEMPLATE` on PostgreSQL, the SQLite backup API on SQLite), which is much
faster than migrating each one.
"""

from __future__ import annotations

import importlib
import itertools
import os
import pkgutil
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Table, create_engine, make_url, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

TEST_DATABASE_VAR = "PORTAL_TEST_DATABASE_URL"
# The server secret of Settings.for_tests, which test sessions carry as the app's do.
TEST_SECRET = b"t" * 32
# cases.db.SERVER_SECRET (the Session.info key), without importing cases here.
SERVER_SECRET = "portal.server_secret"


def configured_server_url() -> str | None:
    """The PostgreSQL URL tests run against, or None for SQLite."""
    return os.environ.get(TEST_DATABASE_VAR) or None


def import_models() -> None:
    """Import every `cases.*.models` module so Base.metadata knows every table."""
    import cases

    for module in pkgutil.walk_packages(cases.__path__, "cases."):
        if module.name.rsplit(".", 1)[-1] == "models":
            importlib.import_module(module.name)


def apply_schema(engine: Engine) -> None:
    """Alembic migrations when portal.migrations exists; Base.metadata.create_all until then."""
    try:
        from portal.migrations import upgrade
    except ModuleNotFoundError as exc:
        if exc.name != "portal.migrations":
            raise
        from cases.db import Base

        import_models()
        Base.metadata.create_all(engine)
    else:
        upgrade(engine)


@contextmanager
def savepoint_session(engine: Engine) -> Iterator[Session]:
    """SQLAlchemy 2's "join a Session into an external transaction" recipe.

    The session's commit() and rollback() only release or roll back SAVEPOINTs; the outer
    transaction is rolled back on exit, so nothing the block did survives it. cases.db's SQLite
    engine sets isolation_level=None on the DBAPI connection and emits BEGIN IMMEDIATE itself,
    which is what makes SAVEPOINTs work there too.
    """
    connection = engine.connect()
    outer = connection.begin()
    session = Session(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        info={SERVER_SECRET: TEST_SECRET},
    )
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


def make_test_engine(url: str) -> Engine:
    from cases.db import make_engine

    return make_engine(url)


class DatabaseFactory:
    """Hands out migrated (or empty) databases and removes them all at the end of the session."""

    def __init__(self, workdir: Path, server_url: str | None) -> None:
        self.workdir = workdir
        self.server_url = server_url
        self.prefix = f"portal_test_{os.getpid()}_{secrets.token_hex(3)}"
        self._counter = itertools.count(1)
        self._template: str | None = None
        self._created: list[str] = []
        self._admin: Engine | None = None

    @property
    def backend(self) -> str:
        return "postgresql" if self.server_url else "sqlite"

    def create(self, *, migrate: bool = True) -> str:
        """A new database URL: a copy of the migrated template, or empty with migrate=False."""
        name = f"{self.prefix}_{next(self._counter)}"
        template = self._migrated_template() if migrate else None
        url = self._create(name, template)
        self._created.append(url)
        return url

    def drop(self, url: str) -> None:
        """Remove one database now (connections to it are terminated on PostgreSQL)."""
        if url in self._created:
            self._created.remove(url)
        if self.server_url:
            database = make_url(url).database
            self._drop_database(str(database))
        else:
            path = Path(str(make_url(url).database))
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    def _drop_database(self, database: str, attempts: int = 50) -> None:
        """DROP ... WITH (FORCE), retried for a few seconds: FORCE may not terminate a process
        of another role on the database (an autovacuum worker on a freshly written copy seen
        in CI: InsufficientPrivilege), which leaves soon by itself."""
        for attempt in range(attempts):
            try:
                self._admin_execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                return
            except ProgrammingError as error:
                if "pg_signal_backend" not in str(error) or attempt == attempts - 1:
                    raise
                time.sleep(0.1)

    def close(self) -> None:
        """Drop every database this factory made, the template included."""
        for url in [*self._created, *([self._template] if self._template else [])]:
            self.drop(url)
        if self._admin is not None:
            self._admin.dispose()

    def _migrated_template(self) -> str:
        if self._template is None:
            name = f"{self.prefix}_template"
            url = self._create(name, None)
            engine = make_test_engine(url)
            try:
                apply_schema(engine)
            finally:
                engine.dispose()
            self._template = url
        return self._template

    def _create(self, name: str, template: str | None) -> str:
        if self.server_url:
            return self._create_pg(name, template)
        return self._create_sqlite(name, template)

    def _create_sqlite(self, name: str, template: str | None) -> str:
        path = self.workdir / f"{name}.db"
        if template is not None:
            with (
                closing(sqlite3.connect(str(make_url(template).database))) as source,
                closing(sqlite3.connect(path)) as target,
            ):
                source.backup(target)
        return f"sqlite:///{path}"

    def _create_pg(self, name: str, template: str | None) -> str:
        assert self.server_url is not None
        clause = f' TEMPLATE "{make_url(template).database}"' if template else ""
        self._admin_execute(f'CREATE DATABASE "{name}"{clause}')
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    def _admin_execute(self, statement: str) -> None:
        if self._admin is None:
            assert self.server_url is not None
            self._admin = create_engine(
                self.server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool
            )
        with self._admin.connect() as connection:
            connection.exec_driver_sql(statement)


class TableSnapshot:
    """What every table held right after migration, so a test's writes can be undone quickly.

    Apps under test open their own sessions and commit, so a savepoint cannot contain them.
    Instead, after such a test every table is emptied (DELETE, children first) and refilled with
    the rows the migrations seeded. That is a few milliseconds on both backends, much faster than
    a new database per test.
    """

    def __init__(self, engine: Engine) -> None:
        metadata = MetaData()
        metadata.reflect(engine)
        self.tables: list[Table] = [
            table for table in metadata.sorted_tables if table.name != "alembic_version"
        ]
        with engine.connect() as connection:
            self.rows: dict[str, list[dict[str, Any]]] = {
                table.name: [dict(row._mapping) for row in connection.execute(select(table))]
                for table in self.tables
            }

    def restore(self, engine: Engine) -> None:
        with engine.begin() as connection:
            for table in reversed(self.tables):
                connection.execute(table.delete())
            for table in self.tables:
                if self.rows[table.name]:
                    connection.execute(table.insert(), self.rows[table.name])
