"""Key-holder approval of an admin's change to an account (docs/access.md, "Approvals").

An admin who could create an investigator, or add one to a team, and then log in as that
account would read every case. So an account made or changed by an admin (new account,
role added, added to a team, reactivated, login reset) receives no new key until someone
who already holds such keys approves it: never the admin who made the change, never the
account itself. Approval wraps the keys from the approver's own session; refusal is kept
and keeps the keys withheld. The command line (`portal user add`) is the operator's
trusted path and makes no approval row.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import Session

from cases.access.eligibility import CASE_ROLES, KEY_ROLES, may_hold
from cases.audit.service import AuditLog
from cases.clock import Clock
from cases.db import new_id
from cases.errors import Conflict, Forbidden, NotFound
from cases.keytrust import approval_trusted, reseal_staff_key, seal_approval
from cases.notify.service import NotifyConfig, Outbox
from cases.org.routing import Routing
from cases.principals import StaffPrincipal
from cases.reports.keys import CASE, KeyRing
from cases.reports.models import Case, KeyWrap
from cases.staff.enrolment import key_code
from cases.staff.models import KeyApproval, StaffAccount

REASONS = ("new_account", "role_added", "team_joined", "reactivated", "login_reset")
KEY_HOLDING_ROLES = frozenset().union(*KEY_ROLES.values())
NOT_YOURS = (
    "Only a key holder of this person's team may decide, never the admin who made the "
    "change or the person themselves."
)


@dataclass(frozen=True)
class ApprovalView:
    approval: KeyApproval
    account: StaffAccount
    requested_by: StaffAccount | None
    # What the person reads out to the approver; None until they have enrolled.
    key_code: str | None


class ApprovalService:
    def __init__(self, db: Session, clock: Clock, audit: AuditLog, notify: NotifyConfig) -> None:
        self.db = db
        self.clock = clock
        self.audit = audit
        self.notify = notify
        self.keys = KeyRing(db, audit, audit.server_secret)

    def request(
        self,
        me: StaffPrincipal,
        account: StaffAccount,
        reason: str,
        channel_id: str | None = None,
    ) -> KeyApproval | None:
        """Withhold new keys from the account until a key holder decides; tell the holders.

        Nothing to approve for an account whose roles hold no key (an admin, an auditor):
        should it gain such a role later, that change asks for approval then.
        """
        if not account.role_names & KEY_HOLDING_ROLES:
            return None
        row = KeyApproval(
            id=new_id(),
            staff_id=account.id,
            reason=reason,
            channel_id=channel_id,
            requested_by=me.id,
            requested_at=self.clock.now(),
            status="pending",
        )
        # The row carries a MAC, and the account's key is sealed as withheld until a key
        # holder approves: neither a flipped status nor a deleted row hands it keys.
        seal_approval(self.audit.server_secret, row)
        self.db.add(row)
        self.db.flush()
        reseal_staff_key(self.db, self.audit.server_secret, account)
        people = self.approvers(row)
        outbox = Outbox(self.db, self.clock, self.notify)
        for person in people:
            outbox.notify(person, "approval", f"approval:{row.id}:{person.id}")
        self.audit.record(
            me.actor,
            "approval.requested",
            detail={"target": account.id, "approval": row.id, "reason": reason},
        )
        return row

    def approvers(self, row: KeyApproval) -> list[StaffAccount]:
        """Who may decide: active holders of the keys this account would get, in its team."""
        account = self.db.get(StaffAccount, row.staff_id)
        if account is None:
            return []
        kinds = [k for k, roles in KEY_ROLES.items() if account.role_names & roles] or [CASE]
        holders = self._holders(kinds, self._scope(row, account)) or self._holders([CASE], true())
        barred = {row.staff_id, row.requested_by}
        people = (self.db.get(StaffAccount, i) for i in sorted(holders - barred))
        return [
            p
            for p in people
            if p is not None
            and p.active
            and p.role_names & KEY_HOLDING_ROLES
            and not self.keys.withheld(p.id)
        ]

    def pending(self, principal: StaffPrincipal) -> list[ApprovalView]:
        """The approvals this key holder may decide, oldest first."""
        require_key_holder(principal)
        stmt = select(KeyApproval).where(KeyApproval.status == "pending")
        views = []
        for row in self.db.scalars(stmt.order_by(KeyApproval.requested_at, KeyApproval.id)):
            if not approval_trusted(self.audit.server_secret, row):
                continue
            if any(p.id == principal.id for p in self.approvers(row)):
                views.append(self._view(row))
        return views

    def approve(self, principal: StaffPrincipal, approval_id: str) -> int:
        """Approve; once nothing else is withheld, wrap what the approver holds. Returns wraps."""
        row = self._decidable(principal, approval_id)
        self._check_enrolled(row)
        self._decide(principal, row, "approved")
        refused = select(KeyApproval).where(
            KeyApproval.staff_id == row.staff_id, KeyApproval.status == "refused"
        )
        for old in list(self.db.scalars(refused)):
            if not approval_trusted(self.audit.server_secret, old):
                continue  # not the portal's: it keeps withholding and stays reported
            old.status = "superseded"
            seal_approval(self.audit.server_secret, old)
        self.db.flush()
        account = self.db.get(StaffAccount, row.staff_id)
        if account is not None:
            # Sealed with the normal kind again once nothing else withholds.
            reseal_staff_key(self.db, self.audit.server_secret, account)
            self.db.flush()
        granted = queued = 0
        if account is not None and not self.keys.withheld(account.id):
            queued = Routing(self.db, self.keys).queue_for(account, row.reason)
            granted = self.keys.fulfil_as_staff(principal) + self._share(principal, account)
        self.audit.record(
            principal.actor,
            "approval.approved",
            detail={"target": row.staff_id, "approval": row.id, "queued": queued},
        )
        return granted

    def refuse(self, principal: StaffPrincipal, approval_id: str) -> None:
        """Refuse: the account keeps getting no new key; the refusal is recorded."""
        row = self._decidable(principal, approval_id)
        self._decide(principal, row, "refused")
        self.audit.record(
            principal.actor,
            "approval.refused",
            detail={"target": row.staff_id, "approval": row.id},
        )

    def _share(self, principal: StaffPrincipal, account: StaffAccount) -> int:
        """Keys other than case keys (identity, payout, reward) the approver holds and the
        account may hold; case keys follow routing through the pending grants instead."""
        stmt = select(KeyWrap.case_id, KeyWrap.key_kind).where(
            KeyWrap.staff_id == principal.id, KeyWrap.key_kind != CASE
        )
        done = 0
        for case_id, kind in self.db.execute(stmt).all():
            case = self.db.get(Case, case_id)
            if case is None or self.keys.holds(case_id, kind, account.id):
                continue
            if not may_hold(self.db, account, case, kind):
                continue
            key = self.keys.open_for_staff(case_id, kind, principal)
            if key is not None:
                done += int(self.keys.wrap_for_staff(case_id, kind, key, account))
        return done

    def _decide(self, principal: StaffPrincipal, row: KeyApproval, status: str) -> None:
        row.status = status
        row.decided_by = principal.id
        row.decided_at = self.clock.now()
        seal_approval(self.audit.server_secret, row)

    def _decidable(self, principal: StaffPrincipal, approval_id: str) -> KeyApproval:
        require_key_holder(principal)
        row = (
            self.db.get(KeyApproval, approval_id, with_for_update=True)
            if len(approval_id) <= 64
            else None
        )
        if row is None or not approval_trusted(self.audit.server_secret, row):
            # A row the portal did not write is nobody's to decide.
            raise NotFound("There is no such approval.", code="approval_not_found")
        if not any(p.id == principal.id for p in self.approvers(row)):
            raise Forbidden(NOT_YOURS, code="not_an_approver")
        if row.status != "pending":
            raise Conflict("This approval was already decided.", code="already_decided")
        return row

    def _check_enrolled(self, row: KeyApproval) -> None:
        account = self.db.get(StaffAccount, row.staff_id)
        if account is None or key_code(account) is None:
            raise Conflict(
                "This person has not set their password yet; approve once they have.",
                code="not_enrolled",
            )

    def _holders(self, kinds: list[str], scope: ColumnElement[bool]) -> set[str]:
        stmt = (
            select(KeyWrap.staff_id)
            .join(Case, Case.id == KeyWrap.case_id)
            .where(
                KeyWrap.key_kind.in_(kinds),
                KeyWrap.staff_id.is_not(None),
                or_(KeyWrap.key_kind != CASE, scope),
            )
            .distinct()
        )
        return {i for i in self.db.scalars(stmt) if i}

    def _scope(self, row: KeyApproval, account: StaffAccount) -> ColumnElement[bool]:
        """The team: the channel joined, else the categories routing would send them."""
        if row.channel_id is not None:
            return Case.channel_id == row.channel_id
        categories = Routing(self.db, self.keys).recipient_categories(account)
        return Case.category_id.in_(categories) if categories else true()

    def _view(self, row: KeyApproval) -> ApprovalView:
        account = self.db.get(StaffAccount, row.staff_id)
        assert account is not None
        by = self.db.get(StaffAccount, row.requested_by) if row.requested_by else None
        return ApprovalView(row, account, by, key_code(account))


def require_key_holder(principal: StaffPrincipal) -> None:
    """Only roles that hold keys decide approvals; admins and auditors never do."""
    if not principal.account.role_names & KEY_HOLDING_ROLES:
        raise Forbidden("Your roles do not hold keys, so you cannot decide approvals.")


__all__ = ["CASE_ROLES", "REASONS", "ApprovalService", "ApprovalView", "require_key_holder"]
