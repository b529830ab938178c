"""Disclosing a confidential reporter's identity: asked by an investigator, decided by a
custodian who is not the asker, enforced by wrapping the identity key for that one person."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto
from cases.access.eligibility import CASE_ROLES
from cases.access.models import DisclosureRequest
from cases.access.policy import allowed_condition, eligible, may_see
from cases.audit.service import AuditLog
from cases.clock import Clock
from cases.db import new_id
from cases.errors import Conflict, Forbidden, Invalid, NotFound
from cases.keytrust import staff_key_trusted
from cases.principals import StaffPrincipal
from cases.reports.intake import IdentityInput
from cases.reports.keys import CASE, IDENTITY, KeyRing
from cases.reports.models import Case
from cases.reports.sealing import IDENTITY as IDENTITY_PURPOSE
from cases.reports.sealing import open_json
from cases.staff.models import Role, StaffAccount, StaffRole
from cases.staff.roles import CASE_READERS, IDENTITY_READERS, require_roles

REASON_MAX = 2000


@dataclass(frozen=True)
class RequestView:
    id: str
    requester_id: str
    status: str
    reason: str | None
    decision_reason: str | None
    decided_by: str | None


@dataclass(frozen=True)
class PendingRequest:
    """A request in a custodian's queue, with the case it is about."""

    view: RequestView
    case_id: str
    reference: str


def _aad(request_id: str, part: str) -> bytes:
    return f"disclosure|{request_id}|{part}".encode()


def rewrap_reasons(db: Session, staff_id: str, old_private: bytes, new_public: bytes) -> int:
    """Key rotation: the reason keys of disclosure requests wrapped for this person move to
    their new public key."""
    done = 0
    for row in db.scalars(select(DisclosureRequest)):
        wraps = json.loads(row.reason_wraps)
        if staff_id not in wraps:
            continue
        aad = _aad(row.id, staff_id)
        key = crypto.unwrap(old_private, base64.b64decode(wraps[staff_id]), aad)
        wraps[staff_id] = base64.b64encode(crypto.wrap_for(new_public, key, aad)).decode()
        row.reason_wraps = json.dumps(wraps)
        done += 1
    return done


