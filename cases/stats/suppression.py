"""The suppression rule: no figure the statistics show lets anyone count fewer than 5 cases.

docs/statistics.md explains it; in short:

- primary: a count under THRESHOLD (0 included) is hidden ("< 5");
- secondary: a table's total is always known (it is the base, or a year's total, which the
  year filter shows), so the hidden cells of a table, and of each group of it (the months of a
  year), must together hold 0 or at least THRESHOLD and be at least two: otherwise the total
  minus the shown cells gives a hidden cell back. While that fails, the smallest shown cell is
  hidden too;
- a rate is hidden when its base is under THRESHOLD or either side of it (the cases that met
  the deadline, the ones that missed it) holds 1 to 4 cases; a median needs THRESHOLD cases,
  a 90th percentile twice as many (with fewer, it is one case's own figure).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import TypeVar

THRESHOLD = 5
PERCENTILE_MINIMUM = {50: THRESHOLD, 90: 2 * THRESHOLD}

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Figure:
    """One published number; `value` is None when it is suppressed."""

    value: int | None

    @property
    def suppressed(self) -> bool:
        return self.value is None


HIDDEN = Figure(None)


def count(value: int) -> Figure:
    """A count on its own (primary suppression only)."""
    return Figure(value) if value >= THRESHOLD else HIDDEN


def _small(value: int) -> bool:
    return 0 < value < THRESHOLD


def rate(met: int, base: int) -> Figure:
    """`met` of `base` as a whole percent, hidden when either side is a small group."""
    if base < THRESHOLD or _small(met) or _small(base - met):
        return HIDDEN
    return Figure(round(100 * met / base))


def percentile(histogram: Mapping[int, int], q: int) -> Figure:
    """The q-th percentile (nearest rank) of values given as {value: how many}."""
    n = sum(histogram.values())
    if n < PERCENTILE_MINIMUM[q]:
        return HIDDEN
    rank = max(1, -(-q * n // 100))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return Figure(value)
    raise AssertionError("unreachable: the rank is at most n")


def _safe(hidden: list[int]) -> bool:
    """Hidden cells that cannot be told apart from the total and the shown cells."""
    total = sum(hidden)
    return total == 0 or (len(hidden) >= 2 and total >= THRESHOLD)


def suppress_table(
    counts: Mapping[K, int],
    groups: Mapping[K, Hashable] | None = None,
    forced: Iterable[K] = (),
) -> dict[K, Figure]:
    """The table's cells with primary and secondary suppression, within each group and overall.

    `forced` cells are hidden whatever they hold (cases/stats/patterns.py hides a column of the
    whole table when no other answer may show it), and the secondary rule then protects them.
    """
    hidden = {key for key, value in counts.items() if value < THRESHOLD}
    hidden.update(key for key in forced if key in counts)
    group_of = groups or {}
    members: dict[Hashable, list[K]] = {}
    for key in counts:
        members.setdefault(group_of.get(key), []).append(key)
    scopes = [*members.values(), list(counts)] if groups else [list(counts)]
    changed = True
    while changed:
        changed = False
        for scope in scopes:
            while not _safe([counts[k] for k in scope if k in hidden]):
                shown = [k for k in scope if k not in hidden]
                if not shown:
                    break
                hidden.add(min(shown, key=lambda k: (counts[k], str(k))))
                changed = True
    return {key: HIDDEN if key in hidden else Figure(value) for key, value in counts.items()}


def chain(counts: list[int]) -> list[Figure]:
    """Nested counts (offered ⊇ accepted ⊇ paid): no shown pair may differ by 1 to 4."""
    hidden = {i for i, value in enumerate(counts) if value < THRESHOLD}
    changed = True
    while changed:
        changed = False
        shown = [i for i in range(len(counts)) if i not in hidden]
        for a, b in pairwise(shown):
            if _small(abs(counts[a] - counts[b])):
                hidden.add(b if counts[b] <= counts[a] else a)
                changed = True
                break
    return [HIDDEN if i in hidden else Figure(v) for i, v in enumerate(counts)]


__all__ = [
    "HIDDEN",
    "PERCENTILE_MINIMUM",
    "THRESHOLD",
    "Figure",
    "chain",
    "count",
    "percentile",
    "rate",
    "suppress_table",
]
