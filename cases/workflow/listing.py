"""The staff case list: what the access policy lets this person see, filtered, sorted, counted.

Nothing here decrypts: the list shows only what DESIGN.md keeps in clear (status, category,
channel, dates, assignees, flags), so a page of 50 costs a few indexed queries whatever the
case count. The summary column is opened by cases/casework (the viewer's key, audited).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.orm import Session

from cases.access.policy import visible_condition
from cases.access.related import related_ids
from cases.reports.models import Case, CaseAssignee, KeyWrap, Status
from cases.rewards.models import Reward
from cases.staff.models import StaffAccount
from cases.workflow.rules import DUE_SOON_DAYS, is_due_soon, is_overdue

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
PAGE_SIZES = (25, 50, 100, 200)
COUNT_CAP = 1000
DUE_FILTERS = frozenset({"overdue", "due_soon"})
# Reports that arrived during a flood: "only" lists them for triage, "none" sets them apart.
FLOOD_FILTERS = frozenset({"only", "none"})
# "awaiting": cases one reader alone ended as unfounded, waiting for a second reader.
SECOND_FILTERS = frozenset({"awaiting"})
# "none": cases nobody is assigned to.
UNASSIGNED = "none"
SORTS: dict[str, Any] = {
    "deadline": Case.due_on,
    "received": Case.submitted_on,
    "reference": Case.reference,
    "status": Case.status,
}
ORDERS = frozenset({"asc", "desc"})
STATUSES = frozenset(s.value for s in Status)
ID_MAX = 64


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class CaseFilters:
    status: str | None = None
    category_id: str | None = None
    channel_id: str | None = None
    assignee_id: str | None = None
    due: str | None = None  # overdue | due_soon
    flood: str | None = None  # only | none (None: all)
    second: str | None = None  # awaiting (None: all)
    received_from: date | None = None
    received_to: date | None = None
    sort: str = "deadline"  # a key of SORTS
    order: str = "asc"

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> CaseFilters:
        """Filters from query-string values; anything unknown or malformed is dropped."""

        def pick(name: str, allowed: frozenset[str] | None = None) -> str | None:
            value = str(params.get(name) or "")
            if not value or len(value) > ID_MAX or (allowed is not None and value not in allowed):
                return None
            return value

        return cls(
            status=pick("status", STATUSES),
            category_id=pick("category"),
            channel_id=pick("channel"),
            assignee_id=pick("assignee"),
            due=pick("due", DUE_FILTERS),
            flood=pick("flood", FLOOD_FILTERS),
            second=pick("second", SECOND_FILTERS),
            received_from=_day(pick("from")),
            received_to=_day(pick("to")),
            sort=pick("sort", frozenset(SORTS)) or "deadline",
            order=pick("order", ORDERS) or "asc",
        )

    def to_params(self) -> dict[str, str]:
        """The query-string values of these filters (defaults left out): what a view saves."""
        values = {
            "status": self.status,
            "category": self.category_id,
            "channel": self.channel_id,
            "assignee": self.assignee_id,
            "due": self.due,
            "flood": self.flood,
            "second": self.second,
            "from": self.received_from.isoformat() if self.received_from else None,
            "to": self.received_to.isoformat() if self.received_to else None,
            "sort": self.sort if self.sort != "deadline" else None,
            "order": self.order if self.order != "asc" else None,
        }
        return {name: value for name, value in values.items() if value}


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
    related: bool = False  # names someone another case this viewer may see names
    reward: bool = False
    assignee_ids: tuple[str, ...] = ()
    # Ended as unfounded (or dismissed from a flood) by this one reader; a second must agree.
    unconfirmed_by: str | None = None
    unconfirmed_kind: str | None = None  # concluded | flood

    @property
    def awaiting_second_reader(self) -> bool:
        return self.unconfirmed_by is not None


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
    # How many cases this person may see were ended by one reader and await a second.
    second_waiting: int = 0


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
        """One page in the chosen order (the next deadline first by default, cases with none
        last), and the total count."""
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        offset = max(0, offset)
        where = and_(visible_condition(staff), *self.conditions(filters, today))
        stmt = select(Case).where(where).order_by(*_order(filters)).offset(offset).limit(limit)
        rows = self.rows(staff, list(self.db.scalars(stmt)), today)
        total = self._count(where, offset + limit)
        following = offset + limit if offset + limit < total else None
        waiting = self._flood_waiting(staff) if filters.flood == "none" else 0
        second = self._second_waiting(staff) if filters.second is None else 0
        return CasePage(
            rows, total, offset, limit, following, filters, total > COUNT_CAP, waiting, second
        )

    def rows(self, staff: StaffAccount, cases: list[Case], today: date) -> list[CaseRow]:
        """The clear columns of these cases, flags and assignees read in one query each."""
        ids = [case.id for case in cases]
        held = self._held(staff, ids)
        related = related_ids(self.db, staff, ids)
        rewarded = self._rewarded(ids)
        assignees = self._assignees(ids)
        return [
            _row(
                case,
                case.id in held,
                today,
                related=case.id in related,
                reward=case.id in rewarded,
                assignee_ids=tuple(assignees.get(case.id, ())),
            )
            for case in cases
        ]

    def _rewarded(self, case_ids: list[str]) -> set[str]:
        if not case_ids:
            return set()
        return set(self.db.scalars(select(Reward.case_id).where(Reward.case_id.in_(case_ids))))

    def _assignees(self, case_ids: list[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        if not case_ids:
            return found
        stmt = (
            select(CaseAssignee.case_id, CaseAssignee.staff_id)
            .where(CaseAssignee.case_id.in_(case_ids))
            .order_by(CaseAssignee.assigned_at)
        )
        for case_id, staff_id in self.db.execute(stmt):
            found.setdefault(case_id, []).append(staff_id)
        return found

    def _flood_waiting(self, staff: StaffAccount) -> int:
        # Few cases are flood-marked: the status goes through COALESCE so the planner starts
        # from ix_cases_flood_hour, not from every new case (SQLite did; bench/caselist).
        where = and_(
            visible_condition(staff),
            Case.flood_hour.is_not(None),
            func.coalesce(Case.status, "") == Status.NEW.value,
        )
        return self._count(where, 0)

    def _second_waiting(self, staff: StaffAccount) -> int:
        # Few cases wait for a second reader: the planner starts from ix_cases_unconfirmed_by.
        where = and_(visible_condition(staff), Case.unconfirmed_by.is_not(None))
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
    def conditions(filters: CaseFilters, today: date) -> list[ColumnElement[bool]]:
        """The filters as WHERE clauses on Case (all in clear columns)."""
        conditions: list[ColumnElement[bool]] = []
        if filters.status:
            conditions.append(Case.status == filters.status)
        if filters.category_id:
            conditions.append(Case.category_id == filters.category_id)
        if filters.channel_id:
            conditions.append(Case.channel_id == filters.channel_id)
        if filters.assignee_id == UNASSIGNED:
            conditions.append(~exists().where(CaseAssignee.case_id == Case.id))
        elif filters.assignee_id:
            conditions.append(
                exists().where(
                    CaseAssignee.case_id == Case.id, CaseAssignee.staff_id == filters.assignee_id
                )
            )
        if filters.flood == "only":
            conditions.append(Case.flood_hour.is_not(None))
        elif filters.flood == "none":
            # Through COALESCE so no planner walks ix_cases_flood_hour for the NULLs (nearly
            # every case): SQLite did, then sorted them all (10 s at 100,000; bench/caselist).
            conditions.append(func.coalesce(Case.flood_hour, None).is_(None))
        if filters.second == "awaiting":
            conditions.append(Case.unconfirmed_by.is_not(None))
        if filters.due == "overdue":
            conditions.append(Case.due_on < today)
        elif filters.due == "due_soon":
            conditions.append(Case.due_on.between(today, today + timedelta(days=DUE_SOON_DAYS)))
        if filters.received_from:
            conditions.append(Case.submitted_on >= filters.received_from)
        if filters.received_to:
            conditions.append(Case.submitted_on <= filters.received_to)
        return conditions


def _order(filters: CaseFilters) -> list[ColumnElement[Any]]:
    """The chosen column, cases without a value last either way, then the id for a stable page."""
    column = SORTS.get(filters.sort, Case.due_on)
    if filters.order == "desc":
        return [column.desc().nulls_last(), Case.id.desc()]
    return [column.asc().nulls_last(), Case.id.asc()]


def _row(
    case: Case,
    holds: bool,
    today: date,
    *,
    related: bool = False,
    reward: bool = False,
    assignee_ids: tuple[str, ...] = (),
) -> CaseRow:
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
        related=related,
        reward=reward,
        assignee_ids=assignee_ids,
        unconfirmed_by=case.unconfirmed_by,
        unconfirmed_kind=case.unconfirmed_kind,
    )
