"""The staff case list: what the access policy lets this person see, filtered, sorted, counted.

Nothing here decrypts: the list shows only what DESIGN.md keeps in clear (status, category,
channel, dates), so a page of 50 costs two indexed queries whatever the case count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.orm import Session

from cases.access.policy import visible_condition
from cases.reports.models import Case, CaseAssignee, KeyWrap, Status
from cases.staff.models import StaffAccount
from cases.workflow.rules import DUE_SOON_DAYS, is_due_soon, is_overdue

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
COUNT_CAP = 1000
DUE_FILTERS = frozenset({"overdue", "due_soon"})
# Reports that arrived during a flood: "only" lists them for triage, "none" sets them apart.
FLOOD_FILTERS = frozenset({"only", "none"})


@dataclass(frozen=True)
class CaseFilters:
    status: str | None = None
    category_id: str | None = None
    channel_id: str | None = None
    assignee_id: str | None = None
    due: str | None = None  # overdue | due_soon
    flood: str | None = None  # only | none (None: all)


@dataclass(frozen=True)
class CaseRow:
    id: str
    reference: str
    status: str
    outcome: str | None
    category_id: str
    channel_id: str
    intake: str
    submitted_on: date
    acknowledge_by: date
    feedback_by: date
    due_on: date | None
    awaiting_access: bool
    overdue: bool
    due_soon: bool
    flood: bool = False


@dataclass(frozen=True)
class CasePage:
    rows: list[CaseRow]
    total: int
    offset: int
    limit: int
    next_offset: int | None = None
    filters: CaseFilters = field(default_factory=CaseFilters)
    more: bool = False  # total stopped at COUNT_CAP: show "more than"
    # With flood-marked reports set apart: how many new ones wait in their own list.
    flood_waiting: int = 0


class CaseList:
    def __init__(self, db: Session) -> None:
        self.db = db

    def page(
        self,
        staff: StaffAccount,
        today: date,
        filters: CaseFilters,
        *,
        offset: int = 0,
        limit: int = PAGE_SIZE,
    ) -> CasePage:
        """One page sorted by the next deadline (cases with none last), and the total count."""
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        offset = max(0, offset)
        where = and_(visible_condition(staff), *self._conditions(filters, today))
        stmt = (
            select(Case)
            .where(where)
            .order_by(Case.due_on.asc().nulls_last(), Case.id)
            .offset(offset)
            .limit(limit)
        )
        cases = list(self.db.scalars(stmt))
        held = self._held(staff, [case.id for case in cases])
        rows = [_row(case, case.id in held, today) for case in cases]
        total = self._count(where, offset + limit)
        following = offset + limit if offset + limit < total else None
        waiting = self._flood_waiting(staff) if filters.flood == "none" else 0
        return CasePage(rows, total, offset, limit, following, filters, total > COUNT_CAP, waiting)

    def _flood_waiting(self, staff: StaffAccount) -> int:
        where = and_(
            visible_condition(staff), Case.flood_hour.is_not(None), Case.status == Status.NEW
        )
        return self._count(where, 0)

    def _held(self, staff: StaffAccount, case_ids: list[str]) -> set[str]:
        """Which of this page's cases the viewer holds the key to (else: awaiting access).

        Asked for the page's ids only: as a column of the main query PostgreSQL would hash
        every key the viewer holds, once more per page.
        """
        if not case_ids:
            return set()
        stmt = select(KeyWrap.case_id).where(
            KeyWrap.staff_id == staff.id, KeyWrap.key_kind == "case", KeyWrap.case_id.in_(case_ids)
        )
        return set(self.db.scalars(stmt))

    def _count(self, where: ColumnElement[bool], reach: int) -> int:
        """Exact up to COUNT_CAP (or as far as the page reaches), "more than" beyond it.

        Each candidate row costs a few index probes for the access policy, so an exact
        count of 100,000 visible cases would dominate the page; nobody pages that far.
        """
        cap = max(COUNT_CAP, reach) + 1
        capped = select(Case.id).where(where).limit(cap).subquery()
        return min(int(self.db.scalar(select(func.count()).select_from(capped)) or 0), cap)

    def count(self, staff: StaffAccount) -> int:
        stmt = select(func.count()).select_from(Case).where(visible_condition(staff))
        return int(self.db.scalar(stmt) or 0)

    @staticmethod
    def _conditions(filters: CaseFilters, today: date) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if filters.status:
            conditions.append(Case.status == filters.status)
        if filters.category_id:
            conditions.append(Case.category_id == filters.category_id)
        if filters.channel_id:
            conditions.append(Case.channel_id == filters.channel_id)
        if filters.assignee_id:
            conditions.append(
                exists().where(
                    CaseAssignee.case_id == Case.id, CaseAssignee.staff_id == filters.assignee_id
                )
            )
        if filters.flood == "only":
            conditions.append(Case.flood_hour.is_not(None))
        elif filters.flood == "none":
            conditions.append(Case.flood_hour.is_(None))
        if filters.due == "overdue":
            conditions.append(Case.due_on < today)
        elif filters.due == "due_soon":
            conditions.append(Case.due_on.between(today, today + timedelta(days=DUE_SOON_DAYS)))
        return conditions


def _row(case: Case, holds: bool, today: date) -> CaseRow:
    return CaseRow(
        id=case.id,
        reference=case.reference,
        status=case.status,
        outcome=case.outcome,
        category_id=case.category_id,
        channel_id=case.channel_id,
        intake=case.intake,
        submitted_on=case.submitted_on,
        acknowledge_by=case.acknowledge_by,
        feedback_by=case.feedback_by,
        due_on=case.due_on,
        awaiting_access=not holds,
        overdue=is_overdue(case.due_on, today),
        due_soon=is_due_soon(case.due_on, today),
        flood=case.flood_hour is not None,
    )
