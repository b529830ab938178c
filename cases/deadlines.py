"""Legal deadlines (EU Directive 2019/1937): acknowledge in 7 days, feed back in 3 months."""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """Calendar months; the 31st becomes the last day of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def acknowledge_by(submitted_on: date, days: int = 7) -> date:
    return submitted_on + timedelta(days=days)


def feedback_by(
    submitted_on: date,
    acknowledged_on: date | None,
    *,
    acknowledge_days: int = 7,
    months: int = 3,
) -> date:
    """Three months from acknowledgement, or from the end of the acknowledgement period."""
    start = acknowledged_on or acknowledge_by(submitted_on, acknowledge_days)
    return add_months(start, months)
