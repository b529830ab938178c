"""Deleting expired cases for good (crypto-shredding), and the legal holds that prevent it.

A case is deleted `Channel.retention_months` calendar months after the day it was closed.
Deleting shreds it: every key wrap and pending grant goes, so nothing sealed for the case can
be opened again from anything left anywhere (free pages, a WAL, a backup without the wraps);
then every sealed row is deleted too. Each table with a `case_id` column is emptied of the
case, so a table added later is covered without being named here; only the case row itself,
its rewards and the audit trail are kept, as a tombstone of clear metadata (docs/retention.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Table, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

import cases.models  # noqa: F401 (every table in the metadata, so case_tables() misses none)
from cases.access.policy import may_open
from cases.audit.service import Actor, AuditLog
from cases.clock import Clock, local_day
from cases.db import Base
from cases.deadlines import add_months
from cases.errors import N_, CaseError, Conflict, Forbidden, Invalid, Kind, NotFound
from cases.notify.models import OutboxMessage
from cases.org.models import Channel
from cases.principals import StaffPrincipal
from cases.reports.models import Attachment, AttachmentChunk, Case, Status
from cases.retention.models import PENDING, HoldRelease
from cases.retention.release import (
    RELEASE_DAYS,
    RELEASE_LIFETIME,
    expired,
    expires_at,
    holds_case_key,
    kept_away,
    related,
)
from cases.rewards.models import Reward, RewardDecision, RewardPayment, RewardStatus
from cases.sessions.models import UserSession
from cases.staff.models import Role, StaffAccount
from cases.staff.roles import CASE_READERS, require_roles

DEFAULT_MONTHS = 36
REASON_MAX = 500
UNSETTLED = (RewardStatus.PROPOSED, RewardStatus.APPROVED, RewardStatus.ACCEPTED)
# Cases deleted per round: one round is one transaction, kept short for the other writers.
BATCH = 200
# Tables that keep rows of a deleted case: the tombstone itself, its rewards (amount and
# currency stay, what was sealed is cleared) and the audit trail (a hash chain: never edited).
KEPT_TABLES = frozenset({"cases", "rewards", "audit_entries", "audit_held"})
NO_RELEASE = "No release of this hold is waiting for approval (it may have expired)."
OWN_PROPOSAL = "You proposed this release: a second person must approve it."
RELATED_ACCOUNT = (
    "You cannot approve this release: one of you made, changed or approved the other's "
    "account, so a second, independent person must approve it."
)
NO_KEY = "Only an investigator who holds this case's key can approve ending its hold."
KEPT_AWAY = "The access policy keeps you away from this case, so you cannot decide on its hold."


class DeletedUnderRetention(CaseError):
    """This report was closed and then deleted under the retention policy."""

    kind = Kind.GONE
    code = "deleted_under_retention"
    default_message = N_("This report was closed and then deleted under the retention policy.")


@dataclass(frozen=True)
class RetentionConfig:
    zone: ZoneInfo
    server_secret: bytes


@dataclass(frozen=True)
class PendingRelease:
    """A proposed end of a hold, as the pages and the API show it."""

    reason: str | None
    proposed_by: str
    proposer: str  # the proposer's name, or e-mail when they have none
    proposed_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Schedule:
    """What staff see of a case's retention: when it goes, or why it stays."""

    months: int
    deletes_on: date | None
    hold_reason: str | None
    hold_at: datetime | None
    deleted_on: date | None = None
    release: PendingRelease | None = None
    # Ended as unfounded by one reader alone: its months count once a second one agrees.
    awaiting_second_reader: bool = False

    @property
    def held(self) -> bool:
        return self.hold_reason is not None

    @property
    def release_days(self) -> int:
        """How long a proposed end of the hold waits for a second person."""
        return RELEASE_DAYS


def kept_months(case: Case, months: int) -> int:
    """How long a case is kept after closing: the longer of the channel's period now
    (`months`) and the one stored on the case (in force when it closed, or before an admin
    cut the channel's period while the case was in the portal). Shortening a channel's period
    applies to cases filed from then on: an admin who cuts it to one month deletes nothing
    already filed any sooner."""
    return max(months, case.retention_months or 0)


