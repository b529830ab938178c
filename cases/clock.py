"""Time as a collaborator, so tests can fix it and deadlines stay testable."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """Naive UTC now."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class FixedClock:
    """A clock tests move by hand."""

    current: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 9, 0, 0))

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The calendar day of a naive-UTC moment in the organisation's zone."""
    return moment.replace(tzinfo=UTC).astimezone(zone).date()


def floor_hour(moment: datetime) -> datetime:
    """The start of the moment's hour: the finest time a reporter's request may store."""
    return moment.replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    """The first full hour at or after the moment (for expiries that must not come early)."""
    floor = floor_hour(moment)
    return floor if floor == moment else floor + timedelta(hours=1)


def floor_day(moment: datetime) -> datetime:
    """Midnight (UTC) of the moment's day: how audit entries from a reporter's request are dated."""
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def epoch(moment: datetime) -> float:
    return moment.replace(tzinfo=UTC).timestamp()


def monotonic() -> float:
    return time.monotonic()
