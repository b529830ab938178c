"""The statistics answer: counts, rates and durations of cases, from clear columns only.

Nothing here opens a key or reads a sealed column: every figure comes from the clear
metadata DESIGN.md keeps (channel, category, kind, status, outcome, the submission day,
deadlines, the days of acknowledgement and conclusion) and from rewards' clear amounts. A
case deleted under retention keeps those columns, so it still counts; no query filters it
out. Every figure passes the suppression rule of cases/stats/suppression.py, cut from one
pattern per table for the whole data set (cases/stats/patterns.py) so that answers cannot be
subtracted from each other, and a filter that would single out fewer than THRESHOLD cases,
or a channel or category the answer without it hides, is refused (docs/statistics.md).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from cases.audit.service import AuditLog
from cases.clock import Clock, local_day
from cases.errors import Invalid
from cases.org.models import Category, Channel
from cases.principals import StaffPrincipal
from cases.reports.models import Case, Outcome, Status
from cases.rewards.models import Reward, RewardPayment, RewardStatus
from cases.staff.roles import STATISTICS_ROLES, require_roles
from cases.stats.models import StatsVersion
from cases.stats.patterns import Pattern, pattern
from cases.stats.sql import days_between, month_of
from cases.stats.suppression import (
    HIDDEN,
    THRESHOLD,
    Figure,
    chain,
    count,
    percentile,
    rate,
    suppress_table,
)

OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.INVESTIGATING)
SUBSTANTIATED = (Outcome.SUBSTANTIATED, Outcome.PARTIALLY_SUBSTANTIATED)
OUTCOMES = (*(str(o) for o in Outcome), "none")
KINDS = ("report", "retaliation")
# Open cases by days since submission: (key, first day, last day or None).
AGE_BUCKETS = (
    ("0-7", 0, 7),
    ("8-30", 8, 30),
    ("31-90", 31, 90),
    ("91-365", 91, 365),
    ("366+", 366, None),
)
REWARD_STAGES = ("offered", "accepted", "paid")
ACCEPTED = (RewardStatus.ACCEPTED, RewardStatus.PAID)
FIRST_YEAR, LAST_YEAR = 2000, 2100
ID_MAX = 64
# SQLite's planner prefers a narrower index for a filtered scan and then reads the table row
# by row; the covering indexes (migration 0013_statistics) answer from the index alone.
DAYS_INDEX = "INDEXED BY ix_cases_stats_days"
GROUPS_INDEX = "INDEXED BY ix_cases_stats_groups"
TOO_FEW = "These filters would narrow the statistics to fewer than 5 cases: widen them."


@dataclass(frozen=True)
class StatsFilters:
    """Whole calendar years (a range), a channel and a category; empty matches everything.

    Years, not days or months: two answers whose ranges differ by a month would differ by
    that month's count, however small (docs/statistics.md, "Differencing").
    """

    from_year: int | None = None
    to_year: int | None = None
    channel: str = ""
    category: str = ""

    @property
    def narrowed(self) -> bool:
        return bool(self.from_year or self.to_year or self.channel or self.category)

    def without(self, dimension: str) -> StatsFilters:
        if dimension == "years":
            return replace(self, from_year=None, to_year=None)
        if dimension == "channel":
            return replace(self, channel="")
        return replace(self, category="")

    def dimensions(self) -> list[str]:
        present = ["years"] if self.from_year or self.to_year else []
        return present + [d for d in ("channel", "category") if getattr(self, d)]

    def as_detail(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v}


def parse_filters(
    year: str = "", from_year: str = "", to_year: str = "", channel: str = "", category: str = ""
) -> StatsFilters:
    """The filters of a query string; `year` is a one-year range. Invalid names each bad field."""
    errors: dict[str, str] = {}
    if year.strip():
        from_year = to_year = year
    first, last = _year(from_year, "from", errors), _year(to_year, "to", errors)
    if first and last and first > last:
        errors["to"] = "before_from"
    for name, value in (("channel", channel), ("category", category)):
        if len(value.strip()) > ID_MAX:
            errors[name] = "too_long"
    if errors:
        raise Invalid("Check the filters.", fields=errors)
    return StatsFilters(first, last, channel.strip(), category.strip())


def _year(raw: str, name: str, errors: dict[str, str]) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not (raw.isdigit() and FIRST_YEAR <= int(raw) <= LAST_YEAR):
        errors[name] = "bad_year"
        return None
    return int(raw)


@dataclass(frozen=True)
class Row:
    key: str
    figure: Figure


@dataclass(frozen=True)
class MonthRow:
    month: str
    reports: Figure
    acknowledged_in_time: Figure
    feedback_in_time: Figure


@dataclass(frozen=True)
class Duration:
    """Days from submission to an event: how many cases it covers, the median, the 90th."""

    cases: Figure
    median_days: Figure
    p90_days: Figure


@dataclass(frozen=True)
class RewardRow:
    currency: str
    stage: str
    rewards: Figure
    amount_minor: Figure


@dataclass(frozen=True)
class Statistics:
    filters: StatsFilters
    today: date
    total: Figure
    per_month: list[MonthRow]
    per_channel: list[Row]
    per_category: list[Row]
    per_outcome: list[Row]
    per_kind: list[Row]
    open_by_age: list[Row]
    acknowledged_in_time: Figure
    feedback_in_time: Figure
    time_to_acknowledge: Duration
    time_to_close: Duration
    substantiated_rate: Figure
    retaliation_complaints: Figure
    rewards: list[RewardRow]

    @property
    def last_month(self) -> str:
        """The last month the figures count ("2026-02"): they stop at the end of it."""
        return (counted_until(self.today) - timedelta(days=1)).strftime("%Y-%m")


@dataclass
class _Day:
    """One submission day's counts (what the per-day query returns)."""

    cases: int = 0
    ack_met: int = 0
    ack_due: int = 0
    feedback_met: int = 0
    feedback_due: int = 0
    open: int = 0

    def add(self, other: _Day) -> None:
        for name, value in other.__dict__.items():
            setattr(self, name, getattr(self, name) + value)


