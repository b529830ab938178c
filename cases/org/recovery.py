"""The organisation's offline recovery key: created once, private half handed over once."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto
from cases.db import new_id
from cases.errors import Conflict
from cases.keytrust import seal_recovery_key
from cases.org.models import RecoveryKey


def fingerprint(public_key: bytes) -> str:
    digest = hashlib.sha256(b"portal-recovery-key|" + public_key).hexdigest()[:32]
    return "-".join(digest[i : i + 4] for i in range(0, 32, 4))


class RecoveryService:
    def __init__(self, db: Session, server_secret: bytes) -> None:
        self.db = db
        self.server_secret = server_secret

    def active(self) -> RecoveryKey | None:
        return self.db.scalars(select(RecoveryKey).where(RecoveryKey.active.is_(True))).first()

    def create(self) -> tuple[crypto.KeyPair, RecoveryKey]:
        """A new key pair; only its public half is stored. Refused if one exists."""
        if self.active() is not None:
            raise Conflict("A recovery key already exists.", code="recovery_key_exists")
        pair = crypto.KeyPair.generate()
        row = RecoveryKey(
            id=new_id(), public_key=pair.public_bytes, fingerprint=fingerprint(pair.public_bytes)
        )
        seal_recovery_key(self.server_secret, row)
        self.db.add(row)
        self.db.flush()
        return pair, row
