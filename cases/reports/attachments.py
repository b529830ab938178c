"""Encrypted attachments: written chunk by chunk as an upload streams in, read back as a stream.

A file gets its own random key, sealed under the case key; its plaintext passes through
the metadata cleaner and the stream encryptor and only ciphertext reaches the database.
Chunk rows are written in short transactions of their own while the upload runs (never
in the request's one transaction, which would hold a 1 GiB write open), in batches of a
few megabytes by a writer thread, so the database's disk work overlaps with parsing and
encrypting the next batch while memory stays bounded. A file stays unlinked, and is
swept after a grace period by `sweep_unlinked`, until the report, reply or staff upload
that carries it commits and calls `link`. Intake and evidence uploads call the sweeper
opportunistically.

This is the one file store: reporter uploads (report form, status page, API) and staff
evidence go through the same writer (`AttachmentWriter`: metadata cleaning, a 120-character
display name), the same `link` and the same reader (`AttachmentReader`).
"""

from __future__ import annotations

import queue
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

import crypto
from cases.clock import Clock, ceil_hour, local_day
from cases.db import is_sqlite, new_id, unit_of_work
from cases.errors import NotFound
from cases.reports.arrivals import file_listed
from cases.reports.cleaning import DEFAULT_DOCUMENT_BYTES, MetadataCleaner
from cases.reports.models import Attachment, AttachmentChunk
from cases.reports.sealing import FILE_KEY, FILE_META, open_json, seal_json, stream_aad

NAME_MAX = 120
FLUSH_BYTES = 4 * 1024 * 1024
# Batches waiting for the writer thread; with the one being written and the one filling,
# at most (QUEUE_DEPTH + 2) * FLUSH_BYTES of ciphertext is held per upload.
QUEUE_DEPTH = 2
# SQLite: how much an upload's writer commits before it waits for its checkpointer to have
# copied the WAL into the database file, so the WAL starts over (see _Checkpointer).
CHECKPOINT_BYTES = 64 * 1024 * 1024
# Ciphertext read per query when a file is read back (its chunks may be 64 KiB, 256 KiB or
# whatever size it was written with).
READ_BYTES = 1024 * 1024


@dataclass(frozen=True)
class StoredFile:
    """What the uploader may be told about a stored file; the name is as cleaned."""

    id: str
    name: str
    size: int
    sha256: str
    content_type: str
    cleaned: bool
    # Who sent it ("reporter" or "staff") and on which day; set when read back.
    author: str = "reporter"
    created_on: date | None = None

    def meta(self) -> dict[str, Any]:
        """What is sealed beside the file (purpose FILE_META)."""
        return {
            "name": self.name,
            "type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "cleaned": self.cleaned,
        }


@dataclass(frozen=True)
class UploadTarget:
    """Where a file goes: the case, its key, who sends it, and the settings that apply."""

    case_id: str
    case_key: bytes
    author: str
    grace_seconds: int
    chunk_size: int
    zone: ZoneInfo
    staff_id: str | None = None
    # PDF and Office files up to this size are cleaned in memory; larger ones are kept as sent.
    clean_max_bytes: int = DEFAULT_DOCUMENT_BYTES


def evidence_name(original: str, number: int, *, keep: bool) -> str:
    """A reporter's file as staff see it: "evidence-<n>.<ext>" unless they kept their names.

    File names often carry the sender's name, user account or a date ("jsmith_holiday.jpg");
    only a short plain extension survives the renaming, so the file still opens.
    """
    name = clean_name(original)
    if keep:
        return name
    stem, dot, extension = name.rpartition(".")
    plain = dot and stem and re.fullmatch(r"[A-Za-z0-9]{1,5}", extension)
    return f"evidence-{number}" + (f".{extension.lower()}" if plain else "")


def next_evidence_number(db: Session, case_id: str) -> int:
    """The n of the next reporter file of a case ("evidence-<n>"), counting every upload."""
    stmt = select(func.count()).where(
        Attachment.case_id == case_id, Attachment.author == "reporter"
    )
    return int(db.scalar(stmt) or 0) + 1


