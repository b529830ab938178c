"""Giving the pages of deleted rows back, so no copy of them lingers in the database files.

Run after the deleting transaction has committed, on a connection of its own: VACUUM cannot
run inside a transaction on either backend.

SQLite: every connection has `secure_delete=ON` (cases/db.py), so deleted cells are zeroed
in the pages that held them. The pages themselves go back to the file system by incremental
vacuum, which needs `auto_vacuum=INCREMENTAL`: a new database gets it when its first
connection opens (before any table exists); an older one is converted here by one full VACUUM
the first time anything is deleted. Then the WAL, which still holds earlier images of the
changed pages, is checkpointed into the database and truncated to nothing.

PostgreSQL: VACUUM on the tables the deletion touched, so dead row versions are pruned and
their space reused (see docs/retention.md for what it does not promise).
"""

from __future__ import annotations

from sqlalchemy import Engine, text

INCREMENTAL = 2  # PRAGMA auto_vacuum's value for INCREMENTAL


def reclaim_space(engine: Engine, tables: list[str]) -> None:
    if engine.dialect.name == "sqlite":
        _sqlite(engine)
    elif engine.dialect.name == "postgresql":
        _postgresql(engine, tables)


def _sqlite(engine: Engine) -> None:
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        # Outside SQLAlchemy's BEGIN IMMEDIATE: these statements refuse to run in a transaction.
        if raw.execute("PRAGMA auto_vacuum").fetchone()[0] != INCREMENTAL:
            raw.execute("PRAGMA auto_vacuum=INCREMENTAL")
            raw.execute("VACUUM")
        # Through sqlite3_exec (executescript), which steps the pragma to the end: execute()
        # steps it once, and each step frees a single page.
        raw.executescript("PRAGMA incremental_vacuum;")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def _postgresql(engine: Engine, tables: list[str]) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in tables:
            quoted = engine.dialect.identifier_preparer.quote(table)
            connection.execute(text(f"VACUUM {quoted}"))