def deletes_on(case: Case, months: int) -> date | None:
    """The day a closed case is deleted (calendar months after closing); None while open, and
    while one reader's unfounded ending of it waits for a second (cases/workflow/
    second_reader.py): its months count from the day the second agrees."""
    if case.status != Status.CLOSED or case.closed_on is None or case.unconfirmed_by:
        return None
    return add_months(case.closed_on, kept_months(case, months))


def retention_periods(db: Session) -> list[tuple[Channel, int]]:
    """Each open channel with its retention months: what reporters are told before filing."""
    stmt = select(Channel).where(Channel.active.is_(True)).order_by(Channel.name_en)
    return [(channel, channel.retention_months) for channel in db.scalars(stmt)]


class RetentionService:
    def __init__(self, db: Session, clock: Clock, config: RetentionConfig) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.audit = AuditLog(db, clock, config.server_secret)

    def today(self) -> date:
        return local_day(self.clock.now(), self.config.zone)

    # --- what staff and reporters are shown -------------------------------------------------

    def schedule(self, case: Case) -> Schedule:
        """Clear metadata only; callers have already decided the viewer may see the case."""
        months = self._months(case.channel_id)
        return Schedule(
            kept_months(case, months),
            None if case.hold_reason else deletes_on(case, months),
            case.hold_reason,
            case.hold_at,
            case.retention_deleted_on,
            self.release_of(case),
            case.unconfirmed_by is not None,
        )

    def release_of(self, case: Case) -> PendingRelease | None:
        proposal = self.pending_release(case) if case.hold_reason else None
        if proposal is None:
            return None
        who = self.db.get(StaffAccount, proposal.proposed_by)
        return PendingRelease(
            proposal.reason,
            proposal.proposed_by,
            (who.name or who.email) if who is not None else "",
            proposal.proposed_at,
            expires_at(proposal),
        )

    def months_for(self, channel_id: str) -> int:
        return self._months(channel_id)

    def _months(self, channel_id: str) -> int:
        channel = self.db.get(Channel, channel_id)
        return channel.retention_months if channel is not None else DEFAULT_MONTHS

    # --- legal holds ------------------------------------------------------------------------

    def hold(self, principal: StaffPrincipal, case_id: str, reason: str) -> Case:
        """An investigator who may open the case holds it: it is not deleted while held."""
        require_roles(principal, CASE_READERS)
        return self._hold(principal, self._openable(principal, case_id), reason)

    def hold_by_reference(self, principal: StaffPrincipal, reference: str, reason: str) -> Case:
        """An admin holds a case by its reference (admins read no case, so they name it)."""
        require_roles(principal, {Role.ADMIN})
        return self._hold(principal, self._by_reference(reference), reason)

    # --- ending a hold: two people (cases/retention/release.py) -----------------------------

    def propose_release(self, principal: StaffPrincipal, case_id: str, reason: str) -> Case:
        """An investigator who may open the case proposes to end its hold; nothing changes
        until a second person approves."""
        require_roles(principal, CASE_READERS)
        return self._propose(principal, self._openable(principal, case_id), reason)

    def propose_release_by_reference(
        self, principal: StaffPrincipal, reference: str, reason: str
    ) -> Case:
        require_roles(principal, {Role.ADMIN})
        return self._propose(principal, self._admin_case(principal, reference), reason)

    def approve_release(self, principal: StaffPrincipal, case_id: str) -> Case:
        """A second investigator who holds the case's key approves: the hold is lifted."""
        require_roles(principal, CASE_READERS)
        return self._approve(principal, self._openable(principal, case_id))

    def approve_release_by_reference(self, principal: StaffPrincipal, reference: str) -> Case:
        """An admin approves by reference only if the same account holds the case's key."""
        require_roles(principal, {Role.ADMIN})
        return self._approve(principal, self._admin_case(principal, reference))

    def refuse_release(self, principal: StaffPrincipal, case_id: str) -> Case:
        """Anyone who could approve refuses; the proposer cancels. The hold stays."""
        require_roles(principal, CASE_READERS)
        return self._refuse(principal, self._openable(principal, case_id))

    def refuse_release_by_reference(self, principal: StaffPrincipal, reference: str) -> Case:
        require_roles(principal, {Role.ADMIN})
        return self._refuse(principal, self._by_reference(reference))

    def pending_release(self, case: Case) -> HoldRelease | None:
        """The proposal waiting for a second person, if any and not yet expired."""
        stmt = select(HoldRelease).where(
            HoldRelease.case_id == case.id, HoldRelease.status == PENDING
        )
        now = self.clock.now()
        return next((p for p in self.db.scalars(stmt) if not expired(p, now)), None)

    def approval_refused(self, account: StaffAccount, case: Case) -> str | None:
        """Why this person may not approve the pending release (None: they may). For the
        pages; `approve_release…` checks the same. The case is one they may act on."""
        proposal = self.pending_release(case) if case.hold_reason else None
        if proposal is None:
            return NO_RELEASE
        return self._bar(account, case, proposal)

    def expire_releases(self) -> int:
        """Proposals nobody approved in time end, each with an audit entry (the jobs round)."""
        now = self.clock.now()
        stmt = select(HoldRelease).where(
            HoldRelease.status == PENDING, HoldRelease.proposed_at <= now - RELEASE_LIFETIME
        )
        stale = list(self.db.scalars(stmt.order_by(HoldRelease.proposed_at)))
        for proposal in stale:
            self._expire(proposal)
        self.db.flush()
        return len(stale)

    def held_cases(self, principal: StaffPrincipal) -> list[Case]:
        """Every held case: the admin's list of what is kept and why (clear metadata only)."""
        require_roles(principal, {Role.ADMIN})
        stmt = select(Case).where(Case.hold_reason.is_not(None)).order_by(Case.reference)
        return list(self.db.scalars(stmt))

    def _openable(self, principal: StaffPrincipal, case_id: str) -> Case:
        # Locked, like the job's scan: a hold and a deletion of one case happen one after the
        # other (PostgreSQL; SQLite writes one at a time anyway).
        case = self.db.get(Case, case_id, with_for_update=True) if len(case_id) <= 64 else None
        if case is None or not may_open(self.db, principal.account, case):
            raise NotFound("There is no such case.", code="case_not_found")
        return case

    def _by_reference(self, reference: str) -> Case:
        wanted = reference.strip().upper()[:32]
        stmt = select(Case).where(Case.reference == wanted).with_for_update()
        case = self.db.scalars(stmt).first()
        if case is None:
            # Admins type the reference: an unknown one is a mistake in the form, not a 404.
            raise Invalid(
                "There is no case with this reference.", fields={"reference": "unknown_reference"}
            )
        return case

    def _hold(self, principal: StaffPrincipal, case: Case, reason: str) -> Case:
        text = " ".join(reason.split())
        if not text:
            raise Invalid("Say why the case must be kept.", fields={"reason": "required"})
        if len(text) > REASON_MAX:
            raise Invalid("The reason is too long.", fields={"reason": "too_long"})
        if case.retention_deleted_on is not None:
            raise Conflict("This case has already been deleted.", code="already_deleted")
        case.hold_reason, case.hold_by, case.hold_at = text, principal.id, self.clock.now()
        self.audit.record(
            principal.actor,
            "case.hold",
            case_id=case.id,
            detail={"reference": case.reference, "reason": text},
        )
        self.db.flush()
        return case

    def _admin_case(self, principal: StaffPrincipal, reference: str) -> Case:
        """The case an admin names, unless it keeps them away: an admin named in it (or above
        someone named, or excluded) neither proposes nor approves the end of its hold."""
        case = self._by_reference(reference)
        if kept_away(self.db, principal.account, case):
            raise Forbidden(KEPT_AWAY, code="kept_away")
        return case

    def _propose(self, principal: StaffPrincipal, case: Case, reason: str) -> Case:
        text = " ".join(reason.split())
        if len(text) > REASON_MAX:
            raise Invalid("The reason is too long.", fields={"reason": "too_long"})
        if case.hold_reason is None:
            raise Conflict("This case is not on hold.", code="not_held")
        self._expire_stale(case)
        if self.pending_release(case) is not None:
            raise Conflict(
                "A release of this hold is already waiting for a second person.",
                code="release_pending",
            )
        proposal = HoldRelease(
            case_id=case.id,
            reason=text or None,
            proposed_by=principal.id,
            proposed_at=self.clock.now(),
            status=PENDING,
        )
        self.db.add(proposal)
        detail: dict[str, str] = {"reference": case.reference}
        if text:
            detail["reason"] = text
        self.audit.record(
            principal.actor, "case.hold_release_proposed", case_id=case.id, detail=detail
        )
        self.db.flush()
        return case

    def _approve(self, principal: StaffPrincipal, case: Case) -> Case:
        proposal = self.pending_release(case)
        if proposal is None:
            raise Conflict(NO_RELEASE, code="no_release_proposed")
        refusal = self._bar(principal.account, case, proposal)
        if refusal is not None:
            raise Forbidden(refusal, code="not_a_second_person")
        self._decide(principal, proposal, "approved")
        case.hold_reason, case.hold_by, case.hold_at = None, None, None
        self.audit.record(
            principal.actor,
            "case.hold_released",
            case_id=case.id,
            detail={"reference": case.reference, "proposed_by": proposal.proposed_by},
        )
        self.db.flush()
        return case

    def _refuse(self, principal: StaffPrincipal, case: Case) -> Case:
        proposal = self.pending_release(case)
        if proposal is None:
            raise Conflict(NO_RELEASE, code="no_release_proposed")
        own = proposal.proposed_by == principal.id
        self._decide(principal, proposal, "cancelled" if own else "refused")
        action = "case.hold_release_cancelled" if own else "case.hold_release_refused"
        self.audit.record(
            principal.actor, action, case_id=case.id, detail={"reference": case.reference}
        )
        self.db.flush()
        return case

    def _bar(self, account: StaffAccount, case: Case, proposal: HoldRelease) -> str | None:
        if account.id == proposal.proposed_by:
            return OWN_PROPOSAL
        if related(self.db, account.id, proposal.proposed_by):
            return RELATED_ACCOUNT
        if account.has_role(Role.ADMIN) and kept_away(self.db, account, case):
            return KEPT_AWAY
        if not holds_case_key(self.db, account.id, case):
            return NO_KEY
        return None

    def _decide(self, principal: StaffPrincipal, proposal: HoldRelease, status: str) -> None:
        proposal.status, proposal.decided_by = status, principal.id
        proposal.decided_at = self.clock.now()

    def _expire_stale(self, case: Case) -> None:
        now = self.clock.now()
        stmt = select(HoldRelease).where(
            HoldRelease.case_id == case.id, HoldRelease.status == PENDING
        )
        for proposal in self.db.scalars(stmt):
            if expired(proposal, now):
                self._expire(proposal)

    def _expire(self, proposal: HoldRelease) -> None:
        proposal.status, proposal.decided_at = "expired", self.clock.now()
        case = self.db.get(Case, proposal.case_id)
        self.audit.record(
            Actor.system(),
            "case.hold_release_expired",
            case_id=proposal.case_id,
            detail={"reference": case.reference if case is not None else ""},
        )

    # --- the job ----------------------------------------------------------------------------

    def due(self, limit: int = BATCH) -> list[Case]:
        """Closed, not held, not yet deleted, and `retention_months` past the closing day.

        The rows are locked (FOR UPDATE on PostgreSQL): a hold committed meanwhile is seen
        when the lock is granted, and the held case drops out of the scan.
        """
        today = self.today()
        due: list[Case] = []
        for channel in self.db.scalars(select(Channel).order_by(Channel.id)):
            current = channel.retention_months
            # Cases closed under a longer period than today's keep it: each such period is
            # scanned with its own bound (there are rarely any).
            longer = self.db.scalars(
                select(Case.retention_months)
                .distinct()
                .where(
                    Case.channel_id == channel.id,
                    Case.status == Status.CLOSED,
                    Case.retention_months > current,
                )
            ).all()
            groups: list[tuple[int, ColumnElement[bool]]] = [
                (current, or_(Case.retention_months.is_(None), Case.retention_months <= current))
            ]
            groups += [(m, Case.retention_months == m) for m in sorted(m for m in longer if m)]
            for months, kept_for in groups:
                due += self._due_under(channel, months, kept_for, today, limit)
        return due[:limit]

    def _due_under(
        self,
        channel: Channel,
        months: int,
        kept_for: ColumnElement[bool],
        today: date,
        limit: int,
    ) -> list[Case]:
        # A coarse bound in SQL (calendar months clamp the day), the exact rule in Python.
        latest = add_months(today, -months) + timedelta(days=3)
        stmt = (
            select(Case)
            .where(
                Case.channel_id == channel.id,
                Case.status == Status.CLOSED,
                Case.closed_on <= latest,
                kept_for,
                Case.retention_deleted_on.is_(None),
                Case.hold_reason.is_(None),
                # Ended as unfounded by one reader alone: kept until a second one agrees.
                Case.unconfirmed_by.is_(None),
                # A reward still on its way to the reporter waits: deleting would take
                # the payout details finance needs to pay it.
                ~exists().where(Reward.case_id == Case.id, Reward.status.in_(UNSETTLED)),
            )
            .order_by(Case.closed_on, Case.id)
            .limit(limit)
            .with_for_update()
        )
        return [
            case
            for case in self.db.scalars(stmt)
            if (day := deletes_on(case, channel.retention_months)) is not None and day <= today
        ]

    def run(self, limit: int = BATCH) -> int:
        """Delete up to `limit` expired cases (the next round takes the rest); returns how many.
        Releases proposed and not approved in time expire first: they lift no hold."""
        self.expire_releases()
        due = self.due(limit)
        for case in due:
            self.shred(case)
        return len(due)

    def shred(self, case: Case) -> None:
        """Delete all of a case but its tombstone; one audit entry naming the reference only."""
        if case.hold_reason is not None:
            raise Conflict("A case on legal hold is not deleted.", code="on_hold")
        if case.unconfirmed_by is not None:
            raise Conflict(
                "A case ended by one reader alone is not deleted before a second one agrees.",
                code="awaiting_second_reader",
            )
        files = select(Attachment.id).where(Attachment.case_id == case.id)
        self.db.execute(delete(AttachmentChunk).where(AttachmentChunk.attachment_id.in_(files)))
        for table in case_tables():
            self.db.execute(delete(table).where(table.c.case_id == case.id))
        self._clear_rewards(case.id)
        # The outbox has no case_id column, but its dedupe keys name the case with the hour
        # of each mail a reporter's filing or message queued ("new_case:<id>:<hour>:<to>"):
        # kept, they would date the reporter's actions on a deleted case for ever.
        self.db.execute(
            delete(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"%:{case.id}:%"))
        )
        case.content, case.identity, case.record_state = b"", None, None
        case.retention_deleted_on = self.today()
        self.db.flush()
        if self._all_deleted(case.receipt_id):
            # Reporter sessions hold the receipt's key, re-encrypted: useless now, and gone.
            self.db.execute(delete(UserSession).where(UserSession.receipt_id == case.receipt_id))
        self.audit.record(
            Actor.system(), "case.deleted_under_retention", detail={"reference": case.reference}
        )
        self.db.flush()

    def _clear_rewards(self, case_id: str) -> None:
        """A reward keeps its amount, currency and status; payout details and texts go."""
        rewards = select(Reward.id).where(Reward.case_id == case_id)
        self.db.execute(
            update(Reward)
            .where(Reward.case_id == case_id)
            .values(payout=None, explanation=None)
            .execution_options(synchronize_session=False)
        )
        self.db.execute(
            update(RewardDecision)
            .where(RewardDecision.reward_id.in_(rewards))
            .values(reason=None)
            .execution_options(synchronize_session=False)
        )
        self.db.execute(
            update(RewardPayment)
            .where(RewardPayment.reward_id.in_(rewards))
            .values(reference="")
            .execution_options(synchronize_session=False)
        )

    def _all_deleted(self, receipt_id: str) -> bool:
        stmt = select(func.count()).where(
            Case.receipt_id == receipt_id, Case.retention_deleted_on.is_(None)
        )
        return int(self.db.scalar(stmt) or 0) == 0


def case_tables() -> list[Table]:
    """Every table holding rows of a case (a `case_id` column) except the kept ones, children
    before parents."""
    return [
        table
        for table in reversed(Base.metadata.sorted_tables)
        if "case_id" in table.c and table.name not in KEPT_TABLES
    ]


def touched_tables() -> list[str]:
    """The tables a deletion writes to: what PostgreSQL vacuums afterwards."""
    extra = [
        "attachment_chunks",
        "outbox_messages",
        "reward_decisions",
        "reward_payments",
        "user_sessions",
    ]
    return sorted({t.name for t in case_tables()} | {"cases", "rewards", *extra})


def receipt_deleted(db: Session, receipt_id: str) -> bool:
    """Whether every case filed with this receipt was deleted under retention."""
    stmt = select(
        func.count(),
        func.count(Case.retention_deleted_on),
    ).where(Case.receipt_id == receipt_id)
    total, deleted = db.execute(stmt).one()
    return bool(total) and total == deleted
