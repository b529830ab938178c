"""One suppression pattern per table for the whole data set, so answers cannot be set against
each other (docs/statistics.md, "Differencing").

Every answer is a cut through the same cube: its years (a range), its group (everything, a
channel or a category) and one table (months, outcomes, kinds, ages of open cases). A cell
hidden in one answer must not come back as the difference of cells shown in others, so the
pattern is decided per year over the whole cube, never per answer:

- the *top row* of a year (no channel or category filter) is suppressed as one table
  (`suppress_table`); a range of years hides every cell any of its years hides (`top`), so
  "2024-2025 minus 2025" meets a hidden cell;
- a *group row* (any channel or category, any range) hides every column that some group holds
  1 to 4 cases of in one of its years, and the top row's hidden columns (`grouped`): the
  channel A row hides March whenever channel B's March is small, so "all minus A" meets a
  hidden cell; a group row's columns are the same in every group, so no third answer (B's
  other months, A's partners) rebuilds one;
- every small group cell needs a *partner*: another hidden column its cases could have been
  in without changing a shown figure (directly, when the top row hides both, or with as many
  other groups' cases moved the other way). Where none exists, more columns are hidden, and
  as the last resort the cell's column in the top row too.

Why this is enough is the argument of docs/statistics.md: for each small hidden cell there is
another data set, with that cell at 0, that publishes exactly the same shown figures.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from cases.stats.suppression import THRESHOLD, suppress_table

K = TypeVar("K", bound=Hashable)
G = TypeVar("G", bound=Hashable)


def _small(value: int) -> bool:
    return 0 < value < THRESHOLD


@dataclass(frozen=True)
class YearPattern(Generic[K]):
    """One year of one table: the columns its top row hides, and those every group row hides."""

    top: frozenset[K]
    grouped: frozenset[K]


def _partner(
    top: Mapping[K, int], hidden_top: set[K], row: Mapping[K, int], column: K, other: K
) -> bool:
    """Whether a group's small cell in `column` could as well have been in `other`."""
    if other == column:
        return False
    if column in hidden_top and other in hidden_top:
        return True
    # The group's cases move to `other`, as many of other groups' cases in `other` move back,
    # and the top row stays as it was.
    return top[other] - row.get(other, 0) >= row[column]


def protect(top: Mapping[K, int], groups: Iterable[Mapping[K, int]]) -> YearPattern[K]:
    """The pattern of one year: `top` is the whole year's table, `groups` each group's part."""
    rows = [dict(row) for row in groups]
    forced: set[K] = set()
    while True:
        figures = suppress_table(top, forced=forced)
        # A hidden zero hides nothing and is no partner: only cells that hold cases count.
        hidden_top = {k for k, f in figures.items() if f.suppressed and top[k] > 0}
        grouped = set(hidden_top)
        grouped.update(k for row in rows for k, v in row.items() if _small(v))
        more = False
        for row in rows:
            for column, value in row.items():
                if not _small(value):
                    continue
                if any(_partner(top, hidden_top, row, column, other) for other in grouped):
                    continue
                room = [
                    k for k in top if k not in grouped and _partner(top, hidden_top, row, column, k)
                ]
                if room:
                    grouped.add(max(room, key=lambda k: (top[k] - row.get(k, 0), str(k))))
                elif column not in forced:
                    # Hide the column in the top row too, with a partner that holds cases.
                    forced.add(column)
                    others = [k for k in top if k != column and top[k] > 0]
                    if others:
                        forced.add(min(others, key=lambda k: (top[k], str(k))))
                    more = True
        if not more:
            return YearPattern(frozenset(hidden_top), frozenset(grouped))


@dataclass
class Pattern(Generic[K]):
    """The pattern of one table over every year: what an answer for some years hides."""

    years: dict[int, YearPattern[K]] = field(default_factory=dict)

    def hidden(self, years: Iterable[int], grouped: bool) -> set[K]:
        found: set[K] = set()
        for year in years:
            pattern = self.years.get(year)
            if pattern is not None:
                found |= pattern.grouped if grouped else pattern.top
        return found


def pattern(
    cube: Mapping[int, Mapping[G | None, Mapping[K, int]]], columns: Mapping[int, Iterable[K]]
) -> Pattern[K]:
    """The pattern of a table from {year: {group: {column: count}}}, the top row under `None`.

    `columns` lists each year's columns (zeros included): the top row is suppressed over all.
    """
    found: Pattern[K] = Pattern()
    for year, rows in cube.items():
        keys = list(columns[year])
        keys += sorted({k for row in rows.values() for k in row} - set(keys), key=str)
        top = {k: rows.get(None, {}).get(k, 0) for k in keys}
        groups = [row for group, row in rows.items() if group is not None]
        found.years[year] = protect(top, groups)
    return found


__all__ = ["Pattern", "YearPattern", "pattern", "protect"]
