"""The SQLite engine's pool: a transaction gets the connection the previous one returned.

SQLite drops a connection's page cache whenever another connection has written since it
last read, so connections handed round in turn re-read every page a write touches (80
reads of 16 KiB a filing, docs/architecture.md). Last in, first out keeps one warm.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from cases.db import make_engine

pytestmark = pytest.mark.sqlite_only


def _driver(connection: Connection) -> int:
    return id(connection.connection.driver_connection)


def test_the_next_transaction_gets_the_connection_returned_last(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'portal.db'}")
    try:
        first, second = engine.connect(), engine.connect()
        older, newer = _driver(first), _driver(second)
        assert older != newer
        first.close()
        second.close()  # returned last
        for _ in range(3):
            with engine.begin() as connection:
                connection.execute(text("CREATE TABLE IF NOT EXISTS t (x)"))
                connection.execute(text("INSERT INTO t VALUES (1)"))
                assert _driver(connection) == newer
    finally:
        engine.dispose()


def test_an_in_memory_database_keeps_its_own_pool() -> None:
    # SQLAlchemy's in-memory SQLite pool takes no LIFO option: the engine is still made.
    engine = make_engine("sqlite://")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
