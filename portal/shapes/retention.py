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


RELEASE_REASON = Field(
    default="", max_length=2000, description="Why the hold may end (optional; no names)"
)


class ReleaseIn(Shape):
    """Propose to end a case's hold: a second person must approve (the body may be omitted)."""

    reason: str = RELEASE_REASON


class AdminReleaseIn(Shape):
    """An admin names the case by its reference; `reason` only when proposing."""

    reference: str = Field(default="", max_length=32)
    reason: str = RELEASE_REASON


class ReleaseOut(Shape):
    """A proposal to end the hold, waiting for a second person until `expires_at`."""

    reason: str | None
    proposed_by: str = Field(description="The proposer's staff id")
    proposed_at: str
    expires_at: str


class HoldOut(Shape):
    """A case's retention state: held (with why and since when) or when it will be deleted."""

    reference: str
    held: bool
    reason: str | None
    held_since: str | None
    retention_months: int
    deletes_on: str | None
    release: ReleaseOut | None = Field(
        default=None, description="A proposed end of the hold awaiting a second person"
    )


class HoldList(Shape):
    items: list[HoldOut]
