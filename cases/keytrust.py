"""MACs over the rows that decide who can read a case: public keys and pending grants.

Someone who can write to the database but does not hold the server secret (a rogue DBA, a
restored and edited backup) could otherwise swap a public key for one whose private half they
hold, or insert a grant for an account they control, and the next wrap would hand them a case
key. Every such row carries an HMAC under a key derived from the server secret; a row whose MAC
does not match was not written by the application and is refused.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.org.models import RecoveryKey
from cases.reports.models import PendingGrant
from cases.staff.models import StaffAccount

STAFF_KEY = "staff"
RECOVERY_KEY = "recovery"


def mac_key(server_secret: bytes) -> bytes:
    return hmac.new(server_secret, b"portal/key-mac/v1", hashlib.sha256).digest()


def public_key_mac(server_secret: bytes, holder_id: str, kind: str, public_key: bytes) -> bytes:
    """The MAC over (holder id, key kind, public key): a key moved to another holder fails."""
    body = f"public-key|{holder_id}|{kind}|".encode() + public_key
    return hmac.new(mac_key(server_secret), body, hashlib.sha256).digest()


def grant_mac(server_secret: bytes, case_id: str, key_kind: str, staff_id: str) -> bytes:
    body = f"pending-grant|{case_id}|{key_kind}|{staff_id}".encode()
    return hmac.new(mac_key(server_secret), body, hashlib.sha256).digest()


def _matches(expected: bytes, stored: bytes | None) -> bool:
    return stored is not None and hmac.compare_digest(expected, stored)


def staff_key_trusted(server_secret: bytes, account: StaffAccount) -> bool:
    expected = public_key_mac(server_secret, account.id, STAFF_KEY, account.public_key)
    return _matches(expected, account.public_key_mac)


def recovery_key_trusted(
    server_secret: bytes, row: RecoveryKey, pinned_fingerprint: str = ""
) -> bool:
    """The MAC holds and, when the operator pinned a fingerprint, the key is that one."""
    expected = public_key_mac(server_secret, row.id, RECOVERY_KEY, row.public_key)
    if pinned_fingerprint and row.fingerprint.lower() != pinned_fingerprint.strip().lower():
        return False
    return _matches(expected, row.public_key_mac)


def grant_trusted(server_secret: bytes, grant: PendingGrant) -> bool:
    expected = grant_mac(server_secret, grant.case_id, grant.key_kind, grant.staff_id)
    return _matches(expected, grant.mac)


def seal_staff_key(server_secret: bytes, account: StaffAccount) -> None:
    account.public_key_mac = public_key_mac(
        server_secret, account.id, STAFF_KEY, account.public_key
    )


def seal_recovery_key(server_secret: bytes, row: RecoveryKey) -> None:
    row.public_key_mac = public_key_mac(server_secret, row.id, RECOVERY_KEY, row.public_key)


def seal_grant(server_secret: bytes, grant: PendingGrant) -> None:
    grant.mac = grant_mac(server_secret, grant.case_id, grant.key_kind, grant.staff_id)


@dataclass(frozen=True)
class Untrusted:
    """One row that fails its MAC: what it is and which row."""

    kind: str
    row_id: str

    def describe(self) -> str:
        return f"{self.kind} {self.row_id}: fails its MAC (not written by this portal)"


def untrusted_rows(
    db: Session, server_secret: bytes, pinned_fingerprint: str = ""
) -> list[Untrusted]:
    """Every public key and pending grant whose MAC does not match: the integrity report."""
    found = [
        Untrusted("staff public key", a.id)
        for a in db.scalars(select(StaffAccount).order_by(StaffAccount.id))
        if not staff_key_trusted(server_secret, a)
    ]
    found += [
        Untrusted("recovery public key", r.id)
        for r in db.scalars(select(RecoveryKey).where(RecoveryKey.active.is_(True)))
        if not recovery_key_trusted(server_secret, r, pinned_fingerprint)
    ]
    found += [
        Untrusted("pending grant", g.id)
        for g in db.scalars(select(PendingGrant).order_by(PendingGrant.id))
        if not grant_trusted(server_secret, g)
    ]
    return found
