"""The reward formula, money parsing and CSV cell safety, without a database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cases.errors import Invalid
from cases.rewards.policy import default_terms, format_minor, parse_amount, parse_tiers, tiers_text
from cases.spreadsheet import safe_cell

TERMS = default_terms()


@pytest.mark.parametrize(
    ("loss_major", "reward_minor"),
    [
        (0, 50_000),  # the floor
        (10_000, 50_000),  # 5% = 500, exactly the floor
        (100_000, 500_000),  # 5% of 100,000
        (300_000, 1_100_000),  # 5,000 + 3% of 200,000
        (1_000_000, 3_200_000),  # 5,000 + 27,000
        (50_000_000, 20_000_000),  # capped at 200,000
    ],
)
def test_suggestion_by_tier(loss_major: int, reward_minor: int) -> None:
    """Marginal tiers, then floor and cap, give the documented amounts."""

    suggested = TERMS.suggest(loss_major * 100)

    assert suggested == reward_minor


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_suggestion_never_falls_as_loss_grows(loss: int) -> None:
    """One more fen of recovered loss never lowers the suggestion."""

    lower, higher = TERMS.suggest(loss), TERMS.suggest(loss + 1)

    assert lower <= higher


def test_two_approvers_above_threshold() -> None:
    """Above 50,000 CNY two approvers are needed; at it, one."""

    needed = (TERMS.approvals_for(5_000_000), TERMS.approvals_for(5_000_001))

    assert needed == (1, 2)


@pytest.mark.parametrize(
    ("typed", "minor"), [("1,234.56", 123_456), (" 7 ", 700), ("0.01", 1), ("10000000000", 10**12)]
)
def test_parse_amount(typed: str, minor: int) -> None:
    """Typed major units become exact integer minor units."""

    parsed = parse_amount(typed, "amount")

    assert parsed == minor


@pytest.mark.parametrize("typed", ["-1", "0", "1.001", "NaN", "Infinity", "1e999999999", "abc", ""])
def test_parse_amount_refuses(typed: str) -> None:
    """Negative, zero, over-precise, non-finite, absurd and non-numeric amounts are refused."""

    with pytest.raises(Invalid):
        parse_amount(typed, "amount")


def test_tiers_round_trip() -> None:
    """The admin form's tier text parses back to the same tiers."""

    text = tiers_text(TERMS.tiers)

    assert parse_tiers(text) == TERMS.tiers
    assert text.splitlines()[-1] == "* 1"


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_quoted(cell: str) -> None:
    """Text a spreadsheet would run as a formula gets a leading single quote."""

    safe = safe_cell(cell)

    assert safe == "'" + cell


def test_format_minor() -> None:
    """Minor units print as grouped major units with two decimals."""

    shown = format_minor(123_456_789)

    assert shown == "1,234,567.89"
