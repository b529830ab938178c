"""Who holds a case's keys: wrapping for staff, reporter and recovery; pending grants.

Every wrap binds the case, the key kind and the holder in its context, so a wrapped key
copied to another row or another case does not open.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import crypto
from cases.access.policy import may_see
from cases.errors import Conflict
from cases.org.models import RecoveryKey
from cases.principals import ReporterPrincipal, StaffPrincipal
from cases.reports.models import Case, KeyWrap, PendingGrant
from cases.staff.models import KeyApproval, StaffAccount

CASE = "case"
IDENTITY = "identity"
# A pending or refused approval withholds every new key from the account (docs/access.md).
WITHHOLDING = ("pending", "refused")


def staff_holder(staff_id: str) -> str:
    return f"staff:{staff_id}"


def reporter_holder(receipt_id: str) -> str:
    return f"reporter:{receipt_id}"


def recovery_holder(recovery_id: str) -> str:
    return f"recovery:{recovery_id}"


def wrap_context(case_id: str, key_kind: str, holder: str) -> bytes:
    return f"key-wrap|{case_id}|{key_kind}|{holder}".encode()


class KeyRing:
    def __init__(self, db: Session) -> None:
        self.db = db

    def withheld(self, staff_id: str) -> bool:
        """True while an admin's change to this account waits for a key holder's approval
        (or was refused): every path that hands out a key asks here, so none can bypass it."""
        stmt = select(KeyApproval.id).where(
            KeyApproval.staff_id == staff_id, KeyApproval.status.in_(WITHHOLDING)
        )
        return self.db.scalars(stmt).first() is not None

    def wrap_for_staff(self, case_id: str, key_kind: str, key: bytes, staff: StaffAccount) -> bool:
        """Wrap a key for a staff member; False (and nothing stored) while it is withheld."""
        if not staff.public_key or self.withheld(staff.id):
            return False
        holder = staff_holder(staff.id)
        wrapped = crypto.wrap_for(staff.public_key, key, wrap_context(case_id, key_kind, holder))
        self._store(case_id, key_kind, holder, wrapped, staff_id=staff.id)
        self.db.execute(
            delete(PendingGrant).where(
                PendingGrant.case_id == case_id,
                PendingGrant.key_kind == key_kind,
                PendingGrant.staff_id == staff.id,
            )
        )
        return True

    def wrap_for_reporter(
        self, case_id: str, key_kind: str, key: bytes, receipt_id: str, reporter_key: bytes
    ) -> None:
        holder = reporter_holder(receipt_id)
        sealed = crypto.seal(reporter_key, key, wrap_context(case_id, key_kind, holder))
        self._store(case_id, key_kind, holder, sealed)

    def wrap_for_recovery(self, case_id: str, key_kind: str, key: bytes) -> bool:
        """Wrap for the organisation's recovery key when one is configured."""
        recovery = self.db.scalars(select(RecoveryKey).where(RecoveryKey.active.is_(True))).first()
        if recovery is None:
            return False
        holder = recovery_holder(recovery.id)
        wrapped = crypto.wrap_for(recovery.public_key, key, wrap_context(case_id, key_kind, holder))
        self._store(case_id, key_kind, holder, wrapped)
        return True

    def open_for_staff(
        self, case_id: str, key_kind: str, principal: StaffPrincipal
    ) -> bytes | None:
        holder = staff_holder(principal.id)
        wrap = self._wrap(case_id, key_kind, holder)
        if wrap is None:
            return None
        context = wrap_context(case_id, key_kind, holder)
        return crypto.unwrap(principal.private_key, wrap.wrapped, context)

    def open_for_reporter(
        self, case_id: str, key_kind: str, principal: ReporterPrincipal
    ) -> bytes | None:
        holder = reporter_holder(principal.receipt.id)
        wrap = self._wrap(case_id, key_kind, holder)
        if wrap is None:
            return None
        context = wrap_context(case_id, key_kind, holder)
        return crypto.unseal(principal.key, wrap.wrapped, context)

    def open_with_recovery(self, case_id: str, key_kind: str, pair: crypto.KeyPair) -> bytes | None:
        recovery = self.db.scalars(
            select(RecoveryKey).where(RecoveryKey.public_key == pair.public_bytes)
        ).first()
        if recovery is None:
            return None
        holder = recovery_holder(recovery.id)
        wrap = self._wrap(case_id, key_kind, holder)
        if wrap is None:
            return None
        return crypto.unwrap(
            pair.private_bytes, wrap.wrapped, wrap_context(case_id, key_kind, holder)
        )

    def staff_holders(self, case_id: str, key_kind: str = CASE) -> list[str]:
        stmt = select(KeyWrap.staff_id).where(
            KeyWrap.case_id == case_id, KeyWrap.key_kind == key_kind, KeyWrap.staff_id.is_not(None)
        )
        return [s for s in self.db.scalars(stmt) if s]

    def holds(self, case_id: str, key_kind: str, staff_id: str) -> bool:
        return self._wrap(case_id, key_kind, staff_holder(staff_id)) is not None

    def request_grant(self, case_id: str, key_kind: str, staff_id: str, reason: str) -> None:
        """Record that someone needs this key; a key holder's next session will wrap it.

        Nothing is recorded for an account whose keys are withheld: its grants are queued
        when a key holder approves it.
        """
        if self.holds(case_id, key_kind, staff_id) or self.withheld(staff_id):
            return
        exists = self.db.scalars(
            select(PendingGrant).where(
                PendingGrant.case_id == case_id,
                PendingGrant.key_kind == key_kind,
                PendingGrant.staff_id == staff_id,
            )
        ).first()
        if exists is None:
            self.db.add(
                PendingGrant(case_id=case_id, key_kind=key_kind, staff_id=staff_id, reason=reason)
            )
            self.db.flush()

    def revoke_staff(self, case_id: str, key_kind: str, staff_id: str) -> None:
        """Remove a staff wrap; refused when it would leave no staff member holding the key."""
        holders = self.staff_holders(case_id, key_kind)
        if staff_id in holders and len(holders) == 1 and key_kind == CASE:
            raise Conflict(
                "This is the last person who holds the case key; grant it to someone else first.",
                code="last_key_holder",
            )
        self.db.execute(
            delete(KeyWrap).where(
                KeyWrap.case_id == case_id,
                KeyWrap.key_kind == key_kind,
                KeyWrap.staff_id == staff_id,
            )
        )
        self.db.execute(
            delete(PendingGrant).where(
                PendingGrant.case_id == case_id,
                PendingGrant.key_kind == key_kind,
                PendingGrant.staff_id == staff_id,
            )
        )

    def pending_for_staff_holder(self, principal: StaffPrincipal) -> list[PendingGrant]:
        """Pending grants this person can fulfil: those on keys they hold."""
        stmt = select(PendingGrant).join(
            KeyWrap,
            (KeyWrap.case_id == PendingGrant.case_id)
            & (KeyWrap.key_kind == PendingGrant.key_kind)
            & (KeyWrap.staff_id == principal.id),
        )
        return list(self.db.scalars(stmt))

    def fulfil_as_staff(self, principal: StaffPrincipal) -> int:
        """Wrap, for everyone still allowed, the keys they are waiting for and this person holds."""
        done = 0
        for grant in self.pending_for_staff_holder(principal):
            key = self.open_for_staff(grant.case_id, grant.key_kind, principal)
            done += self._fulfil(grant, key)
        return done

    def fulfil_as_reporter(self, principal: ReporterPrincipal, case_ids: list[str]) -> int:
        done = 0
        grants = self.db.scalars(
            select(PendingGrant).where(
                PendingGrant.case_id.in_(case_ids), PendingGrant.key_kind == CASE
            )
        )
        for grant in list(grants):
            key = self.open_for_reporter(grant.case_id, CASE, principal)
            done += self._fulfil(grant, key)
        return done

    def fulfil_with_recovery(self, pair: crypto.KeyPair, staff: StaffAccount) -> int:
        grants = self.db.scalars(select(PendingGrant).where(PendingGrant.staff_id == staff.id))
        done = 0
        for grant in list(grants):
            key = self.open_with_recovery(grant.case_id, grant.key_kind, pair)
            done += self._fulfil(grant, key)
        return done

    def count_pending(self, case_id: str) -> int:
        stmt = select(func.count()).select_from(PendingGrant).where(PendingGrant.case_id == case_id)
        return int(self.db.scalar(stmt) or 0)

    def _fulfil(self, grant: PendingGrant, key: bytes | None) -> int:
        if key is None:
            return 0
        staff = self.db.get(StaffAccount, grant.staff_id)
        case = self.db.get(Case, grant.case_id)
        if staff is None or case is None:
            return 0
        if not may_see(self.db, staff, case):
            self.db.delete(grant)
            return 0
        return int(self.wrap_for_staff(grant.case_id, grant.key_kind, key, staff))

    def _wrap(self, case_id: str, key_kind: str, holder: str) -> KeyWrap | None:
        stmt = select(KeyWrap).where(
            KeyWrap.case_id == case_id, KeyWrap.key_kind == key_kind, KeyWrap.holder == holder
        )
        return self.db.scalars(stmt).first()

    def _store(
        self, case_id: str, key_kind: str, holder: str, wrapped: bytes, staff_id: str | None = None
    ) -> None:
        existing = self._wrap(case_id, key_kind, holder)
        if existing is not None:
            existing.wrapped = wrapped
            return
        row = KeyWrap(
            case_id=case_id, key_kind=key_kind, holder=holder, staff_id=staff_id, wrapped=wrapped
        )
        try:
            # Two sessions fulfilling the same pending grant at once race on this insert;
            # the loser keeps the winner's wrap instead of failing the whole request.
            with self.db.begin_nested():
                self.db.add(row)
        except IntegrityError:
            winner = self._wrap(case_id, key_kind, holder)
            if winner is None:
                raise
            winner.wrapped = wrapped
