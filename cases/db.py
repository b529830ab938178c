"""Engines, the declarative base and the unit-of-work helper shared by every domain area."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import MetaData, Table, create_engine, event, insert
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, make_transient_to_detached, sessionmaker
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


M = TypeVar("M", bound="Base")


def new_id() -> str:
    """A random 128-bit id: sequential ids would leak case volume and ordering."""
    return secrets.token_hex(16)


def utcnow() -> datetime:
    """Naive UTC: both backends store it the same way."""
    return datetime.now(UTC).replace(tzinfo=None)


def utc_hour() -> datetime:
    """Naive UTC now, cut to the hour: for rows a reporter's request may write."""
    return utcnow().replace(minute=0, second=0, microsecond=0)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine tuned per backend: SQLite gets WAL, full sync, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        _private_sqlite_files(url)
        if "poolclass" not in kwargs and not _in_memory(url):
            # Last in, first out: the connection a transaction gets is the one the last
            # transaction used. SQLite drops a connection's page cache whenever another
            # connection wrote since it last read; handed round first in, first out, every
            # write transaction re-read each page it touched (80 reads of 16 KiB a filing).
            kwargs.setdefault("pool_use_lifo", True)
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        engine.dialect.statement_compiler = _SQLiteHintCompiler
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


class _SQLiteHintCompiler(SQLiteCompiler):
    """SQLite's compiler, but writing a statement's table hint (`with_hint(…, "sqlite")`).

    SQLAlchemy's SQLite dialect drops table hints silently; SQLite's one hint, `INDEXED BY`,
    is how the statistics (cases/stats/service.py) pin their covering indexes, which the
    planner otherwise passes over for a narrower index and a row-by-row table read.
    """

    def get_from_hint_text(self, table: Any, text: str | None) -> str | None:
        return text


def _in_memory(url: str) -> bool:
    database = make_url(url).database
    return not database or database == ":memory:" or "mode=memory" in database


def _private_sqlite_files(url: str) -> None:
    """The database file (and its WAL and shared-memory files) readable by the owner only.

    Made before SQLite opens it, because SQLite gives its -wal and -shm files the mode of
    the database file.
    """
    database = make_url(url).database
    if not database or _in_memory(url) or database.startswith("file:"):
        return
    path = Path(database)
    if path.parent.is_dir():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for file in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
        if file.exists():
            file.chmod(0o600)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy own transaction boundaries so BEGIN IMMEDIATE below is the only BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        # Both take effect only on a new, empty database (cases/retention/space.py converts
        # old ones to INCREMENTAL; an old database keeps its page size, see docs/deploy.md).
        # 16 KiB pages: attachment chunks are overflow-page chains, and SQLite's cost is per
        # page (a WAL frame, two writes and a read at checkpoint); with 4 KiB pages a 1 GiB
        # upload was bound by it at ~95 MiB/s, with 16 KiB ~150 MiB/s (docs/architecture.md).
        "page_size=16384",
        "auto_vacuum=INCREMENTAL",
        "journal_mode=WAL",
        "synchronous=FULL",
        "foreign_keys=ON",
        "busy_timeout=30000",
        "secure_delete=ON",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # A read-then-write transaction under BEGIN DEFERRED gets SQLITE_BUSY under concurrency.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


SERVER_SECRET = "portal.server_secret"  # noqa: S105 (the Session.info key, not a secret)


def session_factory(engine: Engine, server_secret: bytes | None = None) -> sessionmaker[Session]:
    """Sessions on this engine; each carries the server secret the access policy hashes with.

    The directory stores no hash of anyone (a stolen database must not link a case to the
    people it names), so the policy hashes the viewer's chain under the secret per request.
    """
    info = {SERVER_SECRET: server_secret} if server_secret is not None else {}
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True, info=info)


def bind_server_secret(db: Session, server_secret: bytes) -> Session:
    """Give a session made elsewhere (a test's, a benchmark's) the secret the policy needs."""
    db.info[SERVER_SECRET] = server_secret
    return db


def server_secret_of(db: Session) -> bytes:
    """The secret this session was made with; refusing, rather than guessing, when it has none."""
    secret = db.info.get(SERVER_SECRET)
    if not isinstance(secret, bytes):
        raise RuntimeError("this database session was made without the server secret")
    return secret


_INSERTS: dict[type[Any], Any] = {}


def table_of(model: type[Base]) -> Table:
    """A mapped class's table, typed as one (for Core statements built once)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def insert_row(db: Session, model: type[M], values: dict[str, Any]) -> M:
    """Insert one row with a single Core statement and return it as this session's object.

    The ORM's flush costs several times the statement itself; where a request inserts a
    row on every call (filing a report), this does the same insert without it. Every
    column is given: the values, else the column's Python default, else NULL, so the
    object made from them needs no read-back and matches the row exactly.
    """
    table = table_of(model)
    row = dict(values)
    for column in table.columns:
        if column.key in row:
            continue
        default = column.default
        if default is None:
            row[column.key] = None
        elif isinstance(default, ScalarElementColumnDefault):
            row[column.key] = default.arg
        elif isinstance(default, CallableColumnDefault):
            # Our defaults (new_id, utcnow, utc_hour) take no execution context.
            row[column.key] = default.arg(None)  # type: ignore[arg-type]
        else:
            raise ValueError(f"{table.name}.{column.key}: give it a value")
    stmt = _INSERTS.get(model)
    if stmt is None:
        stmt = _INSERTS[model] = insert(table)
    db.execute(stmt, row)
    obj = model(**row)
    make_transient_to_detached(obj)
    db.add(obj)
    return obj


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Commit on success, roll back on any exception: the one place a transaction ends."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
