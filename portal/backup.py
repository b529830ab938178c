"""`portal backup FILE` and `portal restore FILE`: consistent online snapshots, never the secret.

A backup file is one line of JSON (what it holds) after a magic line, then the snapshot:

- SQLite: the database file as SQLite's online backup API copies it, in one step under one
  read transaction, so it is consistent while reports keep arriving (WAL lets writers go on).
- PostgreSQL: ``pg_dump --format=custom``, which reads everything in one snapshot.

Attachments live in the database (encrypted chunk rows), so the snapshot holds them. The server
secret is never in it: it lives outside the database (``PORTAL_SECRET_KEY`` or the data
directory's ``secret.key``), and a restore needs the same one. The restore checks that before
anything is served: every key row carries a MAC under the secret (cases/keytrust.py), so a
database whose rows all fail under this secret was made with another one, and is refused with
words saying so rather than served as pages that cannot open anything.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import inspect
from sqlalchemy.engine import Engine, make_url

from cases.db import make_engine, session_factory, unit_of_work
from cases.keytrust import secret_matches
from portal.settings import Settings, private_dir

MAGIC = b"PORTAL-BACKUP 1\n"
# Words about the secret, not a secret.
SECRET_MISMATCH = (
    "database was made with another server secret: none of its key rows verifies under this "  # noqa: S105
    "one. Set PORTAL_SECRET_KEY or PORTAL_SECRET_KEY_FILE (or the data directory's secret.key) "
    "to the secret in use when the backup was made, then run `portal doctor`. Nothing is served "
    "until the secrets match."
)
COPY_BLOCK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Header:
    backend: str
    made_on: str

    def line(self) -> bytes:
        return json.dumps({"backend": self.backend, "made_on": self.made_on}).encode() + b"\n"


def backup(settings: Settings, target: Path) -> Header:
    """Writes a snapshot of the database to ``target`` (mode 0600), atomically."""
    url = make_url(settings.database_url)
    header = Header(url.get_backend_name(), datetime.now(UTC).date().isoformat())
    with _atomic(target) as out:
        out.write(MAGIC + header.line())
        if header.backend == "sqlite":
            _sqlite_snapshot(_sqlite_file(settings.database_url), out)
        elif header.backend == "postgresql":
            _pg_dump(settings.database_url, out)
        else:
            raise BackupError(f"backups of {header.backend} databases are not supported")
    return header


def restore(settings: Settings, source: Path) -> Header:
    """Restores ``source`` into the configured database, which must be empty; then checks
    that the server secret is the one the backup's rows were made with."""
    with source.open("rb") as handle:
        header = _read_header(handle)
        backend = make_url(settings.database_url).get_backend_name()
        if header.backend != backend:
            raise BackupError(
                f"this backup holds a {header.backend} database; PORTAL_DATABASE_URL is {backend}"
            )
        if backend == "sqlite":
            _sqlite_restore(_sqlite_file(settings.database_url), handle, settings)
        else:
            _pg_restore(settings.database_url, handle)
    _check_secret(settings)
    return header


def _read_header(handle: IO[bytes]) -> Header:
    if handle.read(len(MAGIC)) != MAGIC:
        raise BackupError("this file is not a portal backup")
    try:
        fields: dict[str, Any] = json.loads(handle.readline())
        return Header(str(fields["backend"]), str(fields["made_on"]))
    except (ValueError, KeyError) as exc:
        raise BackupError("this backup's header is damaged") from exc


def _check_secret(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        factory = session_factory(engine, settings.secret_key.reveal())
        with unit_of_work(factory) as db:
            matches = secret_matches(db, settings.secret_key.reveal())
    finally:
        engine.dispose()
    if matches is False:
        raise BackupError("the restored " + SECRET_MISMATCH)


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_file(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _sqlite_snapshot(database: Path, out: IO[bytes]) -> None:
    if not database.exists():
        raise BackupError(f"there is no database at {database}")
    with tempfile.TemporaryDirectory(dir=database.parent) as scratch:
        copy = Path(scratch) / "snapshot.db"
        source = sqlite3.connect(database, timeout=30)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)  # pages=-1: one step, one consistent read transaction
        finally:
            target.close()
            source.close()
        with copy.open("rb") as snapshot:
            shutil.copyfileobj(snapshot, out, COPY_BLOCK)


def _sqlite_restore(database: Path, handle: IO[bytes], settings: Settings) -> None:
    private_dir(settings.data_dir)
    private_dir(database.parent)
    if database.exists() and database.stat().st_size > 0 and _has_tables(settings.database_url):
        raise BackupError(f"{database} already holds a database; restore into an empty place")
    for leftover in (database.with_name(database.name + s) for s in ("-wal", "-shm")):
        leftover.unlink(missing_ok=True)
    with _atomic(database) as out:
        shutil.copyfileobj(handle, out, COPY_BLOCK)
    check = sqlite3.connect(database)
    try:
        if check.execute("PRAGMA integrity_check").fetchone() != ("ok",):
            raise BackupError("the restored SQLite database fails its integrity check")
    finally:
        check.close()


def _has_tables(url: str) -> bool:
    engine = make_engine(url)
    try:
        return bool(inspect(engine).get_table_names())
    finally:
        engine.dispose()


# --- PostgreSQL -----------------------------------------------------------------------------


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and the environment that carries it."""
    parsed = make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _pg_dump(url: str, out: IO[bytes]) -> None:
    uri, env = _libpq(url)
    tool = _tool("pg_dump")
    with subprocess.Popen(  # noqa: S603 (fixed program, arguments from settings)
        [tool, "--format=custom", "--no-owner", "--no-privileges", f"--dbname={uri}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as process:
        assert process.stdout is not None
        shutil.copyfileobj(process.stdout, out, COPY_BLOCK)
        errors = process.stderr.read() if process.stderr else b""
    if process.returncode != 0:
        raise BackupError("pg_dump failed: " + errors.decode(errors="replace").strip()[:500])


def _pg_restore(url: str, handle: IO[bytes]) -> None:
    if _has_tables(url):
        raise BackupError("the database already holds tables; restore into an empty database")
    uri, env = _libpq(url)
    tool = _tool("pg_restore")
    # pg_restore reads the descriptor itself: put it where the header ends (Python's buffered
    # reader has read ahead of that).
    os.lseek(handle.fileno(), handle.tell(), os.SEEK_SET)
    done = subprocess.run(  # noqa: S603 (fixed program, arguments from settings)
        [tool, "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={uri}"],
        stdin=handle,
        capture_output=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError("pg_restore failed: " + done.stderr.decode(errors="replace")[:500])


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        for directory in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
            if (directory / name).exists():
                return str(directory / name)
        raise BackupError(
            f"{name} is not installed: install PostgreSQL's client programs "
            "(Debian: apt install postgresql-client)"
        )
    return found


# --- files ----------------------------------------------------------------------------------


@contextmanager
def _atomic(target: Path) -> Iterator[IO[bytes]]:
    """A file written beside ``target`` (mode 0600), flushed to disk, then renamed over it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    partial = Path(name)
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def engine_secret_matches(settings: Settings, engine: Engine) -> bool | None:
    """For `portal serve`: whether this database's key rows verify under the configured
    secret (None when it has none yet)."""
    with unit_of_work(session_factory(engine, settings.secret_key.reveal())) as db:
        return secret_matches(db, settings.secret_key.reveal())
