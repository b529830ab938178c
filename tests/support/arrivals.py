"""Crossing the hour a new case or a reporter's later file waits for (cases/reports/arrivals.py).

Staff see a new case, and evidence a reporter adds later, only once the jobs round has listed
it at the next full hour. Tests that file and then read as staff cross that hour the way
production does: `list_arrivals` runs the jobs round's release (`arrivals.release`, the step
`JobRunner.sweep` runs) at the hour, without moving the app's clock (a staff session logged in
before would otherwise run out). Tests of the hold itself move a FixedClock and run the whole
round instead.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cases.clock import Clock, SystemClock
from cases.db import unit_of_work
from cases.reports.arrivals import listed_hour, release


def arrival_hour(clock: Clock | None = None) -> Any:
    """The hour by which whatever was filed or added until now (on `clock`, and on the system
    clock an app without a test clock files by) is listed."""
    moments = [SystemClock().now()] + ([clock.now()] if clock is not None else [])
    return listed_hour(max(moments))


def list_arrivals(target: Session | sessionmaker[Session], clock: Clock | None = None) -> int:
    """The jobs round's release at the hour: every case and file held until then is listed.

    `target` is a session (flushed, left open) or a sessionmaker (one committed unit of work)."""
    at = arrival_hour(clock)
    if isinstance(target, Session):
        released = release(target, at)
        target.flush()
        return released
    with unit_of_work(target) as db:
        return release(db, at)
