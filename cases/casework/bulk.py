"""Bulk work on selected cases: assign, transition (one reason), dismiss flood-marked reports.

Each case goes through the very method the single action uses (CaseworkService.assign and
.transition, FloodTriage.dismiss), so the same rules decide, and each is audited per case
as the single action is. All or nothing: the batch runs in one savepoint; the first refusal
rolls every case back and names the case and the reason (BulkRefused).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cases.access.policy import may_open
from cases.casework.service import CaseworkService, require_reader
from cases.errors import N_, CaseError, Invalid, Kind
from cases.principals import StaffPrincipal
from cases.reports.models import Case
from cases.workflow.flood import FloodTriage

MAX_BULK = 200
ACTIONS = frozenset({"assign", "transition", "dismiss"})


class BulkRefused(CaseError):
    """Nothing was changed: one of the selected cases refused the action."""

    kind = Kind.CONFLICT
    code = "bulk_refused"
    default_message = N_("Nothing was changed: one of the selected cases refused the action.")

    def __init__(self, case_id: str, reference: str, cause: CaseError) -> None:
        super().__init__()
        self.case_id = case_id
        self.reference = reference
        self.cause = cause


@dataclass(frozen=True)
class BulkRequest:
    action: str  # assign | transition | dismiss
    case_ids: tuple[str, ...]
    staff_id: str = ""
    status: str = ""
    reason: str = ""
    outcome: str = ""


class BulkWork:
    def __init__(self, work: CaseworkService, triage: FloodTriage) -> None:
        self.work = work
        self.triage = triage
        self.db = work.db

    def run(self, principal: StaffPrincipal, request: BulkRequest) -> int:
        """Apply the action to every selected case or to none; returns how many changed."""
        require_reader(principal)
        ids = list(dict.fromkeys(request.case_ids))
        if not ids or len(ids) > MAX_BULK:
            raise Invalid("Choose the cases to change.", fields={"cases": "required"})
        if request.action not in ACTIONS:
            raise Invalid("Choose what to do with them.", fields={"action": "required"})
        step = self._step(principal, request)
        with self.db.begin_nested():
            for case_id in ids:
                try:
                    step(case_id)
                except CaseError as refusal:
                    reference = self._reference(principal, case_id)
                    raise BulkRefused(case_id, reference, refusal) from refusal
        return len(ids)

    def _step(self, principal: StaffPrincipal, request: BulkRequest) -> Callable[[str], object]:
        if request.action == "assign":
            return lambda case_id: self.work.assign(principal, case_id, request.staff_id)
        if request.action == "transition":
            return lambda case_id: self.work.transition(
                principal, case_id, request.status, request.reason, request.outcome or None
            )
        return lambda case_id: self.triage.dismiss(principal, [case_id])

    def _reference(self, principal: StaffPrincipal, case_id: str) -> str:
        """The reference to name in the refusal, only for a case this person may open: for
        any other the id they sent is all they learn (as a 404 at its URL would say)."""
        case = self.db.get(Case, case_id) if len(case_id) <= 64 else None
        if case is None or not may_open(self.db, principal.account, case):
            return case_id[:64]
        return case.reference


def selected(values: Sequence[str]) -> tuple[str, ...]:
    """Checkbox values as case ids: blanks dropped, duplicates kept once."""
    return tuple(dict.fromkeys(v for v in values if v))


__all__ = ["ACTIONS", "MAX_BULK", "BulkRefused", "BulkRequest", "BulkWork", "selected"]
