"""Reports staff take down by phone, in a meeting or from a letter, filed like any other."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from cases.audit.service import AuditLog
from cases.clock import Clock
from cases.errors import Forbidden, Invalid
from cases.principals import StaffPrincipal
from cases.reports.intake import Filed, IntakeConfig, IntakeService, Submission
from cases.reports.models import Receipt
from cases.staff.models import Role

RECORDED_INTAKES = frozenset({"phone", "meeting", "letter"})


class RecordedIntake:
    def __init__(self, db: Session, clock: Clock, config: IntakeConfig) -> None:
        self.db = db
        self.clock = clock
        self.config = config

    def record(self, principal: StaffPrincipal, submission: Submission, intake: str) -> Filed:
        """File the written record; the fresh receipt is handed to the reporter, never stored.

        The case starts with record_state "pending" so the reporter can confirm or correct
        what staff wrote down from their status page.
        """
        require_recorder(principal)
        if intake not in RECORDED_INTAKES:
            raise Invalid("Choose how the report reached you.", fields={"intake": "required"})
        filed = IntakeService(self.db, self.clock, self.config).submit(
            replace(submission, intake=intake)
        )
        receipt = self.db.get(Receipt, filed.case.receipt_id)
        assert receipt is not None
        receipt.staff_issued = True
        AuditLog(self.db, self.clock, self.config.server_secret).record(
            principal.actor, "case.recorded", case_id=filed.case.id, detail={"intake": intake}
        )
        return filed


def require_recorder(principal: StaffPrincipal) -> None:
    """Only investigators take down reports for a reporter."""
    if not principal.has_role(Role.INVESTIGATOR):
        raise Forbidden("Only investigators record reports.")
