"""The suppression rule: small counts hidden, and no total minus shown cells gives one back."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cases.stats.suppression import HIDDEN, Figure, chain, percentile, rate, suppress_table

CELLS = st.dictionaries(st.text("abcdefgh", min_size=1, max_size=2), st.integers(0, 40), max_size=8)


def _revealing(counts: dict[str, int], figures: dict[str, Figure]) -> bool:
    """Whether the total minus the shown cells pins down a small hidden cell."""
    hidden = [counts[k] for k, f in figures.items() if f.suppressed]
    rest = sum(hidden)
    return rest != 0 and (len(hidden) < 2 or rest < 5)


def test_a_cell_of_four_is_hidden_and_so_is_its_partner() -> None:
    """10, 4, 6: the 4 is hidden, and the 6 too, so total - 10 gives 10, not the 4."""
    figures = suppress_table({"a": 10, "b": 4, "c": 6})

    assert figures == {"a": Figure(10), "b": HIDDEN, "c": HIDDEN}


@settings(max_examples=60, deadline=None)
@given(CELLS)
def test_no_table_gives_a_hidden_cell_back(counts: dict[str, int]) -> None:
    """Every cell under 5 is hidden; the hidden cells hold 0 or at least 5, in two or more."""
    figures = suppress_table(counts)

    assert all(figures[k].suppressed for k, v in counts.items() if v < 5)
    assert all(f.value == counts[k] for k, f in figures.items() if not f.suppressed)
    assert not _revealing(counts, figures) or all(f.suppressed for f in figures.values())


@settings(max_examples=40, deadline=None)
@given(CELLS, CELLS)
def test_each_group_and_the_whole_table_are_safe(
    first: dict[str, int], second: dict[str, int]
) -> None:
    """Months grouped by year: neither a year's total nor the table's reveals a hidden month."""
    counts = {f"2024-{k}": v for k, v in first.items()} | {
        f"2025-{k}": v for k, v in second.items()
    }
    figures = suppress_table(counts, {k: k[:4] for k in counts})

    for year in ("2024", "2025"):
        part = {k: v for k, v in counts.items() if k.startswith(year)}
        shown = {k: figures[k] for k in part}
        assert not _revealing(part, shown) or all(f.suppressed for f in shown.values())
    assert not _revealing(counts, figures) or all(f.suppressed for f in figures.values())


def test_rates_hide_small_groups_on_either_side() -> None:
    """A rate needs 5 cases in its base and no side of 1 to 4; 0 or all is not a small group."""
    assert rate(3, 4) == HIDDEN
    assert rate(17, 20) == HIDDEN  # 3 missed the deadline
    assert rate(20, 20) == Figure(100)
    assert rate(10, 20) == Figure(50)


def test_percentiles_need_enough_cases() -> None:
    """A median needs 5 cases, a 90th percentile 10: with fewer it is one case's own figure."""
    assert percentile({3: 4}, 50) == HIDDEN
    assert percentile({3: 5}, 50) == Figure(3)
    assert percentile({3: 9}, 90) == HIDDEN
    assert percentile({1: 9, 30: 1}, 90) == Figure(1)


def test_nested_reward_counts_do_not_differ_by_a_small_number() -> None:
    """Offered 12, accepted 10, paid 10: offered - accepted would be 2, so accepted is hidden."""
    figures = chain([12, 10, 10])

    assert figures[0] == Figure(12)
    assert HIDDEN in figures[1:]
    shown = [f.value for f in figures if f.value is not None]
    assert all(abs(a - b) == 0 or abs(a - b) >= 5 for a in shown for b in shown)
