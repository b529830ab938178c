"""The one piece of SQL the two databases write differently: whole days between two dates."""

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


__all__ = ["days_between"]
