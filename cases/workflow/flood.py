"""Triage of reports that arrived during a flood: staff dismiss them in bulk, each audited."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cases.access.policy import may_open
from cases.audit.service import AuditLog
from cases.casework.service import require_reader
from cases.clock import Clock, local_day
from cases.db import new_id
from cases.errors import Conflict, Invalid, NotFound
from cases.org.models import Channel
from cases.principals import StaffPrincipal
from cases.reports.models import Case, CaseEvent, Outcome, Status
from cases.workflow.second_reader import FLOOD, await_second_reader

MAX_DISMISS = 500


class FloodTriage:
    """Staff dismiss flood-marked reports in bulk: closed as not actionable, each audited, and
    each waiting for a second reader (cases/workflow/second_reader.py): the one who dismissed
    may be the one who made the flood."""

    def __init__(self, db: Session, clock: Clock, server_secret: bytes, zone: ZoneInfo) -> None:
        self.db = db
        self.clock = clock
        self.audit = AuditLog(db, clock, server_secret)
        self.zone = zone

    def dismiss(self, principal: StaffPrincipal, case_ids: Sequence[str]) -> int:
        """Dismiss every listed case, or none: each must be visible, marked and still new."""
        require_reader(principal)
        ids = list(dict.fromkeys(case_ids))
        if not ids or len(ids) > MAX_DISMISS:
            raise Invalid("Choose the reports to dismiss.", fields={"cases": "required"})
        cases = [self._dismissible(principal, case_id) for case_id in ids]
        for case in cases:
            self._close(principal, case)
        self.db.flush()
        return len(cases)

    def _dismissible(self, principal: StaffPrincipal, case_id: str) -> Case:
        case = self.db.get(Case, case_id)
        if case is None or not may_open(self.db, principal.account, case):
            raise NotFound("There is no such case.", code="case_not_found")
        if case.flood_hour is None or case.status != Status.NEW:
            raise Conflict(
                "Only new reports that arrived during a flood can be dismissed.",
                code="not_dismissible",
            )
        return case

    def _close(self, principal: StaffPrincipal, case: Case) -> None:
        now = self.clock.now()
        today = local_day(now, self.zone)
        case.status, case.outcome = Status.CLOSED, Outcome.NOT_ACTIONABLE
        case.concluded_on, case.due_on = today, None
        # Closed, but dismissed unread by one reader: retention counts only from the day a
        # second reader agrees (SecondReading.agree sets `closed_on` then). It keeps at least
        # the channel's period in force now, as any closed case does.
        case.closed_on = None
        channel = self.db.get(Channel, case.channel_id)
        if channel is not None:
            case.retention_months = max(case.retention_months or 0, channel.retention_months)
        self.db.add(
            CaseEvent(
                id=new_id(),
                case_id=case.id,
                from_status=Status.NEW,
                to_status=Status.CLOSED,
                outcome=Outcome.NOT_ACTIONABLE,
                staff_id=principal.id,
                at=now,
            )
        )
        self.audit.record(
            principal.actor,
            "case.flood_dismissed",
            case_id=case.id,
            detail={"from": Status.NEW.value, "to": Status.CLOSED.value},
        )
        await_second_reader(self.audit, principal, case, FLOOD, now)
