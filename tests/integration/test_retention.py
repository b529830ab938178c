"""Retention on SQLite and PostgreSQL: the leased job shreds expired cases and keeps held ones."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from support.db import TEST_SECRET
from support.retention import CANARY, closed_case, rows_text
from support.staff_world import SECRET, ZONE, build_world

from cases.audit.models import AuditEntry
from cases.clock import FixedClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.reports.models import Case, KeyWrap
from cases.retention import RetentionConfig, RetentionService
from cases.retention.service import case_tables
from cases.rewards.models import Reward, RewardPayment
from portal.jobs import JobConfig, JobRunner

CONFIG = JobConfig("https://portal.example", ZONE, SECRET, 180)
# Noon in Shanghai on 2029-06-15: local day and UTC day agree.
NOW = datetime(2029, 6, 15, 4, 0)


@pytest.fixture
def shared(fresh_database: Callable[..., str]) -> Any:
    url = fresh_database()
    engine = make_engine(url)
    yield url, engine, session_factory(engine, TEST_SECRET)
    engine.dispose()


def seed(factory: Any, clock: FixedClock, **closings: date) -> dict[str, Any]:
    with unit_of_work(factory) as db:
        world = build_world(db, clock)
        return {name: closed_case(world, clock, day, name) for name, day in closings.items()}


def file_bytes(url: str) -> bytes:
    path = Path(str(make_url(url).database))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def stored(url: str, engine: Any) -> bytes:
    """What an attacker with the database gets: the SQLite files, or every row on PostgreSQL."""
    return file_bytes(url) if engine.dialect.name == "sqlite" else rows_text(engine)


def test_a_case_is_deleted_a_day_after_its_period_not_a_day_before_nor_on_hold(
    shared: Any,
) -> None:
    """Closed 36 months + 1 day ago: deleted; a day short, held, or a reward unpaid: kept."""
    _url, _engine, factory = shared
    clock = FixedClock(NOW)
    made = seed(
        factory,
        clock,
        late=date(2026, 6, 14),
        early=date(2026, 6, 16),
        held=date(2020, 1, 1),
        unpaid=date(2020, 1, 1),
    )
    with unit_of_work(factory) as db:
        db.get(Case, made["held"].case_id).hold_reason = "Court order 2029/17"  # type: ignore[union-attr]
        unpaid = select(Reward).where(Reward.case_id == made["unpaid"].case_id)
        db.scalars(unpaid).one().status = "accepted"

    done = JobRunner(factory, clock, CONFIG).run_once()

    with unit_of_work(factory) as db:
        state = {n: db.get(Case, s.case_id).retention_deleted_on for n, s in made.items()}  # type: ignore[union-attr]
    assert done["retention"] == 1
    assert state == {"late": date(2029, 6, 15), "early": None, "held": None, "unpaid": None}


def test_deletion_leaves_no_text_key_or_ciphertext_and_keeps_the_tombstone(shared: Any) -> None:
    """After the job, the database (files and WAL, or rows) holds nothing sealed of the case."""
    url, engine, factory = shared
    clock = FixedClock(NOW)
    gone = seed(factory, clock, gone=date(2026, 1, 5))["gone"]
    before = stored(url, engine)

    JobRunner(factory, clock, CONFIG).run_once()

    after = stored(url, engine)
    assert [name for name, needle in gone.needles.items() if needle not in before] == []
    assert [name for name, needle in gone.needles.items() if needle in after] == []
    assert CANARY.encode() not in after
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA auto_vacuum").scalar()
            free = connection.exec_driver_sql("PRAGMA freelist_count").scalar()
        wal = Path(f"{make_url(url).database}-wal")
        assert (mode, free) == (2, 0)
        assert not wal.exists() or wal.stat().st_size == 0
    with unit_of_work(factory) as db:
        case = db.get(Case, gone.case_id)
        assert case is not None
        reward = db.scalars(select(Reward).where(Reward.case_id == case.id)).one()
        payment = db.scalars(
            select(RewardPayment).where(RewardPayment.reward_id == reward.id)
        ).one()
        left = {
            t.name: db.scalar(select(func.count()).select_from(t).where(t.c.case_id == case.id))
            for t in case_tables()
        }
        assert (case.reference, case.outcome, case.closed_on) == (
            gone.reference,
            "substantiated",
            date(2026, 1, 5),
        )
        assert (case.content, case.identity) == (b"", None)
        assert (reward.amount_minor, reward.currency, reward.payout, reward.explanation) == (
            5_000,
            "CNY",
            None,
            None,
        )
        assert payment.reference == ""
        assert set(left.values()) == {0}
        assert db.scalar(select(func.count()).select_from(KeyWrap)) == 0


def test_one_audit_entry_names_the_reference_and_the_chain_still_verifies(
    shared: Any, tmp_path: Path
) -> None:
    """The deletion is one audit entry with the reference only; `portal audit verify` passes."""
    url, _engine, factory = shared
    clock = FixedClock(NOW)
    gone = seed(factory, clock, gone=date(2026, 1, 5))["gone"]

    JobRunner(factory, clock, CONFIG).run_once()

    with unit_of_work(factory) as db:
        entries = db.scalars(
            select(AuditEntry).where(AuditEntry.action == "case.deleted_under_retention")
        ).all()
        assert [(e.case_id, e.detail) for e in entries] == [
            (None, f'{{"reference": "{gone.reference}"}}')
        ]
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": url,
        "PORTAL_SECRET_KEY": SECRET.decode(),
        "PORTAL_DATA_DIR": str(tmp_path),
    }
    verify = subprocess.run(
        [sys.executable, "-m", "portal.cli", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "intact" in verify.stdout


def test_the_job_deletes_each_case_once_and_a_second_run_finds_nothing(shared: Any) -> None:
    """Deleted cases are not picked again: the tombstone is not shredded twice."""
    _url, _engine, factory = shared
    clock = FixedClock(NOW)
    seed(factory, clock, gone=date(2026, 1, 5))

    first = JobRunner(factory, clock, CONFIG, owner="a").run_once()
    with unit_of_work(factory) as db:
        again = RetentionService(db, clock, RetentionConfig(ZONE, SECRET)).run()

    assert (first["retention"], again) == (1, 0)


def test_a_round_deletes_at_most_its_batch_and_the_next_round_the_rest(shared: Any) -> None:
    """Many expired cases are deleted over several short rounds, oldest first."""
    _url, _engine, factory = shared
    clock = FixedClock(NOW)
    made = seed(factory, clock, old=date(2025, 1, 1), older=date(2024, 1, 1))

    with unit_of_work(factory) as db:
        service = RetentionService(db, clock, RetentionConfig(ZONE, SECRET))
        first = [c.reference for c in service.due(limit=1)]
        counts = (service.run(limit=1), service.run(limit=1), service.run(limit=1))

    assert first == [made["older"].reference]
    assert counts == (1, 1, 0)
