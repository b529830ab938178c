"""Dismissing reports that arrived during a flood."""

from __future__ import annotations

from pydantic import Field

from portal.shapes import Answer, Shape


class DismissalIn(Shape):
    """The reports to dismiss, all or none."""

    cases: list[str] = Field(description="case ids: each visible, flood-marked and still new")


class Dismissed(Answer):
    """How many reports were closed as not actionable."""

    dismissed: int
