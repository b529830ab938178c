"""An unfounded ending takes two case readers: one ends the case, a second agrees.

One investigator colluding with the accused could conclude the report about him
"unsubstantiated" (or "not actionable") and close it, or flood the channel with junk reports
in the hour the report was expected and dismiss it, unread, with the junk (cases/workflow/
flood.py); the retention job then deleted it for good once its months had passed. The
transition table is a public contract (CONTRACT.md: those moves answer 200), so the moves stay
accepted and recorded, but such an ending is *unconfirmed* until a second case reader agrees:

- the case carries the first reader's id (`Case.unconfirmed_by`), is flagged in every reader's
  list and on its page, and can be listed on its own (the list's `second=awaiting` filter);
- retention does not count: a closed case's `closed_on`, the day its months count from, is set
  only on the day the second reader agrees, and the retention job never deletes an
  unconfirmed case (cases/retention/service.py);
- the second reader is someone who may open the case (the access policy: never the accused,
  their managers or anyone the reporter excluded), holds its key, is not the first reader and
  is not related to them by the making of accounts, either way and at any depth (the rule that
  ends a legal hold, cases/retention/release.py: an account the first made, reset, gave a role
  or approved for keys could be their puppet);
- a second reader who disagrees reopens the case (concluded or closed → investigating, as the
  contract allows): that ends the unconfirmed state too. Each step is in the audit trail.

With nobody able to be the second reader (a team of one), the case stays kept and flagged; a
new investigator given the case key (through a key holder or `portal recover`) can agree.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.access.policy import may_open
from cases.audit.service import AuditLog
from cases.errors import N_, Conflict, Forbidden
from cases.org.models import Channel
from cases.principals import StaffPrincipal
from cases.reports.models import Case, CaseEvent, Outcome, Status
from cases.retention.release import holds_case_key, related
from cases.staff.models import StaffAccount, StaffRole
from cases.staff.roles import CASE_READERS, require_roles

CONCLUDED = "concluded"  # concluded unsubstantiated or not actionable
FLOOD = "flood"  # dismissed unread from a flood
UNFOUNDED = frozenset({Outcome.UNSUBSTANTIATED.value, Outcome.NOT_ACTIONABLE.value})

NOTHING_TO_AGREE = N_("Nothing on this case waits for a second reader.")
OWN_ENDING = N_("You ended this case: a second case reader must agree.")
RELATED_READER = N_(
    "You cannot be the second reader: one of you made, changed or approved the other's "
    "account, so an independent colleague must agree."
)
NO_KEY = N_("Only a case reader who holds this case's key can agree as the second reader.")
ENDING_CHANGED = N_(
    "The case moved on since you opened it (reopened, ended again or closed): read it again "
    "before you agree."
)


@dataclass(frozen=True)
class Unconfirmed:
    """An ending by one reader, as the case page and the API show it."""

    kind: str  # concluded | flood
    by: str  # the first reader's staff id
    by_name: str
    since: datetime | None
    refusal: str | None  # why the viewer may not agree (None: they may)
    possible: bool  # whether anyone at all could be the second reader
    ending: str = ""  # names this ending: an agreement sent with it agrees to this one only


def unfounded(outcome: str | None) -> bool:
    return outcome in UNFOUNDED


def await_second_reader(
    audit: AuditLog, principal: StaffPrincipal, case: Case, kind: str, now: datetime
) -> None:
    """Record that this reader alone ended the case; it waits for a second one."""
    case.unconfirmed_by, case.unconfirmed_kind, case.unconfirmed_at = principal.id, kind, now
    audit.record(
        principal.actor,
        "case.awaiting_second_reader",
        case_id=case.id,
        detail={"kind": kind, "outcome": case.outcome, "status": case.status},
    )


def reopened(audit: AuditLog, principal: StaffPrincipal, case: Case) -> None:
    """A reopen ends the unconfirmed state (the second reader disagreed, or the first did)."""
    if case.unconfirmed_by is None:
        return
    audit.record(
        principal.actor,
        "case.second_reader_reopened",
        case_id=case.id,
        detail={"first": case.unconfirmed_by, "kind": case.unconfirmed_kind},
    )
    clear(case)


def clear(case: Case) -> None:
    case.unconfirmed_by, case.unconfirmed_kind, case.unconfirmed_at = None, None, None


class SecondReading:
    def __init__(self, db: Session, audit: AuditLog) -> None:
        self.db = db
        self.audit = audit

    def state(self, account: StaffAccount, case: Case) -> Unconfirmed | None:
        """The unconfirmed ending of a case this person may open, or None."""
        if case.unconfirmed_by is None or case.unconfirmed_kind is None:
            return None
        first = self.db.get(StaffAccount, case.unconfirmed_by)
        return Unconfirmed(
            case.unconfirmed_kind,
            case.unconfirmed_by,
            (first.name or first.email) if first is not None else "",
            case.unconfirmed_at,
            self.refusal(account, case),
            self.possible(case),
            self.ending(case),
        )

    def ending(self, case: Case) -> str:
        """A name for the ending waiting now, which the case page's form carries back: every
        move of the case (a reopen, an ending again, a close) adds an event and changes it, so
        an agreement sent from a page opened before agrees to nothing it did not show."""
        moves = self.db.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case.id))
        at = case.unconfirmed_at.isoformat() if case.unconfirmed_at else ""
        seen = f"{case.id}|{case.unconfirmed_by}|{case.unconfirmed_kind}|{at}|{case.status}|{moves}"
        return hashlib.sha256(seen.encode()).hexdigest()[:32]

    def refusal(self, account: StaffAccount, case: Case) -> str | None:
        """Why this person may not agree (None: they may). The case is one they may open."""
        first = case.unconfirmed_by
        if first is None:
            return NOTHING_TO_AGREE
        if account.id == first:
            return OWN_ENDING
        if related(self.db, account.id, first):
            return RELATED_READER
        if not account.role_names & CASE_READERS or not holds_case_key(self.db, account.id, case):
            return NO_KEY
        return None

    def possible(self, case: Case) -> bool:
        """Whether any active case reader other than the first, unrelated to them, is on the
        case (may open it: holds or awaits its key). False: a team of one, say."""
        first = case.unconfirmed_by or ""
        stmt = (
            select(StaffAccount)
            .join(StaffRole)
            .where(
                StaffRole.role.in_([str(r) for r in CASE_READERS]),
                StaffAccount.active.is_(True),
                StaffAccount.id != first,
            )
            .distinct()
        )
        return any(
            may_open(self.db, person, case) and not related(self.db, person.id, first)
            for person in self.db.scalars(stmt)
        )

    def agree(
        self, principal: StaffPrincipal, case: Case, today: date, ending: str | None = None
    ) -> Case:
        """A second reader agrees: the ending stands, and a closed case's retention months
        count from today. The caller has checked that this person may open the case. With
        `ending` (the case page always sends it), only to the ending that page showed."""
        require_roles(principal, CASE_READERS)
        if case.unconfirmed_by is None:
            raise Conflict(NOTHING_TO_AGREE, code="nothing_to_agree")
        if ending is not None and ending != self.ending(case):
            raise Conflict(ENDING_CHANGED, code="ending_changed")
        refusal = self.refusal(principal.account, case)
        if refusal is not None:
            raise Forbidden(refusal, code="not_a_second_reader")
        detail = {"first": case.unconfirmed_by, "kind": case.unconfirmed_kind}
        clear(case)
        if case.status == Status.CLOSED:
            self._start_retention(case, today)
        self.audit.record(
            principal.actor, "case.second_reader_agreed", case_id=case.id, detail=detail
        )
        self.db.flush()
        return case

    def _start_retention(self, case: Case, today: date) -> None:
        """Closed as any case is closed (WorkflowService._apply), from the agreement's day."""
        case.closed_on = today
        channel = self.db.get(Channel, case.channel_id)
        if channel is not None:
            case.retention_months = max(case.retention_months or 0, channel.retention_months)
