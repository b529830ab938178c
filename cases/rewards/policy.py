"""The reward formula and money parsing: integer minor units throughout, never float.

Tiers are marginal bands, like tax brackets: with 5% up to 100,000, 3% up to 1,000,000
and 1% above, a recovered loss of 300,000 earns 5% of the first 100,000 plus 3% of the
next 200,000. Marginal bands make the suggestion grow steadily with the loss, with no
jump at a tier boundary. The sum is rounded half up to the minor unit once, then the
floor and the cap apply.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from cases.errors import Invalid

MINOR_PER_MAJOR = 100
ABSURD_MINOR = 10**12
BASIS = 10_000


@dataclass(frozen=True)
class Tier:
    up_to_minor: int | None
    rate_bp: int

    def as_json(self) -> dict[str, Any]:
        return {"up_to_minor": self.up_to_minor, "rate_bp": self.rate_bp}


@dataclass(frozen=True)
class Terms:
    """A policy's numbers, independent of where they are stored."""

    tiers: tuple[Tier, ...]
    floor_minor: int
    cap_minor: int
    currency: str
    offer_days: int
    two_approver_threshold_minor: int
    exclude_anonymous: bool = False

    def suggest(self, recovered_loss_minor: int) -> int:
        """The suggested reward for a verified recovered loss."""
        scaled = banded(self.tiers, recovered_loss_minor)
        computed = (scaled + BASIS // 2) // BASIS
        return min(max(computed, self.floor_minor), self.cap_minor)

    def approvals_for(self, amount_minor: int) -> int:
        return 2 if amount_minor > self.two_approver_threshold_minor else 1


def banded(tiers: tuple[Tier, ...], loss_minor: int) -> int:
    """Σ band × rate in minor units × basis points (exact integers)."""
    total, lower = 0, 0
    for tier in tiers:
        upper = loss_minor if tier.up_to_minor is None else min(loss_minor, tier.up_to_minor)
        if upper > lower:
            total += (upper - lower) * tier.rate_bp
        if tier.up_to_minor is None or loss_minor <= tier.up_to_minor:
            break
        lower = tier.up_to_minor
    return total


DEFAULT_TIERS = (
    Tier(100_000 * MINOR_PER_MAJOR, 500),
    Tier(1_000_000 * MINOR_PER_MAJOR, 300),
    Tier(None, 100),
)


def default_terms(offer_days: int = 90) -> Terms:
    """What a channel without its own policy uses; the same numbers migration 0003 seeds."""
    return Terms(
        tiers=DEFAULT_TIERS,
        floor_minor=500 * MINOR_PER_MAJOR,
        cap_minor=200_000 * MINOR_PER_MAJOR,
        currency="CNY",
        offer_days=offer_days,
        two_approver_threshold_minor=50_000 * MINOR_PER_MAJOR,
    )


def tiers_to_json(tiers: tuple[Tier, ...]) -> str:
    return json.dumps([t.as_json() for t in tiers], separators=(",", ":"))


def tiers_from_json(raw: str) -> tuple[Tier, ...]:
    return tuple(Tier(item["up_to_minor"], int(item["rate_bp"])) for item in json.loads(raw))


def parse_amount(text: str, field: str, *, allow_zero: bool = False) -> int:
    """A typed amount in major units ("1,234.56") as integer minor units; refuses nonsense."""
    cleaned = text.strip().replace(",", "").replace(" ", "")
    try:
        value = Decimal(cleaned[:40])
    except InvalidOperation:
        raise Invalid("Enter an amount such as 1234.56.", fields={field: "amount"}) from None
    exponent = value.as_tuple().exponent
    if not value.is_finite() or not isinstance(exponent, int) or exponent < -2:
        raise Invalid("Enter an amount such as 1234.56.", fields={field: "amount"})
    # Compare before converting: int() of 1e999999999 would take the process down.
    if value > Decimal(ABSURD_MINOR) / MINOR_PER_MAJOR:
        raise Invalid("That amount is far too large.", fields={field: "absurd"})
    return checked_minor(int(value * MINOR_PER_MAJOR), field, allow_zero=allow_zero)


def checked_minor(minor: int, field: str, *, allow_zero: bool = False) -> int:
    """Refuses negative, zero (where meaningless) and absurdly large amounts."""
    if minor < 0 or (minor == 0 and not allow_zero):
        raise Invalid("The amount must be more than zero.", fields={field: "not_positive"})
    if minor > ABSURD_MINOR:
        raise Invalid("That amount is far too large.", fields={field: "absurd"})
    return minor


def parse_tiers(text: str) -> tuple[Tier, ...]:
    """Admin form lines "100000 5" (up to 100,000 at 5%) and "* 1" (above, at 1%)."""
    tiers: list[Tier] = []
    for line in (raw.strip() for raw in text.splitlines()):
        if line:
            tiers.append(_tier_line(line))
    check_tiers(tuple(tiers))
    return tuple(tiers)


def _tier_line(line: str) -> Tier:
    parts = line.split()
    if len(parts) != 2:
        raise Invalid(
            "Write each tier as: up-to amount, then rate in percent.", fields={"tiers": "tier"}
        )
    up_to = None if parts[0] == "*" else parse_amount(parts[0], "tiers")
    try:
        rate = Decimal(parts[1].rstrip("%"))
    except InvalidOperation:
        raise Invalid("A rate must be a percentage.", fields={"tiers": "tier"}) from None
    if not rate.is_finite() or rate < 0 or rate > 100:
        raise Invalid("A rate must be between 0 and 100 percent.", fields={"tiers": "tier"})
    return Tier(up_to, int(rate * 100))


def check_tiers(tiers: tuple[Tier, ...]) -> None:
    """Ascending bounds, and only the last tier open-ended."""
    bounds = [t.up_to_minor for t in tiers]
    if not tiers or bounds[-1] is not None or None in bounds[:-1]:
        raise Invalid("The last tier must be open-ended (*).", fields={"tiers": "tier"})
    closed = [b for b in bounds if b is not None]
    if closed != sorted(set(closed)):
        raise Invalid("Tier bounds must rise.", fields={"tiers": "tier"})


def format_minor(minor: int) -> str:
    """Minor units as major with grouping: 1234567 → "12,345.67"."""
    sign = "-" if minor < 0 else ""
    major, cents = divmod(abs(minor), MINOR_PER_MAJOR)
    return f"{sign}{major:,}.{cents:02d}"


def tiers_text(tiers: tuple[Tier, ...]) -> str:
    """The admin form's way of writing tiers, the inverse of parse_tiers."""
    lines = []
    for tier in tiers:
        bound = "*" if tier.up_to_minor is None else format_minor(tier.up_to_minor)
        lines.append(f"{bound.replace(',', '')} {Decimal(tier.rate_bp) / 100}")
    return "\n".join(lines)
