"""What a reporter learns about access to their case, and filing a retaliation complaint.

The access summary is computed from the audit trail by role only: a reporter learns how
many people of each role read the case, never who. The retaliation complaint is a
separate, high-priority case under the same receipt, routed to the retaliation officers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.access.models import DisclosureRequest
from cases.audit.models import AuditEntry
from cases.clock import Clock, local_day
from cases.errors import Invalid, NotFound
from cases.org.models import Category, Channel
from cases.principals import ReporterPrincipal
from cases.reports.intake import IntakeConfig, IntakeService, SubjectInput, Submission
from cases.reports.models import Case
from cases.staff.models import StaffAccount

READ_ACTIONS = ("case.read", "attachment.download")
# The role a reader is counted under, when they hold several: the most specific first.
ROLE_ORDER = ("retaliation_officer", "investigator", "custodian", "reward_approver", "finance")


@dataclass(frozen=True)
class DisclosureNotice:
    """CONTRACT's `identity_disclosure`: asked on which day, and how and when it was decided."""

    status: str
    requested_on: date
    decided_on: date | None


@dataclass(frozen=True)
class AccessSummary:
    readers: dict[str, int]
    disclosure: DisclosureNotice | None
    # Key grants after filing (a colleague joining, a reporter's visit, recovery): how many.
    grants: int = 0
    # The days (never the times) a case file was exported for lawyers, police or a court.
    exported_on: tuple[date, ...] = ()

    @property
    def identity_disclosed(self) -> bool:
        return self.disclosure is not None and self.disclosure.status == "approved"


def access_summary(db: Session, case: Case, zone: ZoneInfo) -> AccessSummary:
    """How many people of each role opened the case, and the latest disclosure decision."""
    rows = db.execute(
        select(AuditEntry.actor_id, AuditEntry.actor_roles)
        .where(
            AuditEntry.case_id == case.id,
            AuditEntry.actor_kind == "staff",
            AuditEntry.action.in_(READ_ACTIONS),
        )
        .distinct()
    )
    people: dict[str, str] = {}
    for actor_id, roles in rows:
        people[str(actor_id)] = counted_role(set(roles.split(",")))
    readers: dict[str, int] = {}
    for role in people.values():
        readers[role] = readers.get(role, 0) + 1
    grants = db.scalar(
        select(func.count()).where(
            AuditEntry.case_id == case.id, AuditEntry.action == "key.granted"
        )
    )
    exports = db.scalars(
        select(AuditEntry.at).where(
            AuditEntry.case_id == case.id, AuditEntry.action == "case.exported"
        )
    )
    days = tuple(sorted({local_day(at, zone) for at in exports}))
    return AccessSummary(readers, disclosure_notice(db, case, zone), int(grants or 0), days)


def counted_role(roles: set[str]) -> str:
    return next((role for role in ROLE_ORDER if role in roles), "staff")


def disclosure_notice(db: Session, case: Case, zone: ZoneInfo) -> DisclosureNotice | None:
    """CONTRACT's `identity_disclosure`: asked on which day, and how and when it was decided."""
    row = db.scalars(
        select(DisclosureRequest)
        .where(DisclosureRequest.case_id == case.id)
        .order_by(DisclosureRequest.requested_at.desc())
    ).first()
    if row is None:
        return None
    decided = local_day(row.decided_at, zone) if row.decided_at else None
    return DisclosureNotice(row.status, local_day(row.requested_at, zone), decided)


@dataclass(frozen=True)
class Complaint:
    summary: str
    details: str
    # The people retaliating (matched like a report's subjects) and staff to keep away.
    subjects: list[SubjectInput] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)


def file_retaliation(
    db: Session, clock: Clock, config: IntakeConfig, reporter: ReporterPrincipal, text: Complaint
) -> Case:
    """A retaliation complaint linked to the reporter's first case, in its channel's
    retaliation category: its own case and key, high priority, for the retaliation officers.

    It inherits the first case's subjects and exclusions and adds its own, so it never
    reaches the person it accuses; with no eligible officer left it goes to the channel's
    eligible investigators, and with nobody eligible it waits for the recovery key.
    """
    origin = _origin(db, reporter)
    category = complaint_category(db, origin)
    if category is None:
        raise Invalid("This channel takes no retaliation complaints.", code="no_category")
    submission = Submission(
        channel_id=category.channel_id,
        category_id=category.id,
        summary=text.summary,
        details=text.details,
        subjects=text.subjects,
        exclude=text.exclude,
        linked_from_id=origin.id,
    )
    return IntakeService(db, clock, config).submit_linked(submission, reporter)


def complaint_category(db: Session, origin: Case) -> Category | None:
    """Where a complaint about retaliation over `origin` is filed: a retaliation category of
    its own channel, else of another channel, those reporters can choose first.

    Whether a channel or category is switched off does not matter (an admin colluding with
    the accused must not silence the reporter by switching them off), and the portal always
    keeps one retaliation category (`AdminService.update_category` refuses to take the
    flag from the last), so a reporter's complaint is never refused for want of a place."""
    stmt = (
        select(Category)
        .join(Channel, Channel.id == Category.channel_id)
        .where(Category.retaliation.is_(True))
        .order_by(
            (Category.channel_id != origin.channel_id),
            Channel.active.is_(False),
            Category.active.is_(False),
            Category.position,
            Category.id,
        )
    )
    return db.scalars(stmt.limit(1)).first()


def _origin(db: Session, reporter: ReporterPrincipal) -> Case:
    origin = db.scalars(
        select(Case)
        .where(Case.receipt_id == reporter.receipt.id, Case.linked_from_id.is_(None))
        .order_by(Case.submitted_on, Case.id)
    ).first()
    if origin is None:
        raise NotFound
    return origin


def retaliation_recipients(
    db: Session, clock: Clock, config: IntakeConfig, reporter: ReporterPrincipal
) -> list[StaffAccount]:
    """The staff a reporter may exclude from a complaint: those who could receive it."""
    origin = _origin(db, reporter)
    category = complaint_category(db, origin)
    # The complaint's channel, switched off or not (file_retaliation).
    channel = db.get(Channel, category.channel_id) if category is not None else None
    return [] if channel is None else IntakeService(db, clock, config).recipients(channel)
