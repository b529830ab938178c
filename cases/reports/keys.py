"""Who holds a case's keys: wrapping for staff, reporter and recovery; pending grants.

Every wrap binds the case, the key kind and the holder in its context, so a wrapped key
copied to another row or another case does not open.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import crypto
from cases.access.matching import Matcher
from cases.access.policy import may_see
from cases.audit.service import Actor, AuditLog
from cases.clock import ceil_hour
from cases.db import table_of
from cases.errors import Conflict
from cases.keytrust import (
    approval_withholds,
    approvals_withholding,
    grant_trusted,
    recovery_key_trusted,
    seal_grant,
    staff_key_trusted,
    staff_key_withheld,
)
from cases.org.models import RecoveryKey
from cases.principals import ReporterPrincipal, StaffPrincipal
from cases.reports.models import Case, KeyWrap, PendingGrant
from cases.staff.models import StaffAccount

if TYPE_CHECKING:
    from cases.org.snapshot import FilingConfig

CASE = "case"
IDENTITY = "identity"

_log = logging.getLogger(__name__)


def staff_holder(staff_id: str) -> str:
    return f"staff:{staff_id}"


def reporter_holder(receipt_id: str) -> str:
    return f"reporter:{receipt_id}"


def recovery_holder(recovery_id: str) -> str:
    return f"recovery:{recovery_id}"


def wrap_context(case_id: str, key_kind: str, holder: str) -> bytes:
    return f"key-wrap|{case_id}|{key_kind}|{holder}".encode()


# Built once: every report filed runs these.
_ACTIVE_RECOVERY = select(RecoveryKey).where(RecoveryKey.active.is_(True))
_INSERT_WRAP = insert(table_of(KeyWrap))

REPORTER = Actor("reporter")
RECOVERY = Actor("recovery")


class KeyRing:
    """Wraps only for public keys and grants whose MAC holds (cases/keytrust.py); a row that
    fails is refused and the refusal is an audit entry, so the admin page and
    `portal audit verify` show it."""

    def __init__(
        self, db: Session, audit: AuditLog, server_secret: bytes, recovery_fingerprint: str = ""
    ) -> None:
        self.db = db
        self.audit = audit
        self.server_secret = server_secret
        self.recovery_fingerprint = recovery_fingerprint
        self._reads: set[tuple[str, str, str]] = set()
        # A filing's configuration kept per process (IntakeService sets it): the recovery key
        # and the team's approvals are read from it for a case created in this transaction.
        self.kept: FilingConfig | None = None
        # Cases created in this transaction (see new_case), with the wraps still to store.
        self._new: dict[str, list[dict[str, Any]]] = {}

    @contextmanager
    def new_case(self, case_id: str) -> Iterator[None]:
        """Wrap a case created in this transaction: inside the block, its wraps (team,
        reporter, recovery, identity) are collected and then stored in one statement when
        the block ends. No wrap or pending grant can exist for such a case, and no other
        transaction sees it before the commit, so nothing is looked up or guarded; nothing
        inside the block may read the case's wraps back."""
        self._new[case_id] = []
        try:
            yield
            rows = self._new.pop(case_id)
            if rows:
                self.db.execute(_INSERT_WRAP, rows)
        finally:
            self._new.pop(case_id, None)

    def wrap_for_team(
        self, case_id: str, key_kind: str, key: bytes, staff: list[StaffAccount]
    ) -> list[StaffAccount]:
        """wrap_for_staff for each of these people (the policy has already allowed them), with
        their approvals read in one query: those who received the key, in the given order.

        After filing, a case key is first checked against what the reporter wrote
        (Matcher.rescan): anyone it names who joined the scan set since becomes a candidate,
        and whoever the policy then keeps away receives nothing."""
        if key_kind == CASE and case_id not in self._new:
            staff = self._still_allowed(case_id, key, staff)
        ids = [p.id for p in staff]
        withholding = (
            self.kept.withholding(self.server_secret, ids)
            if self.kept is not None and case_id in self._new
            else approvals_withholding(self.db, self.server_secret, ids)
        )
        team: list[tuple[StaffAccount, bytes]] = []
        for person in staff:
            wrapped = (
                None
                if person.id in withholding
                else self._wrapped_for(case_id, key_kind, key, person)
            )
            if wrapped is not None:
                team.append((person, wrapped))
        if case_id in self._new:
            self._insert(case_id, key_kind, [(staff_holder(p.id), w, p.id) for p, w in team])
            return [person for person, _ in team]
        for person, wrapped in team:
            self._store(case_id, key_kind, staff_holder(person.id), wrapped, staff_id=person.id)
            self.db.execute(
                delete(PendingGrant).where(
                    PendingGrant.case_id == case_id,
                    PendingGrant.key_kind == key_kind,
                    PendingGrant.staff_id == person.id,
                )
            )
        return [person for person, _ in team]

    def _still_allowed(
        self, case_id: str, key: bytes, staff: list[StaffAccount]
    ) -> list[StaffAccount]:
        case = self.db.get(Case, case_id)
        if case is None:
            return []
        if Matcher(self.db, self.server_secret).rescan(case, key):
            self.db.flush()
            return [person for person in staff if may_see(self.db, person, case)]
        return staff

    def withheld(self, staff_id: str) -> bool:
        """True while an admin's change to this account waits for a key holder's approval
        (or was refused): every path that hands out a key asks here, so none can bypass it.

        An approval row that fails its MAC withholds whatever status it claims, and so does a
        public key sealed as withheld (its pending row may have been deleted behind the portal's
        back): see cases/keytrust.py."""
        if approval_withholds(self.db, self.server_secret, staff_id):
            return True
        account = self.db.get(StaffAccount, staff_id)
        return account is not None and staff_key_withheld(self.server_secret, account)

    def wrap_for_staff(self, case_id: str, key_kind: str, key: bytes, staff: StaffAccount) -> bool:
        """Wrap for this person's public key. False, with nothing stored, while an admin's change
        to the account awaits approval; False and an audit entry when the key fails its MAC."""
        return bool(self.wrap_for_team(case_id, key_kind, key, [staff]))

    def _wrapped_for(
        self, case_id: str, key_kind: str, key: bytes, staff: StaffAccount
    ) -> bytes | None:
        """The key wrapped for this person once their approvals are known not to withhold:
        None when the public key is missing or withheld, and an audit entry too when it
        fails its MAC."""
        if not staff.public_key or staff_key_withheld(self.server_secret, staff):
            return None
        if not staff_key_trusted(self.server_secret, staff):
            self._refuse("staff", staff.id, case_id, key_kind)
            return None
        context = wrap_context(case_id, key_kind, staff_holder(staff.id))
        return crypto.wrap_for(staff.public_key, key, context)

    def open_to_read(
        self, case_id: str, key_kind: str, principal: StaffPrincipal, view: str
    ) -> bytes | None:
        """Open a key to decrypt content for this person: the read is recorded (see below)."""
        key = self.open_for_staff(case_id, key_kind, principal)
        if key is not None:
            self.record_read(case_id, principal, view)
        return key

    def record_read(self, case_id: str, principal: StaffPrincipal, view: str) -> None:
        """The one place `case.read` is written: once per case, person and view in a request.

        Every path that decrypts case content for a staff member comes through here, so the
        reporter's access summary and the auditors see each of them.
        """
        seen = (case_id, principal.id, view)
        if seen in self._reads:
            return
        self._reads.add(seen)
        self.audit.record(principal.actor, "case.read", case_id=case_id, detail={"view": view})

    def rewrap_all_for_staff(
        self, staff: StaffAccount, old_private: bytes, new_public: bytes
    ) -> int:
        """Key rotation: every key this person holds, opened with the old private key and
        wrapped for the new public key (whose MAC the caller has just written)."""
        holder = staff_holder(staff.id)
        done = 0
        for wrap in list(self.db.scalars(select(KeyWrap).where(KeyWrap.holder == holder))):
            context = wrap_context(wrap.case_id, wrap.key_kind, holder)
            key = crypto.unwrap(old_private, wrap.wrapped, context)
            wrap.wrapped = crypto.wrap_for(new_public, key, context)
            done += 1
        # Keys handed on at a reporter's visit and not yet stored (release_handed).
        handed = select(PendingGrant).where(
            PendingGrant.staff_id == staff.id, PendingGrant.wrapped.is_not(None)
        )
        for grant in list(self.db.scalars(handed)):
            assert grant.wrapped is not None
            context = wrap_context(grant.case_id, grant.key_kind, holder)
            key = crypto.unwrap(old_private, grant.wrapped, context)
            grant.wrapped = crypto.wrap_for(new_public, key, context)
        return done

    def wrap_for_reporter(
        self, case_id: str, key_kind: str, key: bytes, receipt_id: str, reporter_key: bytes
    ) -> None:
        holder = reporter_holder(receipt_id)
        sealed = crypto.seal(reporter_key, key, wrap_context(case_id, key_kind, holder))
        self._store(case_id, key_kind, holder, sealed)

    def wrap_for_recovery(self, case_id: str, key_kind: str, key: bytes) -> bool:
        """Wrap for the organisation's recovery key when one is configured."""
        if self.kept is not None and case_id in self._new:
            kept = self.kept.recovery(self.server_secret, self.recovery_fingerprint)
            recovery_id, public_key, trusted = (
                (kept.id, kept.public_key, kept.trusted) if kept else (None, b"", False)
            )
        else:
            row = self.db.scalars(_ACTIVE_RECOVERY).first()
            recovery_id, public_key = (row.id, row.public_key) if row else (None, b"")
            trusted = row is not None and recovery_key_trusted(
                self.server_secret, row, self.recovery_fingerprint
            )
        if recovery_id is None:
            return False
        if not trusted:
            self._refuse("recovery", recovery_id, case_id, key_kind)
            return False
        holder = recovery_holder(recovery_id)
        wrapped = crypto.wrap_for(public_key, key, wrap_context(case_id, key_kind, holder))
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

    def open_all_for_staff(
        self, case_ids: list[str], key_kind: str, principal: StaffPrincipal
    ) -> dict[str, bytes]:
        """open_for_staff for many cases in one query (a list page): the keys this person holds.

        A wrap that does not open (altered or damaged in the database) is left out, so one bad
        row costs the viewer that one case's summary, never the whole list."""
        holder = staff_holder(principal.id)
        stmt = select(KeyWrap.case_id, KeyWrap.wrapped).where(
            KeyWrap.case_id.in_(case_ids), KeyWrap.key_kind == key_kind, KeyWrap.holder == holder
        )
        opened: dict[str, bytes] = {}
        for case_id, wrapped in self.db.execute(stmt):
            try:
                context = wrap_context(case_id, key_kind, holder)
                opened[case_id] = crypto.unwrap(principal.private_key, wrapped, context)
            except crypto.CryptoError:
                _log.warning("a key wrap of case %s does not open; left out", case_id)
        return opened

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
            grant = PendingGrant(
                case_id=case_id, key_kind=key_kind, staff_id=staff_id, reason=reason
            )
            seal_grant(self.server_secret, grant)
            self.db.add(grant)
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
            done += self._fulfil(grant, key, principal.actor)
        return done

    def fulfil_as_reporter(self, principal: ReporterPrincipal, case_ids: list[str]) -> int:
        done = 0
        grants = self.db.scalars(
            select(PendingGrant).where(
                PendingGrant.case_id.in_(case_ids), PendingGrant.key_kind == CASE
            )
        )
        for grant in list(grants):
            if grant.ready_at is not None:
                continue  # handed on at an earlier visit this hour
            key = self.open_for_reporter(grant.case_id, CASE, principal)
            done += self._fulfil(grant, key, REPORTER)
        return done

    def _hand_on(self, grant: PendingGrant, key: bytes, staff: StaffAccount) -> bool:
        """At a reporter's visit: the key wrapped for this person now (the same checks as
        `wrap_for_team`), kept in the grant until the next full hour; `release_handed` stores it
        then. Handed on at once, the case would open for them the minute the reporter logged
        in, and someone owed a key could watch for that minute."""
        if not self._still_allowed(grant.case_id, key, [staff]):
            return False
        if approvals_withholding(self.db, self.server_secret, [staff.id]):
            return False
        wrapped = self._wrapped_for(grant.case_id, grant.key_kind, key, staff)
        if wrapped is None:
            return False
        grant.wrapped, grant.ready_at = wrapped, ceil_hour(self.audit.clock.now())
        return True

    def hand_on_at_visit(
        self, case_id: str, key_kind: str, key: bytes, staff: StaffAccount, reason: str
    ) -> bool:
        """At a reporter's visit, a key other than the case key (the payout key, for finance)
        for someone still waiting: wrapped now and kept in their pending grant until the next
        full hour, when `release_handed` stores it, as `_hand_on` does for case keys (whose
        check rescans the case's content, which a payout key does not open)."""
        if self.withheld(staff.id):
            return False
        self.request_grant(case_id, key_kind, staff.id, reason)
        grant = self.db.scalars(
            select(PendingGrant).where(
                PendingGrant.case_id == case_id,
                PendingGrant.key_kind == key_kind,
                PendingGrant.staff_id == staff.id,
            )
        ).first()
        if grant is None or grant.ready_at is not None:
            return False  # holds it already, or handed on at an earlier visit this hour
        if not grant_trusted(self.server_secret, grant):
            return False
        wrapped = self._wrapped_for(case_id, key_kind, key, staff)
        if wrapped is None:
            return False
        grant.wrapped, grant.ready_at = wrapped, ceil_hour(self.audit.clock.now())
        self._record_grant(case_id, key_kind, staff, REPORTER, reason)
        return True

    def release_handed(self, now: datetime) -> int:
        """The jobs round, at the hour: keys handed on at reporters' visits become key wraps of
        the people still allowed (the policy asked again); a withheld account keeps waiting."""
        stmt = select(PendingGrant).where(PendingGrant.ready_at <= now)
        done = 0
        for grant in list(self.db.scalars(stmt)):
            staff = self.db.get(StaffAccount, grant.staff_id)
            case = self.db.get(Case, grant.case_id)
            wrapped = grant.wrapped
            untrusted = wrapped is None or not grant_trusted(self.server_secret, grant)
            if untrusted or staff is None or case is None or not may_see(self.db, staff, case):
                self.db.delete(grant)
            elif self.withheld(staff.id) or not staff_key_trusted(self.server_secret, staff):
                grant.wrapped, grant.ready_at = None, None
            elif wrapped is not None:
                holder = staff_holder(staff.id)
                self._store(grant.case_id, grant.key_kind, holder, wrapped, staff.id)
                self.db.delete(grant)
                done += 1
        self.db.flush()
        return done

    def fulfil_with_recovery(self, pair: crypto.KeyPair, staff: StaffAccount) -> int:
        grants = self.db.scalars(select(PendingGrant).where(PendingGrant.staff_id == staff.id))
        done = 0
        for grant in list(grants):
            key = self.open_with_recovery(grant.case_id, grant.key_kind, pair)
            done += self._fulfil(grant, key, RECOVERY)
        return done

    def count_pending(self, case_id: str) -> int:
        stmt = select(func.count()).select_from(PendingGrant).where(PendingGrant.case_id == case_id)
        return int(self.db.scalar(stmt) or 0)

    def _fulfil(self, grant: PendingGrant, key: bytes | None, granted_by: Actor) -> int:
        if not grant_trusted(self.server_secret, grant):
            self._refuse("pending_grant", grant.id, grant.case_id, grant.key_kind)
            self.db.delete(grant)
            return 0
        if key is None:
            return 0
        staff = self.db.get(StaffAccount, grant.staff_id)
        case = self.db.get(Case, grant.case_id)
        if staff is None or case is None:
            return 0
        if not may_see(self.db, staff, case):
            self.db.delete(grant)
            return 0
        if granted_by == REPORTER:
            if not self._hand_on(grant, key, staff):
                return 0
            self._record_grant(grant.case_id, grant.key_kind, staff, granted_by, grant.reason)
            return 1
        return int(self.grant(grant.case_id, grant.key_kind, key, staff, granted_by, grant.reason))

    def grant(
        self,
        case_id: str,
        key_kind: str,
        key: bytes,
        staff: StaffAccount,
        granted_by: Actor,
        reason: str,
    ) -> bool:
        """Wrap a key for someone after filing, as one `key.granted` entry (case, grantee,
        granted by); entries written during a reporter's visit carry the reporter actor."""
        if not self.wrap_for_staff(case_id, key_kind, key, staff):
            return False
        self._record_grant(case_id, key_kind, staff, granted_by, reason)
        return True

    def _record_grant(
        self, case_id: str, key_kind: str, staff: StaffAccount, granted_by: Actor, reason: str
    ) -> None:
        self.audit.record(
            granted_by,
            "key.granted",
            case_id=case_id,
            detail={"key": key_kind, "grantee": staff.id, "reason": reason},
        )

    def _refuse(self, holder_kind: str, row_id: str, case_id: str, key_kind: str) -> None:
        """Loudly: an audit entry now; the admin page and `portal audit verify` list the row."""
        self.audit.record(
            Actor.system(),
            "key.refused",
            case_id=case_id,
            detail={"holder": holder_kind, "row": row_id, "key": key_kind, "why": "mac"},
        )

    def _wrap(self, case_id: str, key_kind: str, holder: str) -> KeyWrap | None:
        stmt = select(KeyWrap).where(
            KeyWrap.case_id == case_id, KeyWrap.key_kind == key_kind, KeyWrap.holder == holder
        )
        return self.db.scalars(stmt).first()

    def _insert(
        self, case_id: str, key_kind: str, wraps: list[tuple[str, bytes, str | None]]
    ) -> None:
        """Collect wraps of a case created in this transaction (stored by new_case)."""
        self._new[case_id].extend(
            {"case_id": case_id, "key_kind": key_kind, "holder": h, "wrapped": w, "staff_id": s}
            for h, w, s in wraps
        )

    def _store(
        self, case_id: str, key_kind: str, holder: str, wrapped: bytes, staff_id: str | None = None
    ) -> None:
        if case_id in self._new:
            self._insert(case_id, key_kind, [(holder, wrapped, staff_id)])
            return
        row = KeyWrap(
            case_id=case_id, key_kind=key_kind, holder=holder, staff_id=staff_id, wrapped=wrapped
        )
        existing = self._wrap(case_id, key_kind, holder)
        if existing is not None:
            existing.wrapped = wrapped
            return
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
