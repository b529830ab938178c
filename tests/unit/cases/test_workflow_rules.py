"""The transition table and deadline rules, without a database."""

from __future__ import annotations

from datetime import date

import pytest

from cases.errors import Conflict, Invalid
from cases.workflow.rules import ALLOWED, check_transition, is_due_soon, is_overdue

STATUSES = ["new", "acknowledged", "investigating", "concluded", "closed"]


@pytest.mark.parametrize("current", STATUSES)
@pytest.mark.parametrize("target", STATUSES)
def test_only_the_contract_table_is_allowed(current: str, target: str) -> None:
    """Every pair outside CONTRACT.md's table is a Conflict; pairs inside pass with a reason."""
    allowed = target in ALLOWED[current]

    def move() -> None:
        check_transition(current, target, "substantiated", "because")

    if allowed:
        move()
    else:
        with pytest.raises(Conflict):
            move()


def test_concluding_needs_an_outcome() -> None:
    """Concluding without a known outcome is Invalid on the outcome field."""

    with pytest.raises(Invalid) as caught:
        check_transition("investigating", "concluded", None, "done")

    assert caught.value.fields == {"outcome": "required"}


def test_every_move_needs_a_reason() -> None:
    """A blank reason is Invalid on the reason field."""

    with pytest.raises(Invalid) as caught:
        check_transition("new", "acknowledged", None, "   ")

    assert caught.value.fields == {"reason": "required"}


def test_overdue_and_due_soon_flags() -> None:
    """Overdue is strictly before today; due soon is today up to two days ahead."""
    today = date(2026, 3, 10)

    flags = [
        (is_overdue(d, today), is_due_soon(d, today))
        for d in (date(2026, 3, 9), today, date(2026, 3, 12), date(2026, 3, 13), None)
    ]

    assert flags == [(True, False), (False, True), (False, True), (False, False), (False, False)]