def clean_name(name: str) -> str:
    """A display name only: the last path part, no control characters, length-capped."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    printable = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    return printable[:NAME_MAX] or "file"


class AttachmentWriter:
    """One file being received: feed it bytes, then finish (or abort, which deletes it)."""

    def __init__(
        self, factory: sessionmaker[Session], clock: Clock, target: UploadTarget, name: str
    ) -> None:
        self.factory = factory
        self.target = target
        self.id = new_id()
        self.name = clean_name(name)
        self._file_key = crypto.random_key()
        self._cleaner = MetadataCleaner(target.clean_max_bytes)
        self._encryptor = crypto.StreamEncryptor(
            self._file_key, stream_aad(target.case_id, self.id), target.chunk_size
        )
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._next_idx = 0
        self.received = 0
        now = clock.now()
        self._writer = _BatchWriter(factory, self.id)
        with unit_of_work(factory) as db:
            db.add(
                Attachment(
                    id=self.id,
                    case_id=target.case_id,
                    linked=False,
                    complete=False,
                    author=target.author,
                    staff_id=target.staff_id,
                    header=self._encryptor.header,
                    file_key=crypto.seal_item(
                        target.case_key, target.case_id, FILE_KEY, self.id, self._file_key
                    ),
                    created_on=local_day(now, target.zone),
                    # On a full hour: the row must not tell when the reporter uploaded.
                    sweep_after=ceil_hour(now + timedelta(seconds=target.grace_seconds)),
                )
            )

    def write(self, data: bytes) -> None:
        self.received += len(data)
        self._queue(self._encryptor.update(self._cleaner.feed(data)))

    def finish(self) -> StoredFile:
        """Encrypt the last chunk, seal the metadata and mark the file complete (not linked)."""
        self._queue(self._encryptor.update(self._cleaner.finish()))
        # Queued (not appended) so the last chunk counts in stored_bytes, which quotas read.
        self._queue([self._encryptor.finalize()])
        stored = StoredFile(
            self.id,
            self.name,
            self._encryptor.plaintext_size,
            self._encryptor.sha256,
            self._cleaner.content_type,
            self._cleaner.cleaned,
        )
        target = self.target
        self._flush(
            meta=seal_json(target.case_key, target.case_id, FILE_META, self.id, stored.meta())
        )
        return stored

    def abort(self) -> None:
        self._writer.close(raise_error=False)
        delete_files(self.factory, [self.id])

    def _queue(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            self._pending.append(chunk)
            self._pending_bytes += len(chunk)
        if self._pending_bytes >= FLUSH_BYTES:
            self._flush()

    def _flush(self, meta: bytes | None = None) -> None:
        self._writer.put(_Batch(self._next_idx, self._pending, self._pending_bytes, meta))
        self._next_idx += len(self._pending)
        self._pending, self._pending_bytes = [], 0
        if meta is not None:
            self._writer.close()


@dataclass(frozen=True)
class _Batch:
    first_idx: int
    chunks: list[bytes]
    size: int
    meta: bytes | None


class _BatchWriter:
    """Writes one upload's chunk batches in order, in a thread of its own.

    The queue is short, so a slow disk slows the upload down instead of filling memory.
    An error is kept and raised to the uploader at its next put or at close.

    Each batch commits in a short transaction of its own, so other writers are never
    locked out for long, but only the last one (which marks the file complete) waits for
    the disk: the others commit with SQLite's ``synchronous=NORMAL`` (the WAL is not
    fsynced at each commit) or PostgreSQL's ``synchronous_commit = off``. The last commit's
    flush covers every earlier one, since both databases make a log durable in order, so
    when `finish` returns every chunk is on disk; a crash before it leaves an incomplete,
    unlinked file for the sweeper, never a complete file with chunks missing.

    On SQLite the batches' commits never checkpoint: a `_Checkpointer` beside the writer
    copies the WAL into the database file (and fsyncs both) while the next batches are
    written, and every `CHECKPOINT_BYTES` the writer waits for it to have copied all, so
    the WAL starts over instead of growing with the file.
    """

    def __init__(self, factory: sessionmaker[Session], attachment_id: str) -> None:
        self.factory = factory
        self.attachment_id = attachment_id
        self._queue: queue.Queue[_Batch | None] = queue.Queue(maxsize=QUEUE_DEPTH)
        self._error: BaseException | None = None
        self._closed = False
        self._checkpointer = _Checkpointer.beside(factory)
        self._since_checkpoint = 0
        self._thread = threading.Thread(target=self._run, name="attachment-writer", daemon=True)
        self._thread.start()

    def put(self, batch: _Batch) -> None:
        self._raise()
        self._queue.put(batch)

    def close(self, *, raise_error: bool = True) -> None:
        if not self._closed:
            self._closed = True
            self._queue.put(None)
            self._thread.join()
        if raise_error:
            self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        try:
            while (batch := self._queue.get()) is not None:
                if self._error is None:
                    try:
                        self._write(batch)
                    except BaseException as exc:  # handed to the uploader's thread
                        self._error = exc
        finally:
            if self._checkpointer is not None:
                self._checkpointer.close()

    def _write(self, batch: _Batch) -> None:
        rows = [
            {"attachment_id": self.attachment_id, "idx": batch.first_idx + n, "data": chunk}
            for n, chunk in enumerate(batch.chunks)
        ]
        last = batch.meta is not None
        files = Attachment.metadata.tables["attachments"]
        chunks = AttachmentChunk.metadata.tables["attachment_chunks"]
        values: dict[str, Any] = {"stored_bytes": files.c.stored_bytes + batch.size}
        if last:
            values.update(meta=batch.meta, complete=True)
        checkpointer = self._checkpointer
        if checkpointer is not None and last:
            # What is left of the WAL is copied now, not by the last commit itself.
            checkpointer.catch_up()
        # Core statements (no ORM bookkeeping per row): the writer thread's CPU is the
        # upload's bound, and it shares two cores with parsing and encrypting.
        with _batch_session(self.factory, durable=last, own_checkpoints=checkpointer is None) as db:
            if rows:
                db.execute(insert(chunks), rows)
            changed = db.execute(
                update(files).where(files.c.id == self.attachment_id).values(values)
            )
            if not changed.rowcount:  # type: ignore[attr-defined]
                raise NotFound("The upload was removed while it was being received.")
        if checkpointer is not None and not last:
            self._since_checkpoint += batch.size
            if self._since_checkpoint >= CHECKPOINT_BYTES:
                # Nothing is committed while it copies: the WAL starts over at the next batch.
                checkpointer.catch_up()
                self._since_checkpoint = 0
            else:
                checkpointer.nudge()


class _Checkpointer:
    """SQLite: copies the WAL into the database file in a thread of its own, during an upload.

    Without it, the commit that crosses SQLite's checkpoint threshold copies the WAL into
    the database file and fsyncs both before it returns, and the upload's writer thread,
    which is its bound, waits for the disk at each. Here that work runs beside the writer:
    each nudge asks for a passive checkpoint (`PRAGMA wal_checkpoint(PASSIVE)`, which never
    blocks a writer or a reader and is SQLite's own procedure, fsyncs included), and
    `catch_up` waits for one pass that starts after it is called. The connection is a
    plain one to the same file, not one of the engine's pool (a pool of one connection
    must not be exhausted by an upload).
    """

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._cond = threading.Condition()
        self._wanted = False
        self._stopped = False
        self._started = 0
        self._finished = 0
        self._thread = threading.Thread(target=self._run, name="attachment-checkpoint", daemon=True)
        self._thread.start()

    @classmethod
    def beside(cls, factory: sessionmaker[Session]) -> _Checkpointer | None:
        """One for an upload written through this factory's SQLite file engine, else None."""
        bind = factory.kw.get("bind")
        if not isinstance(bind, Engine) or not is_sqlite(bind):
            return None
        path = bind.url.database
        if not path or path == ":memory:" or path.startswith("file:"):
            return None
        try:
            return cls(path)
        except sqlite3.Error:
            return None  # the writer's commits then checkpoint as SQLite's settings say

    def nudge(self) -> None:
        with self._cond:
            self._wanted = True
            self._cond.notify_all()

    def catch_up(self) -> None:
        """Return once a pass started after this call has ended (everything committed by then
        is copied, unless a reader still needs part of the WAL)."""
        with self._cond:
            seen = self._started
            self._wanted = True
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._finished > seen or self._stopped)

    def close(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join()
        self._db.close()

    def _run(self) -> None:
        try:
            while self._one_pass():
                pass
        finally:
            # Never leave the writer waiting on a thread that is gone.
            with self._cond:
                self._stopped = True
                self._cond.notify_all()

    def _one_pass(self) -> bool:
        with self._cond:
            self._cond.wait_for(lambda: self._wanted or self._stopped)
            if self._stopped:
                return False
            self._wanted = False
            self._started += 1
            number = self._started
        try:
            busy = self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[0]
        except sqlite3.Error:
            busy = 1
        with self._cond:
            self._finished = number
            self._cond.notify_all()
        if busy:
            time.sleep(0.01)  # another connection is checkpointing: let it finish
        return True


@contextmanager
def _batch_session(
    factory: sessionmaker[Session], *, durable: bool, own_checkpoints: bool = True
) -> Iterator[Session]:
    """One batch's transaction; unless `durable`, its commit does not wait for the disk.

    Without an engine to connect to (a factory bound to a test's connection), every commit
    keeps the database's own settings. On SQLite, unless `own_checkpoints`, the commit
    leaves the WAL to the upload's `_Checkpointer`.
    """
    bind = factory.kw.get("bind")
    if durable or not isinstance(bind, Engine):
        with unit_of_work(factory) as db:
            yield db
        return
    with bind.connect() as connection:
        relaxed = _sqlite_relaxed(connection, own_checkpoints) if is_sqlite(bind) else nullcontext()
        with relaxed, unit_of_work(sessionmaker(**{**factory.kw, "bind": connection})) as db:
            if bind.dialect.name == "postgresql":
                db.execute(text("SET LOCAL synchronous_commit = off"))
            yield db


@contextmanager
def _sqlite_relaxed(connection: Connection, checkpoints: bool) -> Iterator[None]:
    """synchronous=NORMAL for one transaction, then cases/db.py's settings.

    Set on the DBAPI connection outside any transaction (SQLite refuses to change the sync
    level inside one) and put back before the connection returns to the pool. Without
    `checkpoints` the commit never checkpoints (the upload's `_Checkpointer` copies the
    WAL); with them, only once the WAL holds `CHECKPOINT_BYTES`.
    """
    raw = connection.connection.driver_connection
    assert raw is not None
    pages = 0
    if checkpoints:
        pages = max(1000, CHECKPOINT_BYTES // int(raw.execute("PRAGMA page_size").fetchone()[0]))
    raw.execute("PRAGMA synchronous=NORMAL")
    raw.execute(f"PRAGMA wal_autocheckpoint={pages}")
    try:
        yield
    finally:
        raw.execute("PRAGMA synchronous=FULL")
        raw.execute("PRAGMA wal_autocheckpoint=1000")


def delete_files(factory: sessionmaker[Session], ids: list[str]) -> None:
    """Remove files and their chunks in a transaction of their own."""
    if not ids:
        return
    with unit_of_work(factory) as db:
        db.execute(delete(AttachmentChunk).where(AttachmentChunk.attachment_id.in_(ids)))
        db.execute(delete(Attachment).where(Attachment.id.in_(ids)))


def link(db: Session, case_id: str, ids: list[str], *, held_until: datetime | None = None) -> int:
    """Attach complete uploads of this case to it for good (in the caller's transaction).

    With `held_until` (a reporter's later evidence) staff see them from that hour only
    (cases/reports/arrivals.py); the reporter sees them at once."""
    if not ids:
        return 0
    result = db.execute(
        update(Attachment)
        .where(
            Attachment.id.in_(ids),
            Attachment.case_id == case_id,
            Attachment.complete.is_(True),
        )
        .values(linked=True, held_until=held_until)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# Built once: the jobs round sweeps with it every minute.
_STALE = select(Attachment.id).where(
    Attachment.linked.is_(False), Attachment.sweep_after <= bindparam("now")
)


def sweep_unlinked(db: Session, clock: Clock) -> int:
    """Delete uploads whose report never arrived once their grace period is over."""
    ids = list(db.scalars(_STALE, {"now": clock.now()}))
    if not ids:
        return 0
    db.execute(delete(AttachmentChunk).where(AttachmentChunk.attachment_id.in_(ids)))
    db.execute(delete(Attachment).where(Attachment.id.in_(ids)))
    return len(ids)


@dataclass(frozen=True)
class FileTicket:
    """A linked file whose key was opened after the policy check; lives for one request.

    The check (and its audit entry) commits first; the plaintext is then streamed from a
    session of its own (`AttachmentReader.stream`), so no transaction stays open while a
    large file is sent.
    """

    info: StoredFile
    case_id: str
    header: bytes
    file_key: bytes


@dataclass(frozen=True)
class OpenedFile:
    """A linked file's metadata and its plaintext as a stream of chunks."""

    meta: StoredFile
    chunks: Iterator[bytes]


class AttachmentReader:
    """Reads linked files of a case with the case key: staff, reporters and exports use it.

    A reporter's later file waiting for its hour (cases/reports/arrivals.py) does not exist
    for staff: not listed, and `ticket` answers "no such file". The reporter's own pages pass
    `held=True` and see it at once."""

    def __init__(self, db: Session, *, held: bool = False) -> None:
        self.db = db
        self.held = held

    def files(self, case_id: str, case_key: bytes, author: str | None = None) -> list[StoredFile]:
        stmt = select(Attachment).where(
            Attachment.case_id == case_id,
            Attachment.linked.is_(True),
            Attachment.complete.is_(True),
        )
        if not self.held:
            stmt = stmt.where(file_listed())
        if author is not None:
            stmt = stmt.where(Attachment.author == author)
        rows = self.db.scalars(stmt.order_by(Attachment.created_on, Attachment.id))
        return [self._meta(row, case_key) for row in rows]

    def ticket(self, case_id: str, attachment_id: str, case_key: bytes) -> FileTicket:
        """Open one linked, complete file of this case (NotFound for anything else)."""
        row = self.db.get(Attachment, attachment_id) if len(attachment_id) <= 64 else None
        if row is None or row.case_id != case_id or not (row.linked and row.complete):
            raise NotFound("There is no such file.", code="file_not_found")
        if row.held_until is not None and not self.held:
            raise NotFound("There is no such file.", code="file_not_found")
        file_key = crypto.open_item(case_key, case_id, FILE_KEY, row.id, row.file_key)
        return FileTicket(self._meta(row, case_key), case_id, row.header, file_key)

    def stream(self, ticket: FileTicket) -> Iterator[bytes]:
        """The plaintext, decrypted chunk by chunk (authenticated; a changed chunk raises)."""
        aad = stream_aad(ticket.case_id, ticket.info.id)
        chunks = self._chunks(ticket.info.id)
        return crypto.decrypt_stream(ticket.file_key, aad, ticket.header, chunks)

    def open(self, case_id: str, attachment_id: str, case_key: bytes) -> OpenedFile:
        ticket = self.ticket(case_id, attachment_id, case_key)
        return OpenedFile(ticket.info, self.stream(ticket))

    def _meta(self, row: Attachment, case_key: bytes) -> StoredFile:
        assert row.meta is not None
        meta = open_json(case_key, row.case_id, FILE_META, row.id, row.meta)
        return StoredFile(
            row.id,
            str(meta["name"]),
            int(meta["size"]),
            str(meta["sha256"]),
            str(meta["type"]),
            bool(meta["cleaned"]),
            author=row.author,
            created_on=row.created_on,
        )

    def _chunks(self, attachment_id: str) -> Iterator[bytes]:
        # About READ_BYTES per query, sized by the first chunk: a 1 GiB file is never
        # loaded at once, whatever its chunk size.
        start, limit = 0, 1
        while True:
            stmt = (
                select(AttachmentChunk.data)
                .where(AttachmentChunk.attachment_id == attachment_id, AttachmentChunk.idx >= start)
                .order_by(AttachmentChunk.idx)
                .limit(limit)
            )
            batch = list(self.db.scalars(stmt))
            yield from batch
            if len(batch) < limit:
                return
            start += limit
            limit = max(1, READ_BYTES // max(1, len(batch[0])))
