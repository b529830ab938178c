"""JSON shapes of the case list, search and bulk work (portal/routes/caselist.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from portal.shapes import Shape


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


class BulkOut(BaseModel):
    changed: int


class CaseItemOut(BaseModel):
    id: str
    reference: str
    status: str
    outcome: str | None
    category: str
    channel: str
    submitted_on: str
    acknowledge_by: str
    feedback_by: str
    due_on: str | None
    overdue: bool
    due_soon: bool
    awaiting_access: bool
    flood: bool
    related: bool
    reward: bool
    assignees: list[str]
    summary: str | None


class CasePageOut(BaseModel):
    items: list[CaseItemOut]
    total: int
    next: str | None


class SearchOut(CasePageOut):
    searched: int
    cut: bool
    window: int
