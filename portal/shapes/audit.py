"""The auditor's JSON: the audit trail and its chain check (statistics: shapes/statistics.py)."""

from __future__ import annotations

from typing import Any

from cases.audit.service import VerifyResult
from cases.audit.trail import TrailPage, TrailRow
from portal.shapes import Answer, iso


class TrailEntry(Answer):
    """One audit entry; ``detail`` holds the action's own fields (never report content)."""

    seq: int
    at: str | None
    actor_kind: str
    actor_id: str | None
    actor_roles: list[str]
    action: str
    case_id: str | None
    case_reference: str | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, row: TrailRow) -> TrailEntry:
        return cls(
            seq=row.seq,
            at=iso(row.at),
            actor_kind=row.actor_kind,
            actor_id=row.actor_id,
            actor_roles=list(row.actor_roles),
            action=row.action,
            case_id=row.case_id,
            case_reference=row.case_reference or None,
            detail=row.detail,
        )


class TrailPageOut(Answer):
    """A page of the trail, newest first; ``next`` is the ``before`` of the next page."""

    items: list[TrailEntry]
    next: str | None

    @classmethod
    def of(cls, page: TrailPage) -> TrailPageOut:
        following = str(page.next_before) if page.next_before is not None else None
        return cls(items=[TrailEntry.of(r) for r in page.rows], next=following)


class VerifyOut(Answer):
    """The chain check: intact and how many entries, or the first broken one and why."""

    intact: bool
    checked: int
    first_bad_seq: int | None
    problem: str | None

    @classmethod
    def of(cls, result: VerifyResult) -> VerifyOut:
        return cls(
            intact=result.ok,
            checked=result.checked,
            first_bad_seq=result.first_bad_seq,
            problem=result.problem or None,
        )
