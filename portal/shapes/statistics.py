"""The statistics answer of GET /api/v1/statistics: every figure may be suppressed.

A figure is `{"value": <int>, "suppressed": false}`, or `{"value": null, "suppressed": true}`
when it would count fewer than 5 cases (docs/statistics.md). Rates are whole percents,
durations whole days, amounts minor units of their currency.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from cases.stats.service import Duration, MonthRow, RewardRow, Row, Statistics
from cases.stats.suppression import Figure
from portal.shapes import Shape


class FigureOut(Shape):
    value: int | None = Field(description="null when suppressed")
    suppressed: bool = Field(description="true: fewer than 5 cases stand behind it ('< 5')")

    @classmethod
    def of(cls, figure: Figure) -> FigureOut:
        return cls(value=figure.value, suppressed=figure.suppressed)


class FiltersOut(Shape):
    from_year: int | None
    to_year: int | None
    channel: str | None
    category: str | None


class RowOut(Shape):
    key: str = Field(description="a channel or category id, an outcome, a kind or an age")
    cases: FigureOut

    @classmethod
    def of(cls, row: Row) -> RowOut:
        return cls(key=row.key, cases=FigureOut.of(row.figure))


class MonthOut(Shape):
    month: str = Field(description="YYYY-MM of submission")
    cases: FigureOut
    acknowledged_in_time_percent: FigureOut
    feedback_in_time_percent: FigureOut

    @classmethod
    def of(cls, row: MonthRow) -> MonthOut:
        return cls(
            month=row.month,
            cases=FigureOut.of(row.reports),
            acknowledged_in_time_percent=FigureOut.of(row.acknowledged_in_time),
            feedback_in_time_percent=FigureOut.of(row.feedback_in_time),
        )


class DurationOut(Shape):
    cases: FigureOut
    median_days: FigureOut
    p90_days: FigureOut

    @classmethod
    def of(cls, duration: Duration) -> DurationOut:
        return cls(
            cases=FigureOut.of(duration.cases),
            median_days=FigureOut.of(duration.median_days),
            p90_days=FigureOut.of(duration.p90_days),
        )


class RewardOut(Shape):
    currency: str
    stage: Literal["offered", "accepted", "paid"]
    rewards: FigureOut
    amount_minor: FigureOut

    @classmethod
    def of(cls, row: RewardRow) -> RewardOut:
        return cls(
            currency=row.currency,
            stage=row.stage,  # type: ignore[arg-type]
            rewards=FigureOut.of(row.rewards),
            amount_minor=FigureOut.of(row.amount_minor),
        )


class StatisticsOut(Shape):
    threshold: int = Field(description="figures under this many cases are suppressed")
    filters: FiltersOut
    today: str
    total: FigureOut
    per_month: list[MonthOut]
    per_channel: list[RowOut]
    per_category: list[RowOut]
    per_outcome: list[RowOut] = Field(description="outcome 'none': not concluded yet")
    per_kind: list[RowOut]
    open_by_age: list[RowOut] = Field(description="days since submission: 0-7 … 366+")
    acknowledged_in_time_percent: FigureOut = Field(description="within 7 days")
    feedback_in_time_percent: FigureOut = Field(description="concluded by the feedback date")
    time_to_acknowledge: DurationOut
    time_to_close: DurationOut = Field(description="submission to conclusion (the outcome)")
    substantiated_percent: FigureOut
    retaliation_complaints: FigureOut
    rewards: list[RewardOut]

    @classmethod
    def of(cls, stats: Statistics, threshold: int) -> StatisticsOut:
        f = stats.filters
        return cls(
            threshold=threshold,
            filters=FiltersOut(
                from_year=f.from_year,
                to_year=f.to_year,
                channel=f.channel or None,
                category=f.category or None,
            ),
            today=stats.today.isoformat(),
            total=FigureOut.of(stats.total),
            per_month=[MonthOut.of(r) for r in stats.per_month],
            per_channel=[RowOut.of(r) for r in stats.per_channel],
            per_category=[RowOut.of(r) for r in stats.per_category],
            per_outcome=[RowOut.of(r) for r in stats.per_outcome],
            per_kind=[RowOut.of(r) for r in stats.per_kind],
            open_by_age=[RowOut.of(r) for r in stats.open_by_age],
            acknowledged_in_time_percent=FigureOut.of(stats.acknowledged_in_time),
            feedback_in_time_percent=FigureOut.of(stats.feedback_in_time),
            time_to_acknowledge=DurationOut.of(stats.time_to_acknowledge),
            time_to_close=DurationOut.of(stats.time_to_close),
            substantiated_percent=FigureOut.of(stats.substantiated_rate),
            retaliation_complaints=FigureOut.of(stats.retaliation_complaints),
            rewards=[RewardOut.of(r) for r in stats.rewards],
        )
