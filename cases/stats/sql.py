"""The SQL the two databases write differently: whole days between two dates, a date's month."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, cast, func
from sqlalchemy.sql.expression import ColumnElement


def days_between(later: Any, earlier: Any, dialect: str) -> ColumnElement[int]:
    """`later - earlier` in whole days (both DATE columns) in this dialect's SQL."""
    if dialect == "sqlite":
        # SQLite keeps dates as ISO text: julianday turns each into a day number.
        return cast(func.julianday(later) - func.julianday(earlier), Integer)
    return cast(later - earlier, Integer)


def month_of(day: Any, dialect: str) -> ColumnElement[str]:
    """The "YYYY-MM" of a DATE column in this dialect's SQL."""
    if dialect == "sqlite":
        return func.strftime("%Y-%m", day)
    return func.to_char(day, "YYYY-MM")


__all__ = ["days_between", "month_of"]
