"""The upload writer's relaxed commits: every chunk durable at the end, the pool left as it was.

Chunk batches before a file's last one commit without waiting for the disk (SQLite
synchronous=NORMAL, PostgreSQL synchronous_commit off); these tests pin that the file is
whole when `finish` returns, that an aborted one leaves no row, and that the connection
the writer used goes back to the pool with the database's own durability settings. On
SQLite a checkpointer thread copies the WAL beside the writer: the WAL must still start
over during a large upload, and the thread must end with the upload.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

import crypto
from cases.clock import FixedClock
from cases.db import is_sqlite, make_engine, session_factory, unit_of_work
from cases.reports import attachments
from cases.reports.attachments import (
    FLUSH_BYTES,
    AttachmentReader,
    AttachmentWriter,
    UploadTarget,
    link,
)
from cases.reports.models import Attachment, AttachmentChunk
from portal.settings import Limits

SECRET = b"s" * 32
CASE_ID = "c" * 32


@pytest.fixture
def one_connection(fresh_database: Callable[..., str]) -> Iterator[Engine]:
    """An engine on a database of its own whose pool holds exactly one connection."""
    engine = make_engine(fresh_database(), pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _target(key: bytes, chunk_size: int = 64 * 1024) -> UploadTarget:
    return UploadTarget(
        case_id=CASE_ID,
        case_key=key,
        author="reporter",
        grace_seconds=3600,
        chunk_size=chunk_size,
        zone=ZoneInfo("UTC"),
    )


def _chunk_rows(factory: sessionmaker[Session]) -> int:
    with unit_of_work(factory) as db:
        return db.scalar(select(func.count()).select_from(AttachmentChunk)) or 0


def _checkpointers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "attachment-checkpoint"]


def _settings_of(engine: Engine) -> tuple[str, ...]:
    with engine.connect() as connection:
        if is_sqlite(engine):
            raw = connection.connection.driver_connection
            assert raw is not None
            return (
                str(raw.execute("PRAGMA synchronous").fetchone()[0]),
                str(raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0]),
            )
        return (str(connection.execute(text("SHOW synchronous_commit")).scalar()),)


@pytest.mark.parametrize("chunk_size", [64 * 1024, Limits().chunk_size], ids=["old", "now"])
def test_file_of_several_batches_is_whole_and_the_pool_keeps_its_settings(
    one_connection: Engine, chunk_size: int
) -> None:
    """A file spanning several relaxed batches reads back byte for byte; the pool is unchanged.

    Both with the chunk size files were written with before (64 KiB) and with today's.
    """
    engine = one_connection
    before = _settings_of(engine)
    assert before in {("2", "1000"), ("on",)}
    factory = session_factory(engine, SECRET)
    key = crypto.random_key()
    block = os.urandom(1024 * 1024 + 17)
    blocks = 2 * FLUSH_BYTES // len(block) + 2
    writer = AttachmentWriter(factory, FixedClock(), _target(key, chunk_size), "big.bin")
    for _ in range(blocks):
        writer.write(block)
    stored = writer.finish()
    assert _settings_of(engine) == before
    assert not _checkpointers()
    with unit_of_work(factory) as db:
        assert link(db, CASE_ID, [stored.id]) == 1
        rows = db.scalar(select(func.count()).select_from(AttachmentChunk))
    assert rows == blocks * len(block) // chunk_size + 1
    with unit_of_work(factory) as db:
        digest = hashlib.sha256()
        for chunk in AttachmentReader(db).open(CASE_ID, stored.id, key).chunks:
            digest.update(chunk)
    assert stored.size == blocks * len(block)
    assert digest.hexdigest() == hashlib.sha256(block * blocks).hexdigest() == stored.sha256


def test_aborted_file_of_several_batches_leaves_no_row(one_connection: Engine) -> None:
    """Aborting after relaxed batches were committed deletes them all; the pool is unchanged."""
    engine = one_connection
    before = _settings_of(engine)
    factory = session_factory(engine, SECRET)
    writer = AttachmentWriter(factory, FixedClock(), _target(crypto.random_key()), "x.bin")
    block = os.urandom(1024 * 1024)
    for _ in range(2 * FLUSH_BYTES // len(block) + 1):
        writer.write(block)
    # The writer thread commits the queued batches on its own time: wait for the first.
    deadline = time.monotonic() + 30
    while not _chunk_rows(factory):
        assert time.monotonic() < deadline, "nothing committed"
        time.sleep(0.01)
    writer.abort()
    assert _settings_of(engine) == before
    assert not _checkpointers()
    with unit_of_work(factory) as db:
        assert db.scalar(select(func.count()).select_from(AttachmentChunk)) == 0
        assert db.scalar(select(func.count()).select_from(Attachment)) == 0


@pytest.mark.sqlite_only
def test_wal_starts_over_during_a_large_upload(
    one_connection: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batches' commits never checkpoint, yet the checkpointer keeps the WAL small.

    Every CHECKPOINT_BYTES the writer waits for the checkpointer to have copied the WAL
    into the database file, so the WAL starts over: it never holds the whole file.
    """
    monkeypatch.setattr(attachments, "CHECKPOINT_BYTES", 2 * FLUSH_BYTES)
    engine = one_connection
    factory = session_factory(engine, SECRET)
    key = crypto.random_key()
    block = os.urandom(1024 * 1024)
    blocks = 10 * FLUSH_BYTES // len(block)
    writer = AttachmentWriter(factory, FixedClock(), _target(key), "big.bin")
    for _ in range(blocks):
        writer.write(block)
    assert _checkpointers(), "no checkpointer beside the writer"
    stored = writer.finish()
    assert not _checkpointers()
    path = Path(str(engine.url.database))
    wal = path.with_name(path.name + "-wal").stat().st_size
    # At most what was committed since the last wait, the batch in hand and the final one.
    assert wal <= 2 * FLUSH_BYTES + 3 * FLUSH_BYTES, f"the WAL grew to {wal} bytes"
    assert path.stat().st_size >= blocks * len(block), "the chunks are not in the database file"
    with unit_of_work(factory) as db:
        assert link(db, CASE_ID, [stored.id]) == 1
    with unit_of_work(factory) as db:
        digest = hashlib.sha256()
        for chunk in AttachmentReader(db).open(CASE_ID, stored.id, key).chunks:
            digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(block * blocks).hexdigest()


@pytest.mark.sqlite_only
def test_new_sqlite_database_has_16_kib_pages(one_connection: Engine) -> None:
    """A new SQLite database is made with 16 KiB pages (chunk writes cost per page)."""
    with one_connection.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA page_size").scalar() == 16384


@pytest.mark.sqlite_only
def test_old_4_kib_page_database_opens_and_keeps_its_pages(tmp_path: Path) -> None:
    """A database made with 4 KiB pages before this change keeps them and still works."""
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute("PRAGMA page_size=4096")
    old.execute("PRAGMA journal_mode=WAL")
    old.execute("CREATE TABLE t (x BLOB)")
    old.execute("INSERT INTO t VALUES (randomblob(100000))")
    old.commit()
    old.close()
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO t VALUES (randomblob(100000))")
            assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 2
            assert connection.exec_driver_sql("PRAGMA page_size").scalar() == 4096
    finally:
        engine.dispose()
