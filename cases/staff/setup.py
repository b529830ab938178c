"""The first-run setup link: one live link at a time, dead once an admin exists.

The link's token is derived from the server secret and a random nonce kept on its row, so a
restart can print the same link again instead of minting another (each extra live link is
one more way to make an admin). Only the token's hash is stored; the nonce alone is useless
without the server secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cases.clock import Clock
from cases.errors import NotFound
from cases.staff.models import SetupToken
from cases.staff.service import StaffService

SETUP_TOKEN_HOURS = 24
NONCE_PREFIX = "nonce:"


def hash_setup_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SetupLinks:
    def __init__(self, db: Session, clock: Clock, staff: StaffService) -> None:
        self.db = db
        self.clock = clock
        self.staff = staff

    def issue(self) -> str | None:
        """The live setup token (the same one until it expires); None once an admin exists."""
        if self.staff.count_admins():
            self.db.execute(delete(SetupToken))
            return None
        now = self.clock.now()
        self.db.execute(delete(SetupToken).where(SetupToken.expires_at <= now))
        for row in self.db.scalars(select(SetupToken).where(SetupToken.used.is_(False))):
            if row.note.startswith(NONCE_PREFIX):
                token = self._token(row.note.removeprefix(NONCE_PREFIX))
                if hmac.compare_digest(hash_setup_token(token), row.token_hash):
                    return token
        nonce = secrets.token_hex(16)
        token = self._token(nonce)
        self.db.add(
            SetupToken(
                token_hash=hash_setup_token(token),
                expires_at=now + timedelta(hours=SETUP_TOKEN_HOURS),
                note=NONCE_PREFIX + nonce,
            )
        )
        self.db.flush()
        return token

    def check(self, token: str) -> SetupToken:
        """The row of a live link; NotFound for a used, expired or unknown one, or any link
        at all once an admin exists."""
        row = self.db.get(SetupToken, hash_setup_token(token))
        if (
            row is None
            or row.used
            or row.expires_at <= self.clock.now()
            or self.staff.count_admins()
        ):
            raise NotFound("This setup link is not valid any more.", code="setup_link")
        return row

    def complete(self) -> None:
        """The first admin exists: every setup link dies with this one."""
        self.db.execute(delete(SetupToken))

    def _token(self, nonce: str) -> str:
        mac = hmac.new(
            self.staff.server_secret, b"portal/setup-link|" + nonce.encode(), hashlib.sha256
        ).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")
