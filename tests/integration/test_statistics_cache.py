"""The whole data set's cube and patterns are kept between statistics answers only while the
cases behind them are unchanged: every writer moves the `stats_version` token (database
triggers, migration 0021), so a kept cube never answers for data it was not built on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session, sessionmaker
from support.db import TEST_SECRET
from support.staff_world import SECRET, ZONE, build_world
from support.statistics import seed_cases

from cases.audit.service import AuditLog
from cases.clock import FixedClock
from cases.db import make_engine, session_factory
from cases.principals import StaffPrincipal
from cases.stats.service import StatisticsService, StatsFilters


@pytest.fixture
def factory(fresh_database: Callable[..., str]) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(fresh_database())
    yield session_factory(engine, TEST_SECRET)
    engine.dispose()


def whole_scans(factory: sessionmaker[Session]) -> list[str]:
    """Records every statement that groups the whole data set by month (the cube's scan)."""
    seen: list[str] = []

    def record(_c: object, _cur: object, statement: str, *_rest: object) -> None:
        if "GROUP BY" in statement and "kind" in statement and "outcome" in statement:
            seen.append(statement)

    event.listen(factory.kw["bind"], "before_cursor_execute", record)
    return seen


def test_a_kept_cube_answers_until_any_writer_changes_a_case(
    factory: sessionmaker[Session],
) -> None:
    """A second answer reads no whole-data-set scan; an outcome changed by plain SQL (no
    service involved) is in the next answer, whose cube is built again."""
    clock = FixedClock(datetime(2026, 3, 2, 9, 0))
    with factory() as db:
        world = build_world(db, clock)
        analyst = world.staff("sam@example.com", "analyst")
        ids = seed_cases(db, world.channel, 12, submitted_on=date(2025, 3, 3))
        db.commit()
    scans = whole_scans(factory)

    def answer() -> dict[str, object]:
        with factory() as db:
            me = StaffPrincipal(analyst.account, analyst.principal(db, clock).private_key)
            service = StatisticsService(db, clock, AuditLog(db, clock, SECRET), ZONE)
            found = service.answer(me, StatsFilters(2025, 2025))
            db.commit()
        return {row.key: row.figure for row in found.per_outcome}

    first = answer()
    built = len(scans)
    second = answer()
    kept = len(scans)
    with factory() as db:
        # Plain SQL, as a repair by hand would: no service, no ORM event.
        changed = text("UPDATE cases SET outcome = 'unsubstantiated' WHERE id = :id")
        db.execute(changed, [{"id": i} for i in ids[:6]])
        db.commit()
    third = answer()

    assert built == 1
    assert kept == built
    assert second == first
    assert len(scans) == built + 1
    assert third != first
