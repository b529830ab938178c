"""Opening, resuming and ending sessions; throttling repeated failures.

The database row holds the principal's secret sealed under a session key that exists only
in the token handed to the browser, so neither the row nor the token alone opens anything.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

import crypto
from cases.clock import Clock, ceil_hour, floor_hour
from cases.errors import Throttled
from cases.sessions.models import ThrottleCounter, UserSession


@dataclass(frozen=True)
class SessionPolicy:
    idle_seconds: int
    absolute_seconds: int


@dataclass(frozen=True)
class ActiveSession:
    id_hash: str
    kind: str
    stage: str
    staff_id: str | None
    receipt_id: str | None
    secret: bytes


def _hash_id(session_id: bytes) -> str:
    return hashlib.sha256(session_id).hexdigest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _aad(id_hash: str) -> bytes:
    return f"session|{id_hash}".encode()


class SessionService:
    def __init__(self, db: Session, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def open(
        self,
        kind: str,
        secret: bytes,
        policy: SessionPolicy,
        *,
        staff_id: str | None = None,
        receipt_id: str | None = None,
        stage: str = "full",
    ) -> str:
        """Create a session and return its token `<id>.<key>`; the key is never stored."""
        session_id, session_key = secrets.token_bytes(32), crypto.random_key()
        id_hash = _hash_id(session_id)
        now = self.clock.now()
        self.db.add(
            UserSession(
                id_hash=id_hash,
                kind=kind,
                stage=stage,
                staff_id=staff_id,
                receipt_id=receipt_id,
                sealed_secret=crypto.seal(session_key, secret, _aad(id_hash)),
                idle_expires_at=now + timedelta(seconds=policy.idle_seconds),
                absolute_expires_at=now + timedelta(seconds=policy.absolute_seconds),
            )
        )
        self.db.flush()
        return f"{_b64(session_id)}.{_b64(session_key)}"

    def resume(self, token: str, policy: SessionPolicy) -> ActiveSession | None:
        """The live session for a token, its idle deadline pushed back; None if gone or expired."""
        parsed = self._parse(token)
        if parsed is None:
            return None
        id_hash, session_key = parsed
        row = self.db.get(UserSession, id_hash)
        if row is None:
            return None
        now = self.clock.now()
        if now >= row.idle_expires_at or now >= row.absolute_expires_at:
            self.db.delete(row)
            return None
        try:
            secret = crypto.unseal(session_key, row.sealed_secret, _aad(id_hash))
        except crypto.CryptoError:
            return None
        row.idle_expires_at = min(
            now + timedelta(seconds=policy.idle_seconds), row.absolute_expires_at
        )
        return ActiveSession(id_hash, row.kind, row.stage, row.staff_id, row.receipt_id, secret)

    def promote(self, id_hash: str, stage: str = "full") -> None:
        row = self.db.get(UserSession, id_hash)
        if row is not None:
            row.stage = stage

    def close(self, token_or_hash: str) -> None:
        """End a session by its token or, for a caller that resumed it, by its id hash."""
        parsed = self._parse(token_or_hash)
        id_hash = parsed[0] if parsed else token_or_hash
        self.db.execute(delete(UserSession).where(UserSession.id_hash == id_hash))

    def close_token(self, token: str, kind: str) -> None:
        """End the session of a token a client sent, only if it is a whole token of this kind.

        A bare id hash (readable in the database or a backup) ends nothing: logging a person
        out takes the token they hold, not a value someone else could have read."""
        parsed = self._parse(token)
        if parsed is None:
            return
        self.db.execute(
            delete(UserSession).where(UserSession.id_hash == parsed[0], UserSession.kind == kind)
        )

    def close_all_for_staff(self, staff_id: str) -> int:
        result = self.db.execute(delete(UserSession).where(UserSession.staff_id == staff_id))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def sweep(self) -> int:
        """Delete expired sessions: they keep nothing once they stop being useful."""
        now = self.clock.now()
        result = self.db.execute(
            delete(UserSession).where(
                (UserSession.idle_expires_at <= now) | (UserSession.absolute_expires_at <= now)
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    @staticmethod
    def _parse(token: str) -> tuple[str, bytes] | None:
        head, sep, tail = token.partition(".")
        if not sep or len(token) > 200:
            return None
        try:
            session_id, session_key = _unb64(head), _unb64(tail)
        except (binascii.Error, ValueError):
            return None
        if len(session_id) != 32 or len(session_key) != 32:
            return None
        return _hash_id(session_id), session_key


@dataclass(frozen=True)
class ThrottleRule:
    limit: int
    window_seconds: int
    # Rows a reporter's request writes end on a full hour, so an expiry never tells the
    # minute a reporter acted (the window then lasts up to an hour longer).
    hourly: bool = False

    def window_end(self, now: datetime) -> datetime:
        end = now + timedelta(seconds=self.window_seconds)
        return ceil_hour(end) if self.hourly else end


def _count_one_statement(insert: Any) -> Any:
    table = ThrottleCounter.__table__
    values = insert(table).values(
        key=bindparam("key"), count=1, window_ends_at=bindparam("ends"), blocked_until=None
    )
    ended = table.c.window_ends_at <= bindparam("now")
    return values.on_conflict_do_update(
        index_elements=["key"],
        set_={
            "count": case((ended, 1), else_=table.c.count + 1),
            "window_ends_at": case(
                (ended, values.excluded.window_ends_at), else_=table.c.window_ends_at
            ),
            "blocked_until": case((ended, None), else_=table.c.blocked_until),
        },
    ).returning(table.c.count)


# Built once (by dialect: is it SQLite?), so each count reuses the statement and its cache
# key: the flood gauge and the one-time form tokens count on every report filed.
_COUNT_ONE = {True: _count_one_statement(sqlite_insert), False: _count_one_statement(pg_insert)}
_COUNTERS = ThrottleCounter.__table__.c
_COUNT = select(_COUNTERS.count).where(_COUNTERS.key == bindparam("key"))


class Throttle:
    """Counts failures per key in the database, shared by every process and host."""

    def __init__(self, db: Session, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def check(self, key: str, rule: ThrottleRule) -> None:
        """Raise Throttled when the key is over its limit in the current window."""
        row = self.db.get(ThrottleCounter, key)
        now = self.clock.now()
        if row is None or row.window_ends_at <= now:
            return
        if row.blocked_until and row.blocked_until > now:
            raise Throttled(retry_after=int((row.blocked_until - now).total_seconds()) + 1)
        if row.count >= rule.limit:
            raise Throttled(retry_after=int((row.window_ends_at - now).total_seconds()) + 1)

    def fail(self, key: str, rule: ThrottleRule, *, backoff: bool = False) -> int:
        """Count one failure; with backoff, each failure past the limit doubles a delay."""
        now = self.clock.now()
        if not backoff:
            return self._count_one(key, rule, now)
        row = self._locked_row(key, now)
        if row.window_ends_at <= now:
            row.count = 0
            row.window_ends_at = rule.window_end(now)
            row.blocked_until = None
        row.count += 1
        if backoff and row.count >= rule.limit:
            delay = min(2 ** (row.count - rule.limit) * 30, 24 * 3600)
            row.blocked_until = now + timedelta(seconds=delay)
            row.window_ends_at = max(row.window_ends_at, row.blocked_until)
        self.db.flush()
        return row.count

    def _count_one(self, key: str, rule: ThrottleRule, now: datetime) -> int:
        """fail() without backoff as one atomic statement: insert the counter at 1, or add one
        to it (starting a new window once the old one has ended), and return the new count.

        Both databases apply the update under the row's lock (PostgreSQL's ON CONFLICT DO
        UPDATE; SQLite's single writer), so two simultaneous failures count two."""
        stmt = _COUNT_ONE[self.db.get_bind().dialect.name == "sqlite"]
        params = {"key": key, "ends": rule.window_end(now), "now": now}
        count = int(self.db.execute(stmt, params).scalar_one())
        # A counter this session loaded before is now stale: the next read reloads it.
        loaded = self.db.identity_map.get(identity_key(ThrottleCounter, key))
        if loaded is not None:
            self.db.expire(loaded)
        return count

    def _locked_row(self, key: str, now: datetime) -> ThrottleCounter:
        """The counter row, created if missing and locked for this transaction.

        Two requests counting the first failure at once must not collide on the insert,
        and two counting later ones must not both write the same total (a lost update
        would hand an attacker free guesses): insert-if-absent, then SELECT ... FOR UPDATE
        (SQLite's BEGIN IMMEDIATE already serialises writers).
        """
        insert = sqlite_insert if self.db.get_bind().dialect.name == "sqlite" else pg_insert
        self.db.execute(
            insert(ThrottleCounter)
            .values(key=key, count=0, window_ends_at=floor_hour(now))
            .on_conflict_do_nothing(index_elements=["key"])
        )
        stmt = (
            select(ThrottleCounter)
            .where(ThrottleCounter.key == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return self.db.scalars(stmt).one()

    def reset(self, key: str) -> None:
        self.db.execute(delete(ThrottleCounter).where(ThrottleCounter.key == key))

    def sweep(self) -> int:
        now = self.clock.now()
        result = self.db.execute(
            delete(ThrottleCounter).where(ThrottleCounter.window_ends_at <= now)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def count(self, key: str) -> int:
        found = self.db.execute(_COUNT, {"key": key}).scalar()
        return int(found) if found is not None else 0
