"""JSON shapes of legal holds (cases/retention)."""

from __future__ import annotations

from pydantic import Field

from portal.shapes import Shape

REASON = Field(default="", max_length=2000, description="Why the case must be kept (no names)")


class HoldIn(Shape):
    """Put a case on legal hold; the reason is required (an empty one is 422, after roles)."""

    reason: str = REASON


class AdminHoldIn(Shape):
    """An admin names the case by its reference."""

    reference: str = Field(default="", max_length=32)
    reason: str = REASON


class AdminReleaseIn(Shape):
    reference: str = Field(default="", max_length=32)


class HoldOut(Shape):
    """A case's retention state: held (with why and since when) or when it will be deleted."""

    reference: str
    held: bool
    reason: str | None
    held_since: str | None
    retention_months: int
    deletes_on: str | None


class HoldList(Shape):
    items: list[HoldOut]
