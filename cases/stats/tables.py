"""Each statistics table as a header and rows: what the CSV exports write, suppression kept.

A suppressed figure is written "< 5", never its value; codes (outcome, kind, age) stay
codes so a spreadsheet can work on them, and channels and categories carry their name.
"""

from __future__ import annotations

from collections.abc import Mapping

from cases.errors import NotFound
from cases.spreadsheet import csv_text
from cases.stats.service import Duration, Row, Statistics
from cases.stats.suppression import THRESHOLD, Figure

SUPPRESSED = f"< {THRESHOLD}"
TABLES = (
    "summary",
    "months",
    "channels",
    "categories",
    "outcomes",
    "kinds",
    "open_by_age",
    "rewards",
)

Cells = list[str | int]


def shown(figure: Figure) -> str | int:
    return SUPPRESSED if figure.value is None else figure.value


def table(stats: Statistics, name: str, names: Mapping[str, str]) -> tuple[list[str], list[Cells]]:
    """The header and rows of one table; an unknown name is NotFound."""
    if name == "summary":
        return ["measure", "value"], _summary(stats)
    if name == "months":
        header = ["month", "cases", "acknowledged_in_time_percent", "feedback_in_time_percent"]
        rows: list[Cells] = [
            [m.month, shown(m.reports), shown(m.acknowledged_in_time), shown(m.feedback_in_time)]
            for m in stats.per_month
        ]
        return header, rows
    if name in ("channels", "categories"):
        found = stats.per_channel if name == "channels" else stats.per_category
        return ["id", "name", "cases"], [
            [r.key, names.get(r.key, ""), shown(r.figure)] for r in found
        ]
    if name == "rewards":
        header = ["currency", "stage", "rewards", "amount_minor"]
        return header, [
            [r.currency, r.stage, shown(r.rewards), shown(r.amount_minor)] for r in stats.rewards
        ]
    plain: dict[str, list[Row]] = {
        "outcomes": stats.per_outcome,
        "kinds": stats.per_kind,
        "open_by_age": stats.open_by_age,
    }
    if name not in plain:
        raise NotFound()
    return [name.removesuffix("s"), "cases"], [[r.key, shown(r.figure)] for r in plain[name]]


def _summary(stats: Statistics) -> list[Cells]:
    rows: list[Cells] = [
        ["cases", shown(stats.total)],
        ["acknowledged_in_time_percent", shown(stats.acknowledged_in_time)],
        ["feedback_in_time_percent", shown(stats.feedback_in_time)],
        ["substantiated_percent", shown(stats.substantiated_rate)],
        ["retaliation_complaints", shown(stats.retaliation_complaints)],
    ]
    durations: tuple[tuple[str, Duration], ...] = (
        ("time_to_acknowledge", stats.time_to_acknowledge),
        ("time_to_close", stats.time_to_close),
    )
    for label, duration in durations:
        rows += [
            [f"{label}_cases", shown(duration.cases)],
            [f"{label}_median_days", shown(duration.median_days)],
            [f"{label}_p90_days", shown(duration.p90_days)],
        ]
    return rows


def table_csv(stats: Statistics, name: str, names: Mapping[str, str]) -> str:
    header, rows = table(stats, name, names)
    return csv_text(header, rows)


__all__ = ["SUPPRESSED", "TABLES", "shown", "table", "table_csv"]