# Wholes kept per process, by stats_version token and cut-off (tests and tools may use several
# databases in one process; the newest few are enough). A Whole is read-only once built.
KEPT_WHOLES = 4
_KEPT: dict[tuple[str, date], Whole] = {}
_KEPT_LOCK = threading.Lock()
_STATS_TOKEN = select(StatsVersion.token).where(StatsVersion.id == 1)


def forget_kept() -> None:
    """Drop every kept cube: the next answer builds its own (benchmarks time that one)."""
    with _KEPT_LOCK:
        _KEPT.clear()


class StatisticsService:
    def __init__(self, db: Session, clock: Clock, audit: AuditLog, zone: ZoneInfo) -> None:
        self.db = db
        self.clock = clock
        self.audit = audit
        self.zone = zone

    def answer(self, principal: StaffPrincipal, filters: StatsFilters) -> Statistics:
        """Every figure for these filters, suppressed; refused when the filters single out few."""
        require_roles(principal, STATISTICS_ROLES)
        today = self.today()
        days = self._days(filters, today)
        self._check_base(filters, days)
        whole = self._whole(today)
        whole.check(filters)
        stats = self._build(filters, today, days, whole)
        self.audit.record(principal.actor, "audit.statistics_read", detail=filters.as_detail())
        return stats

    def today(self) -> date:
        return local_day(self.clock.now(), self.zone)

    def names(self, locale: str) -> dict[str, str]:
        """Channel and category names by id, inactive ones included: old cases still count."""
        named = {row.id: row.name(locale) for row in self.db.scalars(select(Channel))}
        named.update({row.id: row.name(locale) for row in self.db.scalars(select(Category))})
        return named

    def channels(self, locale: str) -> list[tuple[str, str, list[tuple[str, str]]]]:
        """The filter's choices: (id, name, [(category id, name)]) of every channel."""
        return [
            (c.id, c.name(locale), [(k.id, k.name(locale)) for k in c.categories])
            for c in self.db.scalars(select(Channel).order_by(Channel.id))
        ]

    # --- the refusals --------------------------------------------------------------------

    def _check_base(self, filters: StatsFilters, days: Mapping[date, _Day]) -> None:
        """Refuse a narrowed base under THRESHOLD, or one whose complement is a small group."""
        if not filters.narrowed:
            return
        total = sum(d.cases for d in days.values())
        small = total < THRESHOLD
        for dimension in filters.dimensions():
            small = small or 0 < self._count(filters.without(dimension)) - total < THRESHOLD
        years = Counter[int]()
        for day, counts in days.items():
            years[day.year] += counts.cases
        small = small or any(0 < n < THRESHOLD for n in years.values())
        if small:
            raise Invalid(TOO_FEW, fields={"filters": "too_few"}, code="too_few")

    # --- the queries (clear columns only) ---------------------------------------------------

    def _where(self, filters: StatsFilters) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [_counted(self.today())]
        if filters.from_year:
            where.append(Case.submitted_on >= date(filters.from_year, 1, 1))
        if filters.to_year:
            where.append(Case.submitted_on < date(filters.to_year + 1, 1, 1))
        if filters.channel:
            where.append(Case.channel_id == filters.channel)
        if filters.category:
            where.append(Case.category_id == filters.category)
        return where

    def _count(self, filters: StatsFilters) -> int:
        stmt = select(func.count()).select_from(Case).where(*self._where(filters))
        return int(self.db.scalar(stmt) or 0)

    def _days(self, filters: StatsFilters, today: date) -> dict[date, _Day]:
        acknowledged, concluded = Case.acknowledged_on, Case.concluded_on
        # A deadline is past when it fell before the cut-off: one passing today moves no rate.
        cutoff = counted_until(today)
        stmt = (
            select(
                Case.submitted_on,
                func.count(),
                _sum(and_(acknowledged.is_not(None), acknowledged <= Case.acknowledge_by)),
                _sum(or_(acknowledged.is_not(None), Case.acknowledge_by < cutoff)),
                _sum(and_(concluded.is_not(None), concluded <= Case.feedback_by)),
                _sum(or_(concluded.is_not(None), Case.feedback_by < cutoff)),
                _sum(Case.status.in_([str(s) for s in OPEN_STATUSES])),
            )
            .where(*self._where(filters))
            .group_by(Case.submitted_on)
            .with_hint(Case, DAYS_INDEX, "sqlite")
        )
        return {row[0]: _Day(*(int(v or 0) for v in row[1:])) for row in self.db.execute(stmt)}

    def _whole(self, today: date) -> Whole:
        """The whole data set's cube and patterns, kept in this process while the database's
        stats_version token (moved by triggers on every change that matters, migration
        0021) and the cut-off (the month) are those it was built under."""
        token = self.db.execute(_STATS_TOKEN).scalar()
        key = (str(token), counted_until(today))
        if token is not None:
            with _KEPT_LOCK:
                kept = _KEPT.get(key)
            if kept is not None:
                return kept
        built = self._build_whole(today)
        if token is not None:
            with _KEPT_LOCK:
                while len(_KEPT) >= KEPT_WHOLES:
                    _KEPT.pop(next(iter(_KEPT)))
                _KEPT[key] = built
        return built

    def _build_whole(self, today: date) -> Whole:
        """The whole data set's one-way counts by month and group: what the patterns read."""
        dialect = self.db.get_bind().dialect.name
        month = month_of(Case.submitted_on, dialect)
        columns = (month, Case.channel_id, Case.category_id, Case.outcome, Case.kind)
        stmt = (
            select(*columns, func.count())
            .where(_counted(today))
            .group_by(*columns)
            .with_hint(Case, GROUPS_INDEX, "sqlite")
        )
        rows = [
            _Cell(int(m[:4]), str(m), ch, cat, out or "none", kind, int(n))
            for m, ch, cat, out, kind, n in self.db.execute(stmt)
        ]
        age = _age_bucket(Case.submitted_on, counted_until(today) - timedelta(days=1))
        grouping = (month, Case.channel_id, Case.category_id, age)
        opened = (
            select(*grouping, func.count())
            .where(Case.status.in_([str(s) for s in OPEN_STATUSES]), _counted(today))
            .group_by(*grouping)
            .with_hint(Case, DAYS_INDEX, "sqlite")
        )
        ages = [
            _Cell(int(m[:4]), str(m), ch, cat, str(bucket), "", int(n))
            for m, ch, cat, bucket, n in self.db.execute(opened)
        ]
        channel_of = {c.id: c.channel_id for c in self.db.scalars(select(Category))}
        channels = list(self.db.scalars(select(Channel.id).order_by(Channel.id)))
        return Whole(rows, ages, channel_of, channels, counted_until(today) - timedelta(days=1))

    def _lags(self, filters: StatsFilters) -> tuple[dict[int, int], dict[int, int]]:
        """Days from submission to acknowledgement and to conclusion, as {days: cases} each.

        One scan for both: grouped by the pair, which has few distinct values.
        """
        dialect = self.db.get_bind().dialect.name
        to_ack = days_between(Case.acknowledged_on, Case.submitted_on, dialect)
        to_close = days_between(Case.concluded_on, Case.submitted_on, dialect)
        stmt = (
            select(to_ack, to_close, func.count())
            .where(or_(Case.acknowledged_on.is_not(None), Case.concluded_on.is_not(None)))
            .where(*self._where(filters))
            .group_by(to_ack, to_close)
            .with_hint(Case, DAYS_INDEX, "sqlite")
        )
        acknowledge: Counter[int] = Counter()
        close: Counter[int] = Counter()
        for ack_days, close_days, n in self.db.execute(stmt):
            if ack_days is not None:
                acknowledge[int(ack_days)] += int(n)
            if close_days is not None:
                close[int(close_days)] += int(n)
        return dict(acknowledge), dict(close)

    def _rewards(self) -> dict[int, dict[str, dict[str, tuple[int, int]]]]:
        """{year: {currency: {stage: (rewards, amount in minor units)}}} by the case's year.

        Over the whole data set: an answer sums its years, and hides what any of them hides.
        """
        dialect = self.db.get_bind().dialect.name
        month = month_of(Case.submitted_on, dialect)
        totals: dict[int, dict[str, dict[str, list[int]]]] = {}

        def add(when: str, currency: str, stage: str, n: int, amount: int) -> None:
            year = totals.setdefault(int(when[:4]), {})
            stages = year.setdefault(currency, {s: [0, 0] for s in REWARD_STAGES})
            stages[stage][0] += n
            stages[stage][1] += amount

        offered = Reward.offered_on.is_not(None)
        accepted = Reward.status.in_([str(s) for s in ACCEPTED])
        stmt = (
            select(month, Reward.currency, accepted, func.count(), func.sum(Reward.amount_minor))
            .join(Case, Case.id == Reward.case_id)
            .where(offered, _counted(self.today()))
            .group_by(month, Reward.currency, accepted)
        )
        for when, currency, was_accepted, n, amount in self.db.execute(stmt):
            add(when, currency, "offered", int(n), int(amount or 0))
            if was_accepted:
                add(when, currency, "accepted", int(n), int(amount or 0))
        paid = (
            select(
                month,
                RewardPayment.currency,
                func.count(),
                func.sum(RewardPayment.amount_minor),
            )
            .join(Reward, Reward.id == RewardPayment.reward_id)
            .join(Case, Case.id == Reward.case_id)
            .where(_counted(self.today()))
            .group_by(month, RewardPayment.currency)
        )
        for when, currency, n, amount in self.db.execute(paid):
            add(when, currency, "paid", int(n), int(amount or 0))
        return {
            y: {c: {s: (v[0], v[1]) for s, v in st.items()} for c, st in sorted(cs.items())}
            for y, cs in totals.items()
        }

    # --- the figures -----------------------------------------------------------------------

    def _build(
        self, filters: StatsFilters, today: date, days: Mapping[date, _Day], whole: Whole
    ) -> Statistics:
        all_days = _Day()
        for counts in days.values():
            all_days.add(counts)
        outcomes = whole.counts(filters, "outcome")
        decided = sum(n for key, n in outcomes.items() if key != "none")
        per_kind = whole.table(filters, "kind")
        per_outcome = whole.table(filters, "outcome")
        total = count(all_days.cases)
        to_acknowledge, to_close = self._lags(filters)
        # The counts behind the durations are not cut through the cube's pattern: an answer
        # narrowed by anything hides them (docs/statistics.md).
        narrowed = filters.narrowed
        # A rate, a median or a count of the concluded cases says something about the outcome
        # cells it is made of: it is shown only when those cells' sums can already be read off
        # the answer's shown outcomes and total ("Rates and medians", docs/statistics.md).
        substantiated = [str(o) for o in SUBSTANTIATED]
        concluded = [key for key in OUTCOMES if key != "none"]
        rate_known = known(per_outcome, substantiated, total) and known(
            per_outcome, concluded, total
        )
        close_known = known(per_outcome, concluded, total)
        return Statistics(
            filters=filters,
            today=today,
            total=total,
            per_month=whole.months(filters, days),
            per_channel=_rows(whole.groups(filters, "channel")),
            per_category=_rows(whole.groups(filters, "category")),
            per_outcome=_rows(per_outcome),
            per_kind=_rows(per_kind),
            open_by_age=_rows(whole.table(filters, "age")),
            acknowledged_in_time=rate(all_days.ack_met, all_days.ack_due),
            feedback_in_time=rate(all_days.feedback_met, all_days.feedback_due),
            time_to_acknowledge=_duration(to_acknowledge, narrowed),
            time_to_close=_duration(to_close, narrowed, close_known),
            substantiated_rate=(
                rate(sum(outcomes[k] for k in substantiated), decided) if rate_known else HIDDEN
            ),
            retaliation_complaints=per_kind["retaliation"],
            rewards=_reward_rows(self._rewards(), filters),
        )


