"""The transition table (CONTRACT.md) and the deadline that matters in each status."""

from __future__ import annotations

from datetime import date, timedelta

from cases.errors import Conflict, Invalid, Message
from cases.reports.models import Case, Outcome, Status

ALLOWED: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.ACKNOWLEDGED}),
    Status.ACKNOWLEDGED: frozenset({Status.INVESTIGATING, Status.CONCLUDED}),
    Status.INVESTIGATING: frozenset({Status.CONCLUDED}),
    Status.CONCLUDED: frozenset({Status.CLOSED, Status.INVESTIGATING}),
    Status.CLOSED: frozenset({Status.INVESTIGATING}),
}
OUTCOMES = frozenset(o.value for o in Outcome)
REASON_MAX = 2000
DUE_SOON_DAYS = 2


def check_transition(current: str, target: str, outcome: str | None, reason: str) -> None:
    """Refuse a move the table forbids (409) or one missing its reason or outcome (422)."""
    if target not in ALLOWED.get(current, frozenset()):
        raise Conflict(
            Message(
                "A case cannot move from %(current)s to %(target)s.", current=current, target=target
            ),
            code="transition_not_allowed",
        )
    errors: dict[str, str] = {}
    if not reason.strip():
        errors["reason"] = "required"
    elif len(reason) > REASON_MAX:
        errors["reason"] = "too_long"
    if target == Status.CONCLUDED and outcome not in OUTCOMES:
        errors["outcome"] = "required"
    if errors:
        raise Invalid("Please give a reason (and an outcome when concluding).", fields=errors)


def due_on(case: Case) -> date | None:
    """The next legal deadline: acknowledgement while new, feedback while being worked on."""
    if case.status == Status.NEW:
        return case.acknowledge_by
    if case.status in {Status.ACKNOWLEDGED, Status.INVESTIGATING}:
        return case.feedback_by
    return None


def is_overdue(due: date | None, today: date) -> bool:
    return due is not None and due < today


def is_due_soon(due: date | None, today: date) -> bool:
    return due is not None and today <= due <= today + timedelta(days=DUE_SOON_DAYS)
