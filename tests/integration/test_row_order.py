"""Attack: read the order the database wrote rows in to date a reporter's request.

The columns of a reporter's rows hold at most the hour, but SQLite numbers the rows of a
table as they come (`rowid`) and PostgreSQL stamps each row with its transaction's id
(`xmin`), which rises across every table. Staff notes and audit entries keep their minute,
so a reporter's message written between two notes, or a filing's rows between two staff
transactions, would be dated by its neighbours. Once the hour is over, the jobs round takes
that order away (cases/row_order.py). Each step below is its own transaction, as in use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker
from support.db import TEST_SECRET
from support.staff_world import SECRET, ZONE, build_world

import crypto
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import FixedClock
from cases.db import make_engine, session_factory
from cases.principals import ReporterPrincipal
from cases.reports.intake import IntakeConfig
from cases.reports.models import CaseItem, Receipt
from cases.reports.reporter import ReporterConfig, ReporterService
from cases.row_order import blurred_tables
from cases.sessions.service import SessionPolicy, ThrottleRule
from portal.jobs import JobConfig, JobRunner

CONFIG = JobConfig("https://portal.example", ZONE, SECRET, 180)
NOTES = 24  # staff notes in the hour, the reporter's message and a new report among them


@pytest.fixture
def factory(fresh_database: Callable[..., str]) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(fresh_database())
    yield session_factory(engine, TEST_SECRET)
    engine.dispose()


def an_hour_of_work(factory: sessionmaker[Session], clock: FixedClock) -> dict[str, Any]:
    """08:50 a report is filed and the round at 09:00 passes; from 09:01 an investigator writes
    a note a minute, the reporter replies after the 12th and a second report comes after the
    18th; the rows' ids in the order they were written."""
    with factory() as db:
        world = build_world(db, clock)
        ana = world.staff("ana@example.com", "investigator")
        filed = world.file()
        db.commit()
        case_id, receipt_id, key = filed.case.id, filed.case.receipt_id, filed.reporter_key
    clock.current = datetime(2026, 3, 2, 9, 0, 30)
    JobRunner(factory, clock, CONFIG).run_once()
    written: list[str] = []
    second = ""
    for n in range(NOTES):
        clock.current = datetime(2026, 3, 2, 9, 1 + 2 * n)
        with factory() as db:
            work = CaseworkService(db, clock, CaseworkConfig(ZONE, SECRET))
            written.append(work.add_note(ana.principal(db, clock), case_id, f"Note {n}").id)
            db.commit()
        if n == 11:
            clock.current = datetime(2026, 3, 2, 9, 24, 20)
            with factory() as db:
                receipt = db.get(Receipt, receipt_id)
                assert receipt is not None
                ReporterService(db, clock, REPORTER).reply(
                    ReporterPrincipal(receipt, key), "It was May."
                )
                mine = select(CaseItem.id).where(CaseItem.author == "reporter")
                written.append(db.scalars(mine).one())
                db.commit()
        if n == 17:
            with factory() as db:
                second = build_world(db, clock).file("Kickbacks on the Q4 tender").case.id
                db.commit()
    return {"case": case_id, "written": written, "second": second}


REPORTER = ReporterConfig(
    intake=IntakeConfig(ZONE, crypto.profile_named("test", allow_test=True), SECRET),
    session=SessionPolicy(900, 7200),
    per_selector=ThrottleRule(5, 900, hourly=True),
)


def spearman(order: list[int]) -> float:
    """Rank correlation of positions 0..n-1 with `order` (its values' ranks)."""
    ranks = {value: rank for rank, value in enumerate(sorted(order))}
    n = len(order)
    d2 = sum((i - ranks[v]) ** 2 for i, v in enumerate(order))
    return 1 - 6 * d2 / (n * (n * n - 1))


def wal_size(factory: sessionmaker[Session]) -> int:
    database = factory.kw["bind"].url.database
    wal = Path(f"{database}-wal")
    return wal.stat().st_size if wal.exists() else 0


def rowids(db: Session, table: str, ids: list[str]) -> list[int]:
    found = {row[0]: row[1] for row in db.execute(text(f"SELECT id, rowid FROM {table}"))}  # noqa: S608
    return [int(found[i]) for i in ids]