def _sum(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _rows(figures: Mapping[str, Figure]) -> list[Row]:
    return [Row(key, figure) for key, figure in figures.items()]


def _age_bucket(day: Any, last_day: date) -> Any:
    """The AGE_BUCKETS key of a submission day on `last_day`, the last day counted (the end of
    last month), in SQL: a case's age moves only when the cut-off does."""
    whens = [(day >= last_day - timedelta(days=last), key) for key, _f, last in AGE_BUCKETS if last]
    return case(*whens, else_=AGE_BUCKETS[-1][0])


@dataclass(frozen=True)
class _Cell:
    """Cases of one month, channel, category, value (outcome or age) and kind."""

    year: int
    month: str
    channel: str
    category: str
    value: str  # outcome ("none" if not concluded); age bucket for open cases
    kind: str
    n: int


Group = tuple[str, str] | None  # ("channel", id), ("category", id); None: the top row
TABLE_KEYS = {"outcome": OUTCOMES, "kind": KINDS, "age": tuple(k for k, _f, _l in AGE_BUCKETS)}


class Whole:
    """The whole data set's counts and each table's pattern (cases/stats/patterns.py).

    An answer takes its cells from here: its own counts, hidden where the pattern of its years
    hides them (for its group row when it is filtered by channel or category), or under 5.
    """

    def __init__(
        self,
        cells: list[_Cell],
        open_cells: list[_Cell],
        channel_of: dict[str, str],
        channels: list[str],
        last_day: date,
    ) -> None:
        self.cells = cells
        self.open_cells = open_cells
        self.channel_of = channel_of
        self.channels = channels
        self.last_day = last_day
        self.years = sorted({c.year for c in cells})
        self.last_month: dict[int, int] = {}
        for cell in cells:
            month = int(cell.month[5:])
            if month > self.last_month.get(cell.year, 0):
                self.last_month[cell.year] = month
        self.cubes = {name: self._cube(name) for name in ("month", "outcome", "kind", "age")}
        self.patterns: dict[str, Pattern[str]] = {
            name: pattern(cube, self._columns(name, cube)) for name, cube in self.cubes.items()
        }
        self.per_category: dict[int, dict[str, int]] = {}
        self.per_channel: dict[int, dict[str, int]] = {}
        self.group_hidden = self._group_hidden()

    # --- what each table counts -----------------------------------------------------------

    def _months_of(self, year: int) -> list[str]:
        """January to December, or to the last month counted in its year (or the last month
        with cases, should a case be dated later than that)."""
        last = self.last_day.month if year == self.last_day.year else 12
        last = max(last, self.last_month.get(year, 0))
        return [f"{year:04d}-{m:02d}" for m in range(1, last + 1)]

    def _columns(self, name: str, cube: Mapping[int, object]) -> dict[int, list[str]]:
        if name == "month":
            return {y: self._months_of(y) for y in cube}
        return {y: list(TABLE_KEYS[name]) for y in cube}

    def _cube(self, name: str) -> dict[int, dict[Group, dict[str, int]]]:
        """{year: {group: {column: cases}}}: the top row under None, each channel, category."""
        cube: dict[int, dict[Group, dict[str, int]]] = {}
        column = name if name in ("month", "kind") else "value"
        for cell in self.open_cells if name == "age" else self.cells:
            key = str(getattr(cell, column))
            rows = cube.setdefault(cell.year, {})
            for group in (None, ("channel", cell.channel), ("category", cell.category)):
                row = rows.setdefault(group, {})
                row[key] = row.get(key, 0) + cell.n
        return cube

    # --- an answer's cells ------------------------------------------------------------------

    def _years(self, filters: StatsFilters) -> list[int]:
        first, last = filters.from_year or 0, filters.to_year or 9999
        return [y for y in self.years if first <= y <= last]

    def _group(self, filters: StatsFilters) -> Group:
        if filters.category:
            return ("category", filters.category)
        return ("channel", filters.channel) if filters.channel else None

    def _empty(self, filters: StatsFilters) -> bool:
        """A category of another channel than the one asked for: nothing matches."""
        owner = self.channel_of.get(filters.category)
        return bool(filters.channel and filters.category and owner != filters.channel)

    def counts(self, filters: StatsFilters, name: str) -> dict[str, int]:
        found = dict.fromkeys(TABLE_KEYS.get(name, ()), 0)
        if self._empty(filters):
            return found
        group = self._group(filters)
        for year in self._years(filters):
            for key, n in self.cubes[name].get(year, {}).get(group, {}).items():
                found[key] = found.get(key, 0) + n
        return found

    def table(self, filters: StatsFilters, name: str) -> dict[str, Figure]:
        """One table of the answer: outcomes, kinds or ages of open cases."""
        grouped = bool(filters.channel or filters.category)
        hidden = self.patterns[name].hidden(self._years(filters), grouped)
        return {
            key: HIDDEN if key in hidden or n < THRESHOLD else Figure(n)
            for key, n in self.counts(filters, name).items()
        }

    def months(self, filters: StatsFilters, days: Mapping[date, _Day]) -> list[MonthRow]:
        """Every month of the answer's years (zeros too: a missing month would say 0)."""
        grouped = bool(filters.channel or filters.category)
        counts = self.counts(filters, "month")
        per_month: dict[str, _Day] = {}
        for day, found in days.items():
            per_month.setdefault(day.strftime("%Y-%m"), _Day()).add(found)
        rows = []
        for year in self._years(filters):
            hidden = self.patterns["month"].hidden([year], grouped)
            for month in self._months_of(year):
                n = counts.get(month, 0)
                if month in hidden or n < THRESHOLD:
                    rows.append(MonthRow(month, HIDDEN, HIDDEN, HIDDEN))
                    continue
                d = per_month.get(month, _Day())
                rows.append(
                    MonthRow(
                        month,
                        Figure(n),
                        rate(d.ack_met, d.ack_due),
                        rate(d.feedback_met, d.feedback_due),
                    )
                )
        return rows

    # --- the channels and categories: the bases of the filtered answers --------------------

    def _group_hidden(self) -> dict[int, set[str]]:
        """Per year, the channels and categories the top row's two tables hide.

        Categories are suppressed within their channel too, since the channel's count is shown.
        """
        for cell in self.cells:
            if cell.year not in self.per_category:
                self.per_category[cell.year] = dict.fromkeys(self.channel_of, 0)
                self.per_channel[cell.year] = dict.fromkeys(self.channels, 0)
            categories, channels = self.per_category[cell.year], self.per_channel[cell.year]
            categories[cell.category] = categories.get(cell.category, 0) + cell.n
            channels[cell.channel] = channels.get(cell.channel, 0) + cell.n
        hidden: dict[int, set[str]] = {}
        for year, categories in self.per_category.items():
            found = suppress_table(categories, dict(self.channel_of))
            found |= suppress_table(self.per_channel[year])
            held = categories | self.per_channel[year]
            hidden[year] = {k for k, f in found.items() if f.suppressed and held[k] > 0}
        return hidden

    def groups(self, filters: StatsFilters, dimension: str) -> dict[str, Figure]:
        """The channels or categories table: every one the answer's base may hold, zeros too."""
        years = self._years(filters)
        counts: dict[str, int] = {}
        if dimension == "channel":
            keys = [c for c in self.channels if not filters.channel or c == filters.channel]
            if filters.category:
                keys = [c for c in keys if self.channel_of.get(filters.category) == c]
            for key in keys:
                if filters.category:
                    counts[key] = sum(self.per_category[y].get(filters.category, 0) for y in years)
                else:
                    counts[key] = sum(self.per_channel[y].get(key, 0) for y in years)
        else:
            keys = [
                k
                for k, channel in self.channel_of.items()
                if (not filters.channel or channel == filters.channel)
                and (not filters.category or k == filters.category)
            ]
            for key in keys:
                counts[key] = sum(self.per_category[y].get(key, 0) for y in years)
        hidden: set[str] = set()
        for year in years:
            hidden |= self.group_hidden.get(year, set())
        return {
            k: HIDDEN if k in hidden or counts[k] < THRESHOLD else Figure(counts[k])
            for k in sorted(keys, key=lambda k: (-counts[k], k))
        }

    def check(self, filters: StatsFilters) -> None:
        """Refuse a channel or category the answer without that filter hides for these years."""
        hidden: set[str] = set()
        for year in self._years(filters):
            hidden |= self.group_hidden.get(year, set())
        if (filters.channel and filters.channel in hidden) or (
            filters.category and filters.category in hidden
        ):
            raise Invalid(TOO_FEW, fields={"filters": "too_few"}, code="too_few")


def _duration(histogram: Mapping[int, int], narrowed: bool, base_known: bool = True) -> Duration:
    """The durations of the cases in `histogram`; all hidden when `base_known` is false (how
    many cases they cover is a hidden sum of the answer's outcome cells: whether a median or a
    90th percentile is shown would say whether it holds 5 or 10 cases)."""
    if not base_known:
        return Duration(HIDDEN, HIDDEN, HIDDEN)
    cases = HIDDEN if narrowed else count(sum(histogram.values()))
    return Duration(cases, percentile(histogram, 50), percentile(histogram, 90))


def known(table: Mapping[str, Figure], keys: Iterable[str], total: Figure) -> bool:
    """Whether the sum of these cells of `table` can be read off its shown figures: none of
    them is hidden, or the total is shown and either every hidden cell of the table is among
    them (they hold the total minus the shown cells) or the shown cells make the total (every
    hidden cell is 0). A figure computed from that sum (a rate, a median, the count of
    concluded cases) then tells nothing the table hides."""
    wanted = set(keys)
    hidden = {key for key, figure in table.items() if figure.suppressed}
    if not hidden & wanted:
        return True
    if total.value is None:
        return False
    rest = total.value - sum(figure.value or 0 for figure in table.values())
    return hidden <= wanted or rest == 0


def _reward_rows(
    years: Mapping[int, Mapping[str, Mapping[str, tuple[int, int]]]],
    filters: StatsFilters,
) -> list[RewardRow]:
    """Each year's reward figures are suppressed as a chain; an answer sums its years and
    hides a figure any of them hides (a zero hides nothing). A channel or category answer
    hides them all: rewards are not cut by group (docs/statistics.md)."""
    first, last = filters.from_year or 0, filters.to_year or 9999
    mine = [y for y in years if first <= y <= last]
    currencies = sorted({c for found in years.values() for c in found})
    grouped = bool(filters.channel or filters.category)
    rows = []
    for currency in currencies:
        totals = {s: [0, 0] for s in REWARD_STAGES}
        hidden: set[str] = set()
        for year in mine:
            stages = years[year].get(currency)
            if stages is None:
                continue
            counts = [stages[s][0] for s in REWARD_STAGES]
            for stage, figure, n in zip(REWARD_STAGES, chain(counts), counts, strict=True):
                totals[stage][0] += n
                totals[stage][1] += stages[stage][1]
                if figure.suppressed and n > 0:
                    hidden.add(stage)
        figures = chain([totals[s][0] for s in REWARD_STAGES])
        for stage, figure in zip(REWARD_STAGES, figures, strict=True):
            if grouped or stage in hidden or figure.suppressed:
                rows.append(RewardRow(currency, stage, HIDDEN, HIDDEN))
            else:
                rows.append(RewardRow(currency, stage, figure, Figure(totals[stage][1])))
    return rows


def counted_until(today: date) -> date:
    """The cut-off: the first day of this month. Every figure counts the cases filed before it,
    ages and deadlines are taken on its eve, so figures compared from one day to the next do
    not show a report's arrival (nor its day, when an open case would have changed age
    bucket). They move when a month is over (docs/statistics.md, "Up to the end of last
    month")."""
    return today.replace(day=1)


def _counted(today: date) -> ColumnElement[bool]:
    """The cases the figures count: those filed before the cut-off."""
    return Case.submitted_on < counted_until(today)


__all__ = [
    "AGE_BUCKETS",
    "Duration",
    "MonthRow",
    "RewardRow",
    "Row",
    "Statistics",
    "StatisticsService",
    "StatsFilters",
    "counted_until",
    "parse_filters",
]
