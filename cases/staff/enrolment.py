"""Enrolment links: a web-made account's person sets their own password and TOTP.

An admin gets the link, never a password. The link is single use, lives 72 hours and is
stored only as a keyed hash; a new link for the same account replaces the old one.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

import crypto
from cases.audit.service import Actor, AuditLog
from cases.clock import Clock
from cases.errors import NotFound
from cases.staff.models import EnrolmentToken, StaffAccount
from cases.staff.service import StaffService

LIFETIME = timedelta(hours=72)
INVALID_LINK = "This enrolment link is not valid any more. Ask an admin for a new one."


@dataclass(frozen=True)
class Enrolled:
    account: StaffAccount
    totp_secret: bytes


def enrolment_path(token: str) -> str:
    return f"/staff/enrol/{token}"


def key_code(account: StaffAccount) -> str | None:
    """A short code of the account's public key, or None before enrolment.

    The person sees it when they set their password; the colleague who approves asks them
    for it (in person or by phone) and compares. An admin who used the link himself has a
    different code from the one the real person would read out: they never got the link.
    """
    if not account.public_key:
        return None
    digest = hashlib.sha256(b"portal-staff-key|" + account.public_key).hexdigest()[:12].upper()
    return "-".join(digest[i : i + 4] for i in range(0, 12, 4))


class EnrolmentService:
    def __init__(self, db: Session, clock: Clock, staff: StaffService) -> None:
        self.db = db
        self.clock = clock
        self.staff = staff
        self.audit = AuditLog(db, clock, staff.server_secret)

    def issue(self, account: StaffAccount, created_by: str | None) -> str:
        """A fresh link token for this account; any earlier link of theirs stops working."""
        self.db.execute(delete(EnrolmentToken).where(EnrolmentToken.staff_id == account.id))
        token = secrets.token_urlsafe(32)
        self.db.add(
            EnrolmentToken(
                token_hash=self._hash(token),
                staff_id=account.id,
                created_by=created_by,
                expires_at=self.clock.now() + LIFETIME,
                used=False,
            )
        )
        self.db.flush()
        return token

    def account_for(self, token: str) -> StaffAccount:
        """The account a live link belongs to; NotFound for a used, expired or unknown one."""
        row = self._live(token)
        account = self.db.get(StaffAccount, row.staff_id)
        if account is None or not account.active:
            raise NotFound(INVALID_LINK, code="enrolment_link")
        return account

    def complete(self, token: str, password: str) -> Enrolled:
        """Set the person's password, key pair and TOTP; the link is spent."""
        account = self.account_for(token)
        secret = self.staff.enrol(account, password)
        self._live(token).used = True
        self.audit.record(Actor("staff", account.id), "staff.enrolled")
        return Enrolled(account, secret)

    def _live(self, token: str) -> EnrolmentToken:
        row = self.db.get(EnrolmentToken, self._hash(token)) if len(token) <= 128 else None
        if row is None or row.used or row.expires_at <= self.clock.now():
            raise NotFound(INVALID_LINK, code="enrolment_link")
        return row

    def _hash(self, token: str) -> str:
        return crypto.keyed_hash(self.staff.server_secret, "staff-enrolment-link", token)
