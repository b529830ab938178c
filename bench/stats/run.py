"""Statistics latency at 100,000 cases: each answer's time, in process, on SQLite and PostgreSQL.

Seeds clear metadata only, by bulk insert (statistics read nothing else): cases over three
years in every channel and category of a fresh install plus two more channels, with statuses,
outcomes, acknowledgement and conclusion days, retaliation complaints, and rewards with
payments. Then times StatisticsService.answer (the whole answer: every query, the suppression
and the audit entry) for the unfiltered base and each kind of filter, and the CSV and page
renders' shared part. Every answer must stay under 500 ms.

Run: python -m bench.stats.run [--cases N] [--runs N] [--backends sqlite,postgresql];
PORTAL_BENCH_PG_URL=postgresql+psycopg://… adds a PostgreSQL pass (the database is emptied
first and after).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Engine

import crypto
from cases.audit.service import AuditLog
from cases.clock import FixedClock
from cases.db import make_engine, new_id, session_factory
from cases.org.models import Category, Channel
from cases.principals import StaffPrincipal
from cases.reports.models import Case, Receipt
from cases.rewards.models import Reward, RewardPayment
from cases.staff.service import StaffService
from cases.stats import StatisticsService, StatsFilters
from cases.stats.service import forget_kept
from cases.stats.tables import TABLES, table_csv
from portal.migrations import upgrade

TODAY = date(2026, 3, 2)
DAYS = 3 * 365
BATCH = 5000
SECRET = b"s" * 32
ZONE = ZoneInfo("Asia/Shanghai")
LIMIT_MS = 500
PASSWORD = "bench password 12345"  # noqa: S105 (the benchmark account's password)
OUTCOMES = ["substantiated", "partially_substantiated", "unsubstantiated", "not_actionable"]
REWARD_EVERY = 20


def seed(engine: Engine, count: int) -> StaffPrincipal:
    upgrade(engine)
    rng = random.Random(11)
    with session_factory(engine, SECRET)() as db:
        for n in range(2):
            channel = Channel(slug=f"bench-{n}", name_en=f"Bench {n}", name_zh=f"测试 {n}")
            db.add(channel)
            db.flush()
            db.add_all(
                Category(channel_id=channel.id, slug=f"c{k}", name_en=f"C{k}", name_zh=f"类{k}")
                for k in range(6)
            )
        receipt = Receipt(
            selector="BENCH",
            salt=b"s" * 16,
            verifier=b"v" * 32,
            kdf_profile="test",
            created_on=TODAY,
        )
        db.add(receipt)
        db.flush()
        pairs = [(c.channel_id, c.id) for c in db.scalars(select(Category))]
        profile = crypto.profile_named("test", allow_test=True)
        staff = StaffService(db, FixedClock(), server_secret=SECRET, profile=profile)
        made = staff.create("analyst@bench.example", PASSWORD, ["analyst"], enrol_totp=True)
        payer = staff.create("finance@bench.example", PASSWORD, ["finance"], enrol_totp=True)
        db.commit()
        for start in range(0, count, BATCH):
            cases, rewards, payments = [], [], []
            for n in range(start, min(count, start + BATCH)):
                row = _case(rng, n, pairs, receipt.id)
                cases.append(row)
                if n % REWARD_EVERY == 0 and row["outcome"] == "substantiated":
                    reward, payment = _reward(rng, row, payer.account.id)
                    rewards.append(reward)
                    if payment:
                        payments.append(payment)
            db.execute(insert(Case), cases)
            if rewards:
                db.execute(insert(Reward), rewards)
            if payments:
                db.execute(insert(RewardPayment), payments)
            db.commit()
        secret = staff.check_password(made.account, PASSWORD)
        return StaffPrincipal(made.account, secret)


def _case(
    rng: random.Random, n: int, pairs: list[tuple[str, str]], receipt: str
) -> dict[str, object]:
    channel, category = rng.choice(pairs)
    submitted = TODAY - timedelta(days=rng.randint(0, DAYS))
    age = (TODAY - submitted).days
    acknowledged: date | None = submitted + timedelta(days=rng.choice([1, 2, 3, 5, 6, 8, 12]))
    concluded = submitted + timedelta(days=rng.randint(20, 200))
    done = concluded <= TODAY and rng.random() < 0.8
    status = (
        rng.choice(["concluded", "closed"])
        if done
        else rng.choice(["acknowledged", "investigating"])
    )
    if age < 7 and rng.random() < 0.5:
        status, acknowledged = "new", None
    return {
        "id": new_id(),
        "reference": f"S{n:09d}",
        "channel_id": channel,
        "category_id": category,
        "kind": "retaliation" if n % 50 == 0 else "report",
        "status": status,
        "outcome": rng.choice(OUTCOMES) if done else None,
        "submitted_on": submitted,
        "acknowledge_by": submitted + timedelta(days=7),
        "feedback_by": submitted + timedelta(days=97),
        "acknowledged_on": acknowledged if acknowledged and acknowledged <= TODAY else None,
        "concluded_on": concluded if done else None,
        "receipt_id": receipt,
        "content": os.urandom(32),
    }


def _reward(
    rng: random.Random, case: dict[str, object], payer: str
) -> tuple[dict[str, object], dict[str, object] | None]:
    reward_id, amount = new_id(), rng.randint(100, 5000) * 100
    currency = rng.choice(["CNY", "CNY", "EUR"])
    status = rng.choice(["approved", "accepted", "paid", "paid", "declined"])
    reward = {
        "id": reward_id,
        "case_id": case["id"],
        "channel_id": case["channel_id"],
        "status": status,
        "currency": currency,
        "recovered_loss_minor": amount * 10,
        "suggested_minor": amount,
        "amount_minor": amount,
        "approvals_needed": 1,
        "proposed_by": payer,
        "proposed_at": TODAY,
        "offered_on": TODAY,
    }
    payment = None
    if status == "paid":
        payment = {
            "id": new_id(),
            "reward_id": reward_id,
            "amount_minor": amount,
            "currency": currency,
            "reference": f"P-{reward_id[:8]}",
            "paid_by": payer,
            "paid_at": TODAY,
        }
    return reward, payment


def timed(call: Callable[[], object], runs: int) -> tuple[float, float, float, float]:
    """Median and worst wall time, median CPU time of this process, and the first run's wall
    time, in ms.

    The CPU time is what the answer costs here whatever else the machine runs (on SQLite,
    the whole query; on PostgreSQL, only the client's part). The first run builds the whole
    data set's cube, which later runs find kept (the data does not change between them):
    it is what the first answer after any change to the cases costs.
    """
    walls, cpus = [], []
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), max(walls), statistics.median(cpus), walls[0]


def run(label: str, engine: Engine, args: argparse.Namespace) -> bool:
    started = time.perf_counter()
    me = seed(engine, args.cases)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    print(f"{label}: seeded {args.cases:,} cases in {time.perf_counter() - started:.1f} s")
    with session_factory(engine, SECRET)() as db:
        channel = db.scalars(select(Channel).where(Channel.slug == "bench-0")).one()
        category = channel.categories[0].id
    answers = {
        "all cases": StatsFilters(),
        "one year": StatsFilters(2025, 2025),
        "two years": StatsFilters(2024, 2025),
        "one channel": StatsFilters(channel=channel.id),
        "one category": StatsFilters(category=category),
        "year+channel+category": StatsFilters(2025, 2025, channel.id, category),
    }
    ok = True
    clock = FixedClock()
    for name, filters in answers.items():

        def answer(filters: StatsFilters = filters) -> object:
            with session_factory(engine, SECRET)() as db:
                service = StatisticsService(db, clock, AuditLog(db, clock, SECRET), ZONE)
                stats = service.answer(me, filters)
                for table in TABLES:
                    table_csv(stats, table, {})
                db.commit()
                return stats

        forget_kept()  # each answer's first run builds the cube, as after a change
        median, worst, cpu, first = timed(answer, args.runs)
        ok = ok and first < LIMIT_MS
        print(
            f"  {name:22} first {first:6.1f} ms  median {median:6.1f} ms  "
            f"worst {worst:6.1f} ms  cpu {cpu:6.1f} ms  (limit {LIMIT_MS} ms, on the first)"
        )
    print(f"  load average {'/'.join(f'{n:.1f}' for n in os.getloadavg())}")
    return ok


def reset(engine: Engine) -> None:
    """Empty the PostgreSQL database: its tables, and the trigger functions the migrations
    made (`people_version_bump`, `stats_version_bump`), which dropping the tables leaves."""
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    backends = set(args.backends.split(","))
    print(
        f"cases={args.cases:,} days={DAYS} channels=3 categories=20 rewards=1/{REWARD_EVERY} "
        f"of substantiated runs={args.runs} cpus={os.cpu_count()} "
        f"load_average={'/'.join(f'{n:.1f}' for n in os.getloadavg())}"
    )
    ok = True
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
            ok = run("SQLite", engine, args) and ok
            engine.dispose()
    pg_url = os.environ.get("PORTAL_BENCH_PG_URL")
    if pg_url and "postgresql" in backends:
        engine = make_engine(pg_url)
        reset(engine)
        try:
            ok = run("PostgreSQL", engine, args) and ok
        finally:
            reset(engine)
            engine.dispose()
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
