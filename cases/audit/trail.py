"""What auditors read: the audit trail filtered and paged, and its verification.

Auditors read no report content, so nothing here opens a key: the trail holds only clear,
non-content facts (the statistics are in cases/stats/). Admins are refused too: configuring
the portal and checking on the people who use it are separate duties. Every look at the
trail is itself an entry in it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from cases.audit.models import AuditEntry
from cases.audit.service import AuditLog, VerifyResult
from cases.clock import Clock
from cases.errors import Forbidden, Invalid
from cases.principals import StaffPrincipal
from cases.reports.models import Case
from cases.staff.models import Role, StaffAccount

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
FILTER_MAX = 64


@dataclass(frozen=True)
class TrailFilters:
    """Each empty field matches everything; `case` is a case id or its reference."""

    action: str = ""
    actor_id: str = ""
    role: str = ""
    case: str = ""
    since: date | None = None
    until: date | None = None

    def as_detail(self) -> dict[str, str]:
        """The filters as the audit entry of this read records them (clear ids only)."""
        values = {**self.__dict__, "since": _day(self.since), "until": _day(self.until)}
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True)
class TrailRow:
    seq: int
    at: datetime
    actor_kind: str
    actor_id: str | None
    actor_name: str
    actor_roles: tuple[str, ...]
    action: str
    case_id: str | None
    case_reference: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class TrailPage:
    rows: list[TrailRow]
    filters: TrailFilters
    limit: int
    next_before: int | None = None


def require_auditor(principal: StaffPrincipal) -> None:
    if not principal.has_role(Role.AUDITOR):
        raise Forbidden("Only auditors read the audit trail and statistics.")


def parse_day(value: str, name: str) -> date | None:
    """A YYYY-MM-DD filter; empty is None, anything else is Invalid naming the field."""
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid("Write the date as YYYY-MM-DD.", fields={name: "bad_date"}) from None


def check_filters(filters: TrailFilters) -> None:
    errors: dict[str, str] = {}
    for name in ("action", "actor_id", "case"):
        if len(getattr(filters, name)) > FILTER_MAX:
            errors[name] = "too_long"
    if filters.role and filters.role not in {str(r) for r in Role}:
        errors["role"] = "invalid"
    if filters.since and filters.until and filters.since > filters.until:
        errors["until"] = "before_since"
    if errors:
        raise Invalid("Check the filters.", fields=errors)


class AuditTrail:
    def __init__(self, db: Session, clock: Clock, audit: AuditLog, zone: ZoneInfo) -> None:
        self.db = db
        self.clock = clock
        self.audit = audit
        self.zone = zone

    def page(
        self,
        principal: StaffPrincipal,
        filters: TrailFilters,
        before: int | None = None,
        limit: int = PAGE_SIZE,
    ) -> TrailPage:
        """Newest first; the next page starts below the last seq shown (keyset, no offset)."""
        require_auditor(principal)
        check_filters(filters)
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        stmt = select(AuditEntry).where(*self._conditions(filters))
        if before is not None:
            stmt = stmt.where(AuditEntry.seq < before)
        entries = list(self.db.scalars(stmt.order_by(AuditEntry.seq.desc()).limit(limit + 1)))
        shown = entries[:limit]
        following = shown[-1].seq if len(entries) > limit else None
        rows = self._rows(shown)
        self.audit.record(principal.actor, "audit.trail_read", detail=filters.as_detail())
        return TrailPage(rows, filters, limit, following)

    def actions(self) -> list[str]:
        """Every action the trail holds, for the filter's choices."""
        return list(self.db.scalars(select(AuditEntry.action).distinct().order_by("action")))

    def verify(self, principal: StaffPrincipal) -> VerifyResult:
        require_auditor(principal)
        result = self.audit.verify()
        detail = {"ok": result.ok, "checked": result.checked, "first_bad": result.first_bad_seq}
        self.audit.record(principal.actor, "audit.verified", detail=detail)
        return result

    def _conditions(self, filters: TrailFilters) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if filters.action:
            conditions.append(AuditEntry.action == filters.action)
        if filters.actor_id:
            conditions.append(AuditEntry.actor_id == filters.actor_id)
        if filters.role:
            conditions.append(_has_role(filters.role))
        if filters.case:
            conditions.append(AuditEntry.case_id == self._case_id(filters.case))
        if filters.since:
            conditions.append(AuditEntry.at >= self._utc_start(filters.since))
        if filters.until:
            conditions.append(AuditEntry.at < self._utc_start(filters.until + timedelta(days=1)))
        return conditions

    def _case_id(self, id_or_reference: str) -> str:
        wanted = id_or_reference.strip()
        by_reference = select(Case.id).where(Case.reference == wanted.upper())
        return self.db.scalars(by_reference).first() or wanted

    def _utc_start(self, day: date) -> datetime:
        """Midnight of a local day, as the naive UTC the trail stores."""
        local = datetime.combine(day, time(0), tzinfo=self.zone)
        return local.astimezone(UTC).replace(tzinfo=None)

    def _rows(self, entries: list[AuditEntry]) -> list[TrailRow]:
        staff_ids = {e.actor_id for e in entries if e.actor_id}
        case_ids = {e.case_id for e in entries if e.case_id}
        accounts = select(StaffAccount.id, StaffAccount.email).where(StaffAccount.id.in_(staff_ids))
        names = {row.id: row.email for row in self.db.execute(accounts)}
        cases = select(Case.id, Case.reference).where(Case.id.in_(case_ids))
        references = {row.id: row.reference for row in self.db.execute(cases)}
        return [
            TrailRow(
                seq=e.seq,
                at=e.at,
                actor_kind=e.actor_kind,
                actor_id=e.actor_id,
                actor_name=names.get(e.actor_id or "", ""),
                actor_roles=tuple(r for r in e.actor_roles.split(",") if r),
                action=e.action,
                case_id=e.case_id,
                case_reference=references.get(e.case_id or "", ""),
                detail=_detail(e.detail),
            )
            for e in entries
        ]


def _has_role(role: str) -> ColumnElement[bool]:
    # actor_roles is a sorted comma-joined list; match whole names only.
    column = AuditEntry.actor_roles
    return or_(
        column == role,
        column.like(f"{role},%"),
        column.like(f"%,{role}"),
        column.like(f"%,{role},%"),
    )


def _detail(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {"unreadable": True}
    return value if isinstance(value, dict) else {"value": value}


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


__all__ = [
    "AuditTrail",
    "TrailFilters",
    "TrailPage",
    "TrailRow",
    "parse_day",
    "require_auditor",
]
