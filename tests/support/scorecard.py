"""The security scorecard's figures: tests add to them, tests/security/conftest.py prints them.

A test records what it tried (requests sent, servers killed, uploads acknowledged) with
`record(name, value)`; the figures appear at the end of the pytest run, so CI output shows them.
"""

from __future__ import annotations

from collections import Counter

FIGURES: Counter[str] = Counter()


def record(name: str, value: int = 1) -> None:
    """Add `value` to the figure `name` (e.g. record("api: requests tried", 1))."""
    FIGURES[name] += value


def lines() -> list[str]:
    """One "name: value" line per figure, in the order they were first recorded."""
    return [f"{name}: {value}" for name, value in FIGURES.items()]
