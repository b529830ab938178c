"""Case-list latency at 100,000 cases: first page and a filtered page, p50 and p99.

Seeds through bulk inserts (what is measured is the listing, not intake): the case
content is an opaque blob, and the viewer's key wraps are real-sized blobs, since the
list never decrypts. Run: python -m bench.cases.run [--cases N] [--runs N];
PORTAL_BENCH_PG_URL=postgresql+psycopg://… adds a PostgreSQL pass.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import crypto
from cases.db import Base, make_engine, new_id
from cases.models import Case, CaseAssignee, CaseExclusion, KeyWrap, Receipt
from cases.org.service import OrgService
from cases.staff.models import StaffAccount
from cases.staff.service import StaffService
from cases.workflow.listing import COUNT_CAP, CaseFilters, CaseList
from portal.migrations import upgrade

STATUSES = ["new", "acknowledged", "investigating", "concluded", "closed"]
TODAY = date(2026, 3, 2)
BATCH = 5000


def seed(engine: Engine, count: int) -> StaffAccount:
    upgrade(engine)  # the real schema and seeded channel, as `portal migrate` makes them
    rng = random.Random(7)
    with Session(engine) as db:
        channel = OrgService(db).general_channel()
        profile = crypto.profile_named("test", allow_test=True)
        staff = StaffService(db, _Clock(), server_secret=b"b" * 32, profile=profile)
        viewer = staff.create(
            "viewer@example.com", "bench password 12345", ["investigator"]
        ).account
        other = staff.create("other@example.com", "bench password 12345", ["investigator"]).account
        receipt = Receipt(
            selector="BENCH",
            salt=b"s" * 16,
            verifier=b"v" * 32,
            kdf_profile="test",
            created_on=TODAY,
        )
        db.add(receipt)
        db.commit()
        categories = [c.id for c in channel.categories]
        for start in range(0, count, BATCH):
            _batch(
                db,
                rng,
                start,
                min(BATCH, count - start),
                channel.id,
                categories,
                receipt.id,
                viewer.id,
                other.id,
            )
            db.commit()
        db.expunge(viewer)
        return viewer


def _batch(
    db: Session,
    rng: random.Random,
    start: int,
    size: int,
    channel_id: str,
    categories: list[str],
    receipt_id: str,
    viewer: str,
    other: str,
) -> None:
    cases, wraps, exclusions, assignees = [], [], [], []
    for n in range(start, start + size):
        case_id, status = new_id(), rng.choice(STATUSES)
        submitted = TODAY - timedelta(days=rng.randint(0, 400))
        ack, feedback = submitted + timedelta(days=7), submitted + timedelta(days=97)
        due = ack if status == "new" else feedback if status in STATUSES[1:3] else None
        cases.append(
            {
                "id": case_id,
                "reference": f"B{n:09d}",
                "channel_id": channel_id,
                "category_id": rng.choice(categories),
                "kind": "report",
                "intake": "web",
                "priority": "normal",
                "status": status,
                "confidential": False,
                "submitted_on": submitted,
                "acknowledge_by": ack,
                "feedback_by": feedback,
                "due_on": due,
                "receipt_id": receipt_id,
                "content": os.urandom(64),
            }
        )
        for staff_id in (viewer, other):
            wraps.append(
                {
                    "id": new_id(),
                    "case_id": case_id,
                    "key_kind": "case",
                    "holder": f"staff:{staff_id}",
                    "staff_id": staff_id,
                    "wrapped": os.urandom(92),
                }
            )
        if n % 10 == 0:
            exclusions.append({"case_id": case_id, "staff_id": viewer, "reason": "reporter"})
        if n % 3 == 0:
            assignees.append({"case_id": case_id, "staff_id": other})
    db.execute(insert(Case), cases)
    db.execute(insert(KeyWrap), wraps)
    if exclusions:
        db.execute(insert(CaseExclusion), exclusions)
    if assignees:
        db.execute(insert(CaseAssignee), assignees)


class _Clock:
    def now(self):  # type: ignore[no-untyped-def]
        from cases.db import utcnow

        return utcnow()


def measure(
    engine: Engine, viewer: StaffAccount, filters: CaseFilters, runs: int
) -> tuple[float, float, int]:
    timings = []
    with Session(engine) as db:
        viewer = db.merge(viewer)
        listing = CaseList(db)
        total = listing.page(viewer, TODAY, filters).total
        for _ in range(runs):
            started = time.perf_counter()
            listing.page(viewer, TODAY, filters)
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    return statistics.median(timings), p99, total


def run(label: str, engine: Engine, count: int, runs: int) -> None:
    started = time.perf_counter()
    viewer = seed(engine, count)
    # Fresh statistics and visibility map, as autovacuum would leave them on a live server.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    print(f"{label}: seeded {count:,} cases in {time.perf_counter() - started:.1f} s")
    pages = {
        "first page": CaseFilters(),
        "filtered (investigating, overdue)": CaseFilters(status="investigating", due="overdue"),
    }
    for name, filters in pages.items():
        p50, p99, total = measure(engine, viewer, filters, runs)
        shown = f"{total - 1:,}+" if total > COUNT_CAP else f"{total:,}"
        print(f"  {name:36} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  ({shown} visible, 50 per page)")


def reset(engine: Engine) -> None:
    """Empty the benchmark database, migration bookkeeping included, so upgrade starts over."""
    Base.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    print(f"cases={args.cases:,} runs={args.runs} page_size=50 kdf_profile=test")
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        run("SQLite", engine, args.cases, args.runs)
        engine.dispose()
    pg_url = os.environ.get("PORTAL_BENCH_PG_URL")
    if pg_url:
        engine = make_engine(pg_url)
        reset(engine)
        run("PostgreSQL", engine, args.cases, args.runs)
        reset(engine)
        engine.dispose()


if __name__ == "__main__":
    main()
