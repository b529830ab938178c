"""One year's pattern of a table: no hidden small cell is pinned by the top row and the groups'.

The check solves for the group cells by integer programming, given every shown cell of the
top row and of the group rows and every group's total, and knows nothing of how the pattern
was chosen.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from cases.stats.patterns import protect

COLUMNS = ("jan", "feb", "mar", "apr")
TABLES = st.lists(
    st.lists(st.integers(0, 14), min_size=len(COLUMNS), max_size=len(COLUMNS)),
    min_size=2,
    max_size=3,
)


def _pinned(groups: list[list[int]]) -> list[str]:
    """The hidden cells of 1 to 4 cases that every solution keeps inside 1..4."""
    top = {c: sum(g[i] for g in groups) for i, c in enumerate(COLUMNS)}
    rows = [dict(zip(COLUMNS, g, strict=True)) for g in groups]
    found = protect(top, rows)
    size = len(groups) * len(COLUMNS)

    def var(g: int, i: int) -> int:
        return g * len(COLUMNS) + i

    equations: list[tuple[list[int], int]] = []
    for g, row in enumerate(groups):
        equations.append(([var(g, i) for i in range(len(COLUMNS))], sum(row)))  # its total
        for i, c in enumerate(COLUMNS):
            if c not in found.grouped and row[i] >= 5:
                equations.append(([var(g, i)], row[i]))
    for i, c in enumerate(COLUMNS):
        if c not in found.top and top[c] >= 5:
            equations.append(([var(g, i) for g in range(len(groups))], top[c]))
    matrix = np.zeros((len(equations), size))
    for k, (terms, _value) in enumerate(equations):
        matrix[k, terms] = 1
    values = np.array([v for _t, v in equations], dtype=float)
    constraint = LinearConstraint(matrix, values, values)

    def extreme(terms: list[int], sign: int) -> int:
        objective = np.zeros(size)
        objective[terms] = sign
        answer = milp(
            objective,
            constraints=constraint,
            bounds=Bounds(np.zeros(size), np.full(size, 100.0)),
            integrality=np.ones(size),
        )
        assert answer.success
        return round(sign * answer.fun)

    pinned = []
    cells = [
        ([var(g, i)], row[i], f"group {g} {c}")
        for g, row in enumerate(groups)
        for i, c in enumerate(COLUMNS)
        if c in found.grouped or row[i] < 5
    ]
    cells += [
        ([var(g, i) for g in range(len(groups))], top[c], f"top {c}")
        for i, c in enumerate(COLUMNS)
        if c in found.top or top[c] < 5
    ]
    for terms, value, name in cells:
        if 0 < value < 5 and extreme(terms, 1) > 0 and extreme(terms, -1) < 5:
            pinned.append(name)
    return pinned


def test_the_review_s_march_is_hidden_in_both_channels_with_a_partner() -> None:
    """A 17 and B 3 in March: March is hidden in every group row, with a second column."""
    a = {"jan": 8, "mar": 17, "jun": 10}
    b = {"jan": 6, "mar": 3, "jun": 11}
    top = {k: a[k] + b[k] for k in a}

    found = protect(top, [a, b])

    assert found.top == frozenset()
    assert "mar" in found.grouped
    assert len(found.grouped) >= 2
    assert _pinned([[8, 17, 10, 0], [6, 3, 11, 0]]) == []


def test_a_small_cell_without_room_elsewhere_hides_its_column_in_the_top_row() -> None:
    """B's 3 in February: A has 1 case in January, too few to swap, so the top hides both."""
    found = protect({"jan": 10, "feb": 9}, [{"jan": 1, "feb": 6}, {"jan": 9, "feb": 3}])

    assert "feb" in found.top
    assert "jan" in found.top  # its partner, so the year's total does not give it back


@settings(max_examples=40, deadline=None)
@given(TABLES)
def test_no_hidden_small_cell_is_pinned(groups: list[list[int]]) -> None:
    """Any two or three groups over four columns: each small hidden cell can still be 0 or 5+."""
    assert _pinned(groups) == []
