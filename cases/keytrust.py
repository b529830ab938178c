"""MACs over the rows that decide who can read a case: public keys, pending grants, approvals.

Someone who can write to the database but does not hold the server secret (a rogue DBA, a
restored and edited backup) could otherwise swap a public key for one whose private half they
hold, or insert a grant for an account they control, and the next wrap would hand them a case
key. Every such row carries an HMAC under a key derived from the server secret; a row whose MAC
does not match was not written by the application and is refused.

Key-holder approvals (docs/access.md) are such rows too: a status flipped to "approved" fails its
MAC and keeps withholding. Deleting a pending row does not help either: while an approval
withholds, the account's public key is sealed under a distinct kind ("staff-withheld"), which
`staff_key_trusted` refuses; only the application's approval re-seals it with the normal kind.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from cases.org.models import RecoveryKey
from cases.reports.models import PendingGrant
from cases.staff.models import DirectoryClaim, KeyApproval, StaffAccount

STAFF_KEY = "staff"
# The kind a staff public key is sealed under while an approval withholds keys from it.
STAFF_WITHHELD = "staff-withheld"
# A pending or refused approval withholds every new key from the account (docs/access.md).
WITHHOLDING = ("pending", "refused")
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


def approval_mac(server_secret: bytes, row: KeyApproval) -> bytes:
    """The MAC over what decides an approval: whose, why, in which team, asked and decided by."""
    fields = (
        row.id,
        row.staff_id,
        row.reason,
        row.channel_id or "",
        row.requested_by or "",
        row.status,
        row.decided_by or "",
    )
    body = "key-approval|" + "|".join(fields)
    return hmac.new(mac_key(server_secret), body.encode(), hashlib.sha256).digest()


def claim_mac(server_secret: bytes, row: DirectoryClaim, status: str, decided_by: str) -> bytes:
    """The MAC over what a directory claim says and how it was decided."""
    fields = (
        row.id,
        row.kind,
        row.staff_id or "",
        row.employee_id,
        row.manager_employee_id or "",
        row.made_by,
        status,
        decided_by,
    )
    body = "directory-claim|" + "|".join(fields)
    return hmac.new(mac_key(server_secret), body.encode(), hashlib.sha256).digest()


def seal_claim(server_secret: bytes, row: DirectoryClaim) -> None:
    row.mac = claim_mac(server_secret, row, row.status, row.decided_by or "")


def claim_standing(server_secret: bytes, row: DirectoryClaim) -> str | None:
    """What the portal decided about this claim: its status when the MAC holds; "pending"
    when only the undecided form holds (a confirmation set behind the portal's back is no
    confirmation: the claim still waits for a key holder); None for a row the portal did not
    write (it keeps counting for exclusion, like every claim, and is nobody's to decide)."""
    if _matches(claim_mac(server_secret, row, row.status, row.decided_by or ""), row.mac):
        return row.status
    if _matches(claim_mac(server_secret, row, "pending", ""), row.mac):
        return "pending"
    return None


def _matches(expected: bytes, stored: bytes | None) -> bool:
    return stored is not None and hmac.compare_digest(expected, stored)


def staff_key_trusted(server_secret: bytes, account: StaffAccount) -> bool:
    expected = public_key_mac(server_secret, account.id, STAFF_KEY, account.public_key)
    return _matches(expected, account.public_key_mac)


def staff_key_withheld(server_secret: bytes, account: StaffAccount) -> bool:
    """The public key was sealed by the portal while an approval withheld keys from it."""
    expected = public_key_mac(server_secret, account.id, STAFF_WITHHELD, account.public_key)
    return _matches(expected, account.public_key_mac)


def approval_trusted(server_secret: bytes, row: KeyApproval) -> bool:
    return _matches(approval_mac(server_secret, row), row.mac)


def approval_withholds(db: Session, server_secret: bytes, staff_id: str) -> bool:
    """A row of this account is pending or refused, or fails its MAC (so was not written by
    the portal, whatever status it claims)."""
    return staff_id in approvals_withholding(db, server_secret, [staff_id])


# Built once: every report filed asks it for its whole team.
_APPROVALS_OF = select(KeyApproval).where(
    KeyApproval.staff_id.in_(bindparam("ids", expanding=True))
)


def approvals_withholding(db: Session, server_secret: bytes, staff_ids: list[str]) -> set[str]:
    """approval_withholds for many accounts in one query: the ids whose approvals withhold."""
    if not staff_ids:
        return set()
    rows = db.scalars(_APPROVALS_OF, {"ids": sorted(set(staff_ids))})
    return {
        r.staff_id
        for r in rows
        if r.status in WITHHOLDING or not approval_trusted(server_secret, r)
    }


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


def seal_staff_key(server_secret: bytes, account: StaffAccount, *, withheld: bool = False) -> None:
    """Seal the public key; under the withheld kind while an approval withholds keys, so that
    no wrap trusts it until a key holder's approval re-seals it (docs/access.md)."""
    kind = STAFF_WITHHELD if withheld else STAFF_KEY
    account.public_key_mac = public_key_mac(server_secret, account.id, kind, account.public_key)


def reseal_staff_key(db: Session, server_secret: bytes, account: StaffAccount) -> None:
    """Seal the public key under the kind the account's approvals call for (none: no-op)."""
    if account.public_key:
        withheld = approval_withholds(db, server_secret, account.id)
        seal_staff_key(server_secret, account, withheld=withheld)


def seal_approval(server_secret: bytes, row: KeyApproval) -> None:
    row.mac = approval_mac(server_secret, row)


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
    """Every public key, pending grant, approval and directory claim whose MAC does not match:
    the integrity report. A key sealed as withheld is expected while its account has a genuine
    pending or refused approval; without one (the row was deleted) it is reported."""
    approvals = list(db.scalars(select(KeyApproval).order_by(KeyApproval.id)))
    genuine = {
        r.staff_id
        for r in approvals
        if r.status in WITHHOLDING and approval_trusted(server_secret, r)
    }
    found = [
        Untrusted("staff public key", a.id)
        for a in db.scalars(select(StaffAccount).order_by(StaffAccount.id))
        # An account that has not enrolled yet has no key: nothing is ever wrapped for it.
        if a.public_key
        and not staff_key_trusted(server_secret, a)
        and not (a.id in genuine and staff_key_withheld(server_secret, a))
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
    found += [
        Untrusted("key approval", r.id) for r in approvals if not approval_trusted(server_secret, r)
    ]
    found += [
        Untrusted("directory claim", c.id)
        for c in db.scalars(select(DirectoryClaim).order_by(DirectoryClaim.id))
        if not _matches(claim_mac(server_secret, c, c.status, c.decided_by or ""), c.mac)
    ]
    return found


def secret_matches(db: Session, server_secret: bytes) -> bool | None:
    """Whether this database was made under this server secret: True when any staff public
    key (trusted or sealed as withheld) or recovery key verifies, False when there are such
    rows and none does (a restore under another secret), None when there are none yet."""
    accounts = [a for a in db.scalars(select(StaffAccount)) if a.public_key]
    recovery = list(db.scalars(select(RecoveryKey)))
    if not accounts and not recovery:
        return None
    return any(
        staff_key_trusted(server_secret, a) or staff_key_withheld(server_secret, a)
        for a in accounts
    ) or any(recovery_key_trusted(server_secret, r, "") for r in recovery)
