"""JSON shapes of search and bulk work (portal/routes/caselist.py); list items: shapes/staff.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from portal.shapes import Answer, ErrorOut, Shape


class SearchIn(Shape):
    """The words (and/or a reference) to look for; they travel in the body, never a URL."""

    q: str = Field(min_length=1, max_length=200)


class BulkIn(Shape):
    action: Literal["assign", "transition", "dismiss"]
    cases: list[str] = Field(min_length=1, max_length=200)
    staff_id: str = ""  # assign
    status: str = ""  # transition
    reason: str = ""  # transition: one reason for every case
    outcome: str = ""  # transition to concluded


class BulkOut(Answer):
    changed: int


class BulkRefusalOut(ErrorOut):
    """A refused bulk action: nothing changed; ``case`` is the reference of the case that
    refused (or the id sent, for a case the caller may not open) and ``reason`` its refusal."""

    case: str | None = None
    reason: ErrorOut | None = None