class DisclosureService:
    def __init__(self, db: Session, clock: Clock, audit: AuditLog, zone: ZoneInfo) -> None:
        self.db = db
        self.clock = clock
        self.audit = audit
        self.zone = zone
        self.keys = KeyRing(db, audit, audit.server_secret)

    def request(self, principal: StaffPrincipal, case: Case, reason: str) -> DisclosureRequest:
        """Ask for the reporter's identity, with a reason the custodians will read."""
        require_roles(principal, CASE_READERS)
        if not may_see(self.db, principal.account, case) or not self.keys.holds(
            case.id, CASE, principal.id
        ):
            raise NotFound
        if not case.confidential:
            raise Conflict("This reporter stayed anonymous: there is no identity to disclose.")
        reason = reason.strip()
        if not reason or len(reason) > REASON_MAX:
            raise Invalid(fields={"reason": "required" if not reason else "too_long"})
        if self._pending_by(case.id, principal.id) is not None:
            raise Conflict("You have already asked; a custodian will decide.", code="pending")
        row = DisclosureRequest(id=new_id(), case_id=case.id, requester_id=principal.id)
        reason_key = crypto.random_key()
        row.reason = crypto.seal(reason_key, reason.encode(), _aad(row.id, "reason"))
        everyone = [principal.account, *eligible(self.db, self._custodians(), case)]
        # A public key that fails its MAC was not written by the portal: no reason key for it.
        readers = [p for p in everyone if staff_key_trusted(self.keys.server_secret, p)]
        row.reason_wraps = json.dumps(
            {
                person.id: base64.b64encode(
                    crypto.wrap_for(person.public_key, reason_key, _aad(row.id, person.id))
                ).decode()
                for person in readers
            }
        )
        row.requested_at = self.clock.now()
        self.db.add(row)
        self.db.flush()
        self.audit.record(principal.actor, "disclosure.requested", case_id=case.id)
        return row

    def decide(
        self, principal: StaffPrincipal, request_id: str, *, approve: bool, reason: str
    ) -> DisclosureRequest:
        """A custodian approves (wrapping the identity key for the asker alone) or refuses."""
        require_roles(principal, {Role.CUSTODIAN})
        # Locked: an approve and a refuse sent together are serialised, and the second one
        # finds the request decided instead of both taking effect.
        row = (
            self.db.get(DisclosureRequest, request_id, with_for_update=True)
            if len(request_id) <= 64
            else None
        )
        case = self.db.get(Case, row.case_id) if row else None
        if row is None or case is None:
            raise NotFound
        if not may_see(self.db, principal.account, case):
            raise NotFound
        if row.requester_id == principal.id:
            raise Forbidden("You cannot decide your own request.", code="self_approval")
        if row.status != "pending":
            raise Conflict("This request has already been decided.", code="decided")
        reason = reason.strip()
        if not reason or len(reason) > REASON_MAX:
            raise Invalid(fields={"reason": "required" if not reason else "too_long"})
        if approve:
            self._grant_identity(principal, case, row)
        reason_key = self._reason_key(row, principal)
        if reason_key is not None:
            row.decision_reason = crypto.seal(reason_key, reason.encode(), _aad(row.id, "decision"))
        row.status = "approved" if approve else "refused"
        row.decided_by = principal.id
        row.decided_at = self.clock.now()
        self.audit.record(
            principal.actor,
            "disclosure.approved" if approve else "disclosure.refused",
            case_id=case.id,
            detail={"request_id": row.id, "requester_id": row.requester_id},
        )
        return row

    def identity(self, principal: StaffPrincipal, case: Case) -> IdentityInput | None:
        """The reporter's name and contact, for someone who holds the identity key."""
        require_roles(principal, IDENTITY_READERS)
        if case.identity is None or not may_see(self.db, principal.account, case):
            return None
        key = self.keys.open_to_read(case.id, IDENTITY, principal, "identity")
        if key is None:
            return None
        self.audit.record(principal.actor, "identity.read", case_id=case.id)
        value = open_json(key, case.id, IDENTITY_PURPOSE, case.id, case.identity)
        return IdentityInput(name=str(value["name"]), contact=str(value["contact"]))

    def requests(self, principal: StaffPrincipal, case: Case) -> list[RequestView]:
        require_roles(principal, IDENTITY_READERS)
        rows = self.db.scalars(
            select(DisclosureRequest)
            .where(DisclosureRequest.case_id == case.id)
            .order_by(DisclosureRequest.requested_at)
        )
        views = [self._view(row, principal) for row in rows]
        if any(v.reason is not None for v in views):
            self.keys.record_read(case.id, principal, "disclosures")
        return views

    def pending_for_custodian(self, principal: StaffPrincipal) -> list[PendingRequest]:
        """Requests this custodian may decide: pending, on cases they may see, not their own.

        One query whatever the length of the queue: the policy is its SQL form
        (`allowed_condition`, may_see without asking for a key) and each row comes with its
        case's reference. Reading the reasons is recorded once per case.
        """
        require_roles(principal, {Role.CUSTODIAN})
        found = self.db.execute(
            select(DisclosureRequest, Case.reference)
            .join(Case, Case.id == DisclosureRequest.case_id)
            .where(
                DisclosureRequest.status == "pending",
                DisclosureRequest.requester_id != principal.id,
                allowed_condition(principal.account, self.db),
            )
            .order_by(DisclosureRequest.requested_at)
        ).all()
        pending = [
            PendingRequest(self._view(row, principal), row.case_id, reference)
            for row, reference in found
        ]
        for item in pending:
            if item.view.reason is not None:
                self.keys.record_read(item.case_id, principal, "disclosures")
        return pending

    def _grant_identity(
        self, principal: StaffPrincipal, case: Case, row: DisclosureRequest
    ) -> None:
        requester = self.db.get(StaffAccount, row.requester_id)
        # Still someone who works cases (an asker moved to finance, say, is not) and who may
        # see this one: the identity key follows the roles, as every other key does.
        if (
            requester is None
            or not (requester.role_names & CASE_ROLES)
            or not may_see(self.db, requester, case)
        ):
            raise Conflict("The person who asked can no longer see this case.", code="ineligible")
        key = self.keys.open_for_staff(case.id, IDENTITY, principal)
        if key is None:
            raise Conflict(
                "You do not hold this reporter's identity key yet; it reaches you at the "
                "reporter's next visit.",
                code="awaiting_access",
            )
        self.keys.wrap_for_staff(case.id, IDENTITY, key, requester)

    def _reason_key(self, row: DisclosureRequest, principal: StaffPrincipal) -> bytes | None:
        wrapped = json.loads(row.reason_wraps).get(principal.id)
        if wrapped is None:
            return None
        return crypto.unwrap(
            principal.private_key, base64.b64decode(wrapped), _aad(row.id, principal.id)
        )

    def _view(self, row: DisclosureRequest, principal: StaffPrincipal) -> RequestView:
        key = self._reason_key(row, principal)
        reason = decision = None
        if key is not None:
            reason = crypto.unseal(key, row.reason, _aad(row.id, "reason")).decode()
            if row.decision_reason is not None:
                decision = crypto.unseal(
                    key, row.decision_reason, _aad(row.id, "decision")
                ).decode()
        return RequestView(row.id, row.requester_id, row.status, reason, decision, row.decided_by)

    def _pending_by(self, case_id: str, staff_id: str) -> DisclosureRequest | None:
        return self.db.scalars(
            select(DisclosureRequest).where(
                DisclosureRequest.case_id == case_id,
                DisclosureRequest.requester_id == staff_id,
                DisclosureRequest.status == "pending",
            )
        ).first()

    def _custodians(self) -> list[StaffAccount]:
        return list(
            self.db.scalars(
                select(StaffAccount)
                .join(StaffRole)
                .where(StaffRole.role == Role.CUSTODIAN, StaffAccount.active.is_(True))
            )
        )
