"""The directory file's duplicate check names every repeated id and stays linear."""

from __future__ import annotations

import time

from cases.staff.directory import duplicate_ids


def test_duplicates_are_named_once_each_and_sorted() -> None:
    """Ids seen twice or more are listed once, in order; unique ids are not."""

    found = duplicate_ids(["E3", "E1", "E3", "E2", "E1", "E3"])

    assert found == ["E1", "E3"]


def test_a_hundred_thousand_rows_are_checked_quickly() -> None:
    """100,000 ids with one repeat take well under five seconds (the quadratic check took
    about a minute and a half at this size)."""
    ids = [f"E{n:07d}" for n in range(100_000)] + ["E0000042"]

    started = time.perf_counter()
    found = duplicate_ids(ids)

    assert found == ["E0000042"]
    assert time.perf_counter() - started < 5
