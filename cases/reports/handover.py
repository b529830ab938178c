"""Pages a reporter's form leads to, handed over by a short-lived link instead of as the
answer to the form.

A browser keeps the body of every form it sent whose answer was a page: Chromium writes it
into its session files (`Sessions/Session_*`, `Tabs_*`) to offer the page again after a
restart, and they stay on the disk of the computer the report was made on. That body is the
report itself (what happened, the names of the people involved, the reporter's name when
confidential). So the form's answer is a redirect (303) to a GET page instead, and what
that page shows waits here, sealed, for a few minutes:

- the token is 256 random bits, in the redirect's URL only (no cookie, no header);
- the row holds HMAC(server secret, token) as its id and the page's values sealed under a
  key derived from both the server secret and the token: the database alone, or the URL
  alone (it stays in the browser's history), opens nothing;
- the page takes it (`take`): it is shown once and deleted as it is read, so the URL in
  the history opens nothing afterwards, like the old answer to the form, which a reload
  could not show again either. A link never followed (the answer lost on the way) runs
  out at its expiry, at least `VIEWABLE` and at most an hour more, stored as a full hour
  like everything a reporter's request writes, and the jobs round deletes it.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, LargeBinary, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

import crypto
from cases.clock import Clock, ceil_hour
from cases.db import Base

VIEWABLE = timedelta(minutes=15)
_ID = "handover-id"
_KEY = "handover-key"
_TOKEN_BYTES = 32


class Handover(Base):
    __tablename__ = "handovers"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class Handovers:
    def __init__(self, db: Session, clock: Clock, server_secret: bytes) -> None:
        self.db = db
        self.clock = clock
        self.secret = server_secret

    def put(self, kind: str, values: dict[str, Any]) -> str:
        """Seal `values` for the page `kind`; returns the token for the page's URL."""
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        raw = json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode()
        self.db.add(
            Handover(
                id_hash=self._id(token),
                kind=kind,
                sealed=crypto.seal(self._key(token), raw, kind.encode()),
                expires_at=ceil_hour(self.clock.now() + VIEWABLE),
            )
        )
        self.db.flush()
        return token

    def get(self, kind: str, token: str) -> dict[str, Any] | None:
        """The values behind a token of this kind, while it lives; None otherwise."""
        row = self._row(token)
        if row is None or row.kind != kind or row.expires_at <= self.clock.now():
            return None
        try:
            values = json.loads(crypto.unseal(self._key(token), row.sealed, kind.encode()))
        except crypto.DecryptionError:
            return None
        return values if isinstance(values, dict) else None

    def take(self, kind: str, token: str) -> dict[str, Any] | None:
        """The values behind a token, once: the row is deleted as it is read."""
        values = self.get(kind, token)
        if values is not None:
            self.forget(token)
        return values

    def forget(self, token: str) -> None:
        row = self._row(token)
        if row is not None:
            self.db.delete(row)
            self.db.flush()

    def sweep(self) -> int:
        """Delete every expired handover (the jobs round)."""
        done = self.db.execute(delete(Handover).where(Handover.expires_at <= self.clock.now()))
        return int(done.rowcount or 0)  # type: ignore[attr-defined]

    def _row(self, token: str) -> Handover | None:
        if not token or len(token) > 64:
            return None
        stmt = select(Handover).where(Handover.id_hash == self._id(token))
        return self.db.scalars(stmt).first()

    def _id(self, token: str) -> str:
        return crypto.keyed_hash(self.secret, _ID, token)

    def _key(self, token: str) -> bytes:
        return bytes.fromhex(crypto.keyed_hash(self.secret, _KEY, token))
