"""What retention leaves of a deleted case outside its tombstone: nothing that dates it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import MetaData, select
from support.db import TEST_SECRET
from support.retention import closed_case
from support.staff_world import SECRET, ZONE, build_world

from cases.clock import FixedClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.notify.service import NotifyConfig, Outbox
from cases.reports.models import Case
from portal.jobs import JobConfig, JobRunner

CONFIG = JobConfig("https://portal.example", ZONE, SECRET, 180)
NOW = datetime(2029, 6, 15, 4, 0)
# The tombstone and what the design keeps with it (docs/retention.md, "What stays").
KEPT = {"cases", "rewards", "reward_decisions", "reward_payments", "audit_entries", "audit_held"}


def test_no_row_outside_the_tombstone_names_a_deleted_case(
    fresh_database: Callable[..., str],
) -> None:
    """After deletion no table but the tombstone's keeps the case id: not the outbox, whose
    dedupe keys held it with the hour of the filing and of each later reporter message."""
    url = fresh_database()
    engine = make_engine(url)
    factory = session_factory(engine, TEST_SECRET)
    clock = FixedClock(NOW)
    with unit_of_work(factory) as db:
        world = build_world(db, clock)
        gone = closed_case(world, clock, date(2026, 1, 5), "gone")
        case = db.get(Case, gone.case_id)
        assert case is not None
        Outbox(db, clock, NotifyConfig("https://portal.example", ZONE)).reporter_message(case)

    def mentions() -> set[str]:
        metadata = MetaData()
        metadata.reflect(engine)
        found: set[str] = set()
        with engine.connect() as connection:
            for name, table in metadata.tables.items():
                for row in connection.execute(select(table)):
                    if any(gone.case_id in str(value) for value in row):
                        found.add(name)
        return found

    before = mentions()
    JobRunner(factory, clock, CONFIG).run_once()
    after = mentions()
    engine.dispose()

    assert "outbox_messages" in before
    assert after - KEPT == set()