@pytest.mark.sqlite_only
def test_sqlite_rowids_do_not_date_a_reporter_message_after_the_hour(
    factory: sessionmaker[Session],
) -> None:
    """Before 10:00 the rowids give the written order (the attack); after the round at 10:00
    they do not, every row of the hour sits below the hour before it, and no row is left
    with the rowid SQLite gave it."""
    clock = FixedClock(datetime(2026, 3, 2, 8, 50))
    done = an_hour_of_work(factory, clock)
    with factory() as db:
        before = rowids(db, "case_items", done["written"])
        older = rowids(db, "cases", [done["case"]])[0]
    assert spearman(before) == 1.0  # the attack works on rows not yet blurred
    assert wal_size(factory) > 0

    clock.current = datetime(2026, 3, 2, 10, 0, 30)
    JobRunner(factory, clock, CONFIG).run_once()
    with factory() as db:
        after = rowids(db, "case_items", done["written"])
        newer = rowids(db, "cases", [done["second"]])[0]
        left = {
            t.name: db.execute(text(f"SELECT count(*) FROM {t.name} WHERE rowid >= 0")).scalar()  # noqa: S608
            for t in blurred_tables()
        }
    # 26 rows in a random order: a rank correlation above 0.8 has odds below one in 10^6.
    assert abs(spearman(after)) < 0.8
    assert sorted(after) != after
    assert newer < older < 0  # the hour, and only the hour, is still told
    assert {name: n for name, n in left.items() if n} == {}
    # The WAL, which held the pages in their old order, is checkpointed and truncated.
    assert wal_size(factory) == 0


@pytest.mark.sqlite_only
def test_the_round_blurs_each_hour_once(factory: sessionmaker[Session]) -> None:
    """A second round in the same hour moves nothing; the next hour's rows are moved then."""
    clock = FixedClock(datetime(2026, 3, 2, 8, 50))
    with factory() as db:
        build_world(db, clock).file()
        db.commit()
    clock.current = datetime(2026, 3, 2, 9, 0, 30)
    first = JobRunner(factory, clock, CONFIG).run_once()["row_order"]
    clock.current = datetime(2026, 3, 2, 9, 5)
    again = JobRunner(factory, clock, CONFIG).run_once()["row_order"]
    with factory() as db:
        build_world(db, clock).file("Another")
        db.commit()
    clock.current = datetime(2026, 3, 2, 10, 0, 10)
    later = JobRunner(factory, clock, CONFIG).run_once()["row_order"]
    assert first > 0
    assert again == 0
    assert later > 0


@pytest.mark.postgres_only
def test_postgresql_transaction_ids_do_not_date_a_reporter_request_after_the_hour(
    factory: sessionmaker[Session],
) -> None:
    """Before 10:00 every step of the hour has its own xmin (the attack: they rise with the
    staff's audit entries); after the round at 10:00 every row of every table carries one of
    two ids, the round at 09:00's or the one at 10:00's."""
    clock = FixedClock(datetime(2026, 3, 2, 8, 50))
    done = an_hour_of_work(factory, clock)
    ids = ", ".join(f"'{i}'" for i in done["written"])
    mine = f"SELECT count(DISTINCT xmin::text) FROM case_items WHERE id IN ({ids})"  # noqa: S608
    with factory() as db:
        assert db.execute(text(mine)).scalar() == len(done["written"])

    clock.current = datetime(2026, 3, 2, 10, 0, 30)
    JobRunner(factory, clock, CONFIG).run_once()
    with factory() as db:
        seen: set[str] = set()
        for table in blurred_tables():
            seen |= set(db.execute(text(f"SELECT DISTINCT xmin::text FROM {table.name}")).scalars())  # noqa: S608
        assert db.execute(text(mine)).scalar() == 1
    assert len(seen) <= 2


@pytest.mark.postgres_only
def test_postgresql_round_gives_way_to_a_request_holding_a_row(
    factory: sessionmaker[Session],
) -> None:
    """While a request holds a row of the hour the round waits a moment, gives up, marks
    nothing and rolls back; the request goes on; the next round does the hour."""
    clock = FixedClock(datetime(2026, 3, 2, 9, 10))
    with factory() as db:
        case_id = build_world(db, clock).file().case.id
        db.commit()
    clock.current = datetime(2026, 3, 2, 10, 0, 30)
    engine = factory.kw["bind"]
    runner = JobRunner(factory, clock, CONFIG)
    with engine.connect() as holder:
        holder.execute(text("SELECT id FROM cases WHERE id = :id FOR UPDATE"), {"id": case_id})
        began = time.monotonic()
        gave_way = runner.run_once()["row_order"]
        waited = time.monotonic() - began
        holder.execute(text("UPDATE cases SET priority = 'high' WHERE id = :id"), {"id": case_id})
        holder.commit()
    clock.current = datetime(2026, 3, 2, 10, 1, 30)
    later = runner.run_once()["row_order"]
    with factory() as db:
        marks = db.execute(text("SELECT count(*) FROM row_order_marks")).scalar()
        priority = db.execute(text("SELECT priority FROM cases WHERE id = :id"), {"id": case_id})
    assert gave_way == 0
    assert waited < 10
    assert later > 0
    assert marks == 1
    assert priority.scalar() == "high"
