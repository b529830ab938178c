"""The transition rules (reason, outcome) and deadline flags, without a database.

The table itself is tested against CONTRACT.md, through the API, in
tests/functional/test_transition_table.py.
"""

from __future__ import annotations

from datetime import date

import pytest

from cases.errors import Invalid
from cases.workflow.rules import check_transition, is_due_soon, is_overdue


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
