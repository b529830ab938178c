"""Appending to and verifying the audit trail, an HMAC chain keyed off the server secret.

Keying the chain means someone who can write to the database but does not hold the
server secret (a stolen backup restored and edited, a rogue DBA) cannot recompute it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cases.audit.models import AuditEntry, HeldAuditEntry
from cases.clock import Clock, floor_day

GENESIS = "0" * 64
HELD_FIELDS = ("actor_kind", "actor_id", "actor_roles", "action", "case_id", "detail")


@dataclass(frozen=True)
class Actor:
    """Who did something: a staff account with its roles, the system, or the CLI."""

    kind: str
    id: str | None = None
    roles: tuple[str, ...] = ()

    @classmethod
    def system(cls) -> Actor:
        return cls("system")

    @classmethod
    def cli(cls) -> Actor:
        return cls("cli")


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""


def chain_key(server_secret: bytes) -> bytes:
    return hmac.new(server_secret, b"portal/audit-chain/v1", hashlib.sha256).digest()


def entry_digest(key: bytes, prev_hash: str, entry: AuditEntry) -> str:
    body = json.dumps(
        [
            entry.seq,
            entry.at.isoformat(timespec="microseconds"),
            entry.actor_kind,
            entry.actor_id,
            entry.actor_roles,
            entry.action,
            entry.case_id,
            entry.detail,
            prev_hash,
        ],
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


class AuditLog:
    """The chain's writer and checker.

    An entry from a reporter's request (a reporter actor, or any actor when the log was made
    with `reporter_request=True`, e.g. key grants a reporter's visit fulfils) is dated by its
    day only and held back until that day is over (HeldAuditEntry): neither its time nor its
    place in the chain may tell when a reporter acted.
    """

    def __init__(
        self, db: Session, clock: Clock, server_secret: bytes, *, reporter_request: bool = False
    ) -> None:
        self.db = db
        self.clock = clock
        self.key = chain_key(server_secret)
        self.reporter_request = reporter_request
        # Services that only receive an AuditLog derive their other keys from the same secret.
        self.server_secret = server_secret

    def record(
        self,
        actor: Actor,
        action: str,
        *,
        case_id: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> AuditEntry | None:
        """Append one entry (None when it is held back, from a reporter's request)."""
        fields: dict[str, Any] = {
            "actor_kind": actor.kind,
            "actor_id": actor.id,
            "actor_roles": ",".join(sorted(actor.roles)),
            "action": action,
            "case_id": case_id,
            "detail": json.dumps(dict(detail or {}), sort_keys=True, ensure_ascii=False),
        }
        if not (self.reporter_request or actor.kind == "reporter"):
            return self._append(self.clock.now(), fields)
        self.db.add(HeldAuditEntry(on=floor_day(self.clock.now()).date(), **fields))
        self.db.flush()
        return None

    def release_held(self) -> int:
        """Append held entries of days that are over, dated 00:00 UTC of their day."""
        today = floor_day(self.clock.now()).date()
        stmt = select(HeldAuditEntry).where(HeldAuditEntry.on < today)
        held = sorted(self.db.scalars(stmt), key=lambda row: (row.on, row.id))
        for row in held:
            fields = {name: getattr(row, name) for name in HELD_FIELDS}
            self._append(datetime.combine(row.on, datetime.min.time()), fields)
            self.db.delete(row)
        self.db.flush()
        return len(held)

    def _append(self, at: datetime, fields: Mapping[str, Any]) -> AuditEntry:
        """Serialised so two writers never share a predecessor."""
        self._lock()
        last = self.db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).first()
        entry = AuditEntry(
            seq=(last.seq + 1) if last else 1,
            at=at,
            prev_hash=last.hash if last else GENESIS,
            **fields,
        )
        entry.hash = entry_digest(self.key, entry.prev_hash, entry)
        self.db.add(entry)
        self.db.flush()
        return entry

    def _lock(self) -> None:
        # SQLite already serialises writers with BEGIN IMMEDIATE; PostgreSQL needs a lock.
        if self.db.get_bind().dialect.name == "postgresql":
            self.db.execute(text("SELECT pg_advisory_xact_lock(7311)"))

    def verify(self) -> VerifyResult:
        entries = self.db.scalars(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(1000)
        return verify_chain(self.key, entries)


def verify_chain(key: bytes, entries: Iterable[AuditEntry]) -> VerifyResult:
    """Walk the chain in seq order; report the first entry that does not fit."""
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    for entry in entries:
        problem = _problem(key, entry, prev_hash, expected_seq)
        if problem:
            return VerifyResult(False, checked, entry.seq, problem)
        prev_hash, expected_seq, checked = entry.hash, entry.seq + 1, checked + 1
    return VerifyResult(True, checked)


def _problem(key: bytes, entry: AuditEntry, prev_hash: str, expected_seq: int) -> str:
    if entry.seq != expected_seq:
        return f"sequence gap: expected {expected_seq}, found {entry.seq} (deleted or inserted)"
    if not hmac.compare_digest(entry.prev_hash, prev_hash):
        return "does not follow its predecessor (deleted, inserted or reordered)"
    if not hmac.compare_digest(entry.hash, entry_digest(key, prev_hash, entry)):
        return "contents do not match its hash (edited)"
    return ""
