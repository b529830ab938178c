"""Case-list latency, 100,000 cases and 10,000 people: p50 and p99, in process and over HTTP.

Seeds through bulk inserts (what is measured is the listing, not intake): the case
content is an opaque blob, and the viewers' key wraps are real-sized blobs, since the
list never decrypts. Every case names at least one subject; most are directory people,
stored as the keyed hash intake stores. The directory holds no hash (docs/access.md), so
each listing hashes the viewer's own chain under the server secret: the viewers sit at
the top of the directory (everyone below them), at the head of a division, and at the
bottom (themselves only). Over HTTP the list is GET /api/v1/cases with a bearer token,
served by uvicorn in a thread.

Run: python -m bench.cases.run [--cases N] [--people N] [--runs N] [--backends sqlite,postgresql];
PORTAL_BENCH_PG_URL=postgresql+psycopg://… adds a PostgreSQL pass (the database is
emptied first and after).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import crypto
from bench.threaded import ThreadedServer, serve
from cases.db import Base, make_engine, new_id, session_factory
from cases.models import Case, CaseAssignee, CaseExclusion, CaseSubject, KeyWrap, Receipt
from cases.org.service import OrgService
from cases.reports.keys import wrap_context
from cases.reports.sealing import REPORT, seal_json
from cases.staff.directory import directory_hashes
from cases.staff.models import DirectoryEntry, StaffAccount
from cases.staff.service import StaffService
from cases.workflow.listing import COUNT_CAP, CaseFilters, CaseList
from portal.migrations import upgrade

STATUSES = ["new", "acknowledged", "investigating", "concluded", "closed"]
TODAY = date(2026, 3, 2)
BATCH = 5000
DEPTH = 6  # levels of management, the top person included
SECRET = b"b" * 32
PASSWORD = "bench password 12345"  # noqa: S105 (the benchmark accounts' password)
UNMATCHED_SUBJECTS = 0.1  # share of subjects named by a reporter but not in the directory
SECOND_SUBJECT_EVERY = 5


@dataclass(frozen=True)
class Viewer:
    label: str
    email: str
    employee_id: str
    chain: int  # people at or below them in the directory
    totp_secret: bytes


def directory(people: int) -> list[dict[str, object]]:
    """A tree DEPTH levels deep: one head, then six times as many per level, the rest last."""
    sizes = [6**level for level in range(DEPTH - 1)]
    sizes.append(max(0, people - sum(sizes)))
    rows: list[dict[str, object]] = []
    previous: list[str] = []
    for level, size in enumerate(sizes):
        ids = [f"E{level}{n:06d}" for n in range(size)]
        rows += [
            {
                "id": new_id(),
                "employee_id": employee_id,
                "name": f"Person {employee_id}",
                "email": f"{employee_id.lower()}@corp.example",
                "department": f"Division {n % 6}",
                "manager_employee_id": previous[n % len(previous)] if previous else None,
                "updated_at": datetime(2026, 3, 2),
            }
            for n, employee_id in enumerate(ids)
        ]
        previous = ids
    return rows


def chain_size(rows: list[dict[str, object]], employee_id: str) -> int:
    below: dict[object, list[object]] = {}
    for row in rows:
        below.setdefault(row["manager_employee_id"], []).append(row["employee_id"])
    todo, seen = [employee_id], 0
    while todo:
        seen += 1
        todo += below.get(todo.pop(), [])
    return seen


def seed(engine: Engine, count: int, people: int) -> list[Viewer]:
    upgrade(engine)  # the real schema and seeded channel, as `portal migrate` makes them
    rng = random.Random(7)
    rows = directory(people)
    with session_factory(engine, SECRET)() as db:
        channel = OrgService(db).general_channel()
        db.execute(insert(DirectoryEntry), rows)
        heads = {"top of the directory": "E0000000", "division head": "E1000000"}
        heads["bottom of the directory"] = str(rows[-1]["employee_id"])
        viewers = [_viewer(db, label, employee_id, rows) for label, employee_id in heads.items()]
        holders = [db.query(StaffAccount).filter_by(email=v.email).one() for v in viewers]
        accounts = {account.id: account.public_key for account in holders}
        receipt = Receipt(
            selector="BENCH",
            salt=b"s" * 16,
            verifier=b"v" * 32,
            kdf_profile="test",
            created_on=TODAY,
        )
        db.add(receipt)
        db.commit()
        hashes = directory_hashes(SECRET, [str(row["employee_id"]) for row in rows])
        categories = [c.id for c in channel.categories]
        for start in range(0, count, BATCH):
            size = min(BATCH, count - start)
            batch = _Batch(rng, channel.id, categories, receipt.id, accounts, hashes)
            batch.fill(start, size)
            batch.write(db)
            db.commit()
    return viewers


def _viewer(db: Session, label: str, employee_id: str, rows: list[dict[str, object]]) -> Viewer:
    profile = crypto.profile_named("test", allow_test=True)
    staff = StaffService(db, _Clock(), server_secret=SECRET, profile=profile)
    email = f"{employee_id.lower()}@corp.example"
    made = staff.create(email, PASSWORD, ["investigator"], employee_id=employee_id)
    assert made.totp_secret is not None
    return Viewer(label, email, employee_id, chain_size(rows, employee_id), made.totp_secret)


@dataclass
class _Batch:
    rng: random.Random
    channel_id: str
    categories: list[str]
    receipt_id: str
    # account id -> public key: all hold every case key (really wrapped, since the list opens
    # the summaries it shows); the last is an assignee
    viewers: dict[str, bytes]
    hashes: list[str]

    def __post_init__(self) -> None:
        self.rows: dict[type[Base], list[dict[str, object]]] = {
            Case: [],
            KeyWrap: [],
            CaseSubject: [],
            CaseExclusion: [],
            CaseAssignee: [],
        }

    def fill(self, start: int, size: int) -> None:
        for n in range(start, start + size):
            case_id, key = new_id(), crypto.random_key()
            self.rows[Case].append(self._case(n, case_id, key))
            self.rows[KeyWrap] += [
                _wrap(case_id, staff_id, public, key) for staff_id, public in self.viewers.items()
            ]
            subjects = 2 if n % SECOND_SUBJECT_EVERY == 0 else 1
            self.rows[CaseSubject] += [self._subject(case_id) for _ in range(subjects)]
            if n % 10 == 0:
                self.rows[CaseExclusion].append(
                    {"case_id": case_id, "staff_id": list(self.viewers)[1], "reason": "reporter"}
                )
            if n % 3 == 0:
                assignee = list(self.viewers)[-1]
                self.rows[CaseAssignee].append({"case_id": case_id, "staff_id": assignee})

    def write(self, db: Session) -> None:
        for model, rows in self.rows.items():
            if rows:
                db.execute(insert(model), rows)

    def _case(self, n: int, case_id: str, key: bytes) -> dict[str, object]:
        status = self.rng.choice(STATUSES)
        submitted = TODAY - timedelta(days=self.rng.randint(0, 400))
        ack, feedback = submitted + timedelta(days=7), submitted + timedelta(days=97)
        due = ack if status == "new" else feedback if status in STATUSES[1:3] else None
        return {
            "id": case_id,
            "reference": f"B{n:09d}",
            "channel_id": self.channel_id,
            "category_id": self.rng.choice(self.categories),
            "kind": "report",
            "intake": "web",
            "priority": "normal",
            "status": status,
            "confidential": False,
            "submitted_on": submitted,
            "acknowledge_by": ack,
            "feedback_by": feedback,
            "due_on": due,
            "receipt_id": self.receipt_id,
            "content": seal_json(key, case_id, REPORT, case_id, {"summary": f"Bench report {n}"}),
        }

    def _subject(self, case_id: str) -> dict[str, object]:
        matched = self.rng.random() >= UNMATCHED_SUBJECTS
        return {
            "id": new_id(),
            "case_id": case_id,
            "directory_hash": self.rng.choice(self.hashes) if matched else None,
            "matched_by": "employee_id" if matched else "none",
            "needs_confirmation": False,
            "sealed": os.urandom(96),
        }


def _wrap(case_id: str, staff_id: str, public: bytes, key: bytes) -> dict[str, object]:
    holder = f"staff:{staff_id}"
    return {
        "id": new_id(),
        "case_id": case_id,
        "key_kind": "case",
        "holder": holder,
        "staff_id": staff_id,
        "wrapped": crypto.wrap_for(public, key, wrap_context(case_id, "case", holder)),
    }


class _Clock:
    def now(self):  # type: ignore[no-untyped-def]
        from cases.db import utcnow

        return utcnow()


def percentiles(timings: list[float]) -> tuple[float, float]:
    timings = sorted(timings)
    return statistics.median(timings), timings[min(len(timings) - 1, int(len(timings) * 0.99))]


def timed(call: Callable[[], object], runs: int) -> tuple[float, float]:
    call()  # warm: the first call fills caches a long-running server would have warm
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return percentiles(timings)


def in_process(engine: Engine, viewer: Viewer, filters: CaseFilters, runs: int) -> str:
    with session_factory(engine, SECRET)() as db:
        staff = db.query(StaffAccount).filter_by(email=viewer.email).one()
        listing = CaseList(db)
        total = listing.page(staff, TODAY, filters).total
        p50, p99 = timed(lambda: listing.page(staff, TODAY, filters), runs)
    shown = f"{total - 1:,}+" if total > COUNT_CAP else f"{total:,}"
    return f"p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  ({shown} visible, 50 per page)"


def login(client: httpx.Client, viewer: Viewer) -> dict[str, str]:
    """A bearer token by the real login (password and TOTP), as a staff API client gets one."""
    body = {
        "email": viewer.email,
        "password": PASSWORD,
        "totp": crypto.totp_code(viewer.totp_secret, time.time()),
    }
    answer = client.post("/api/v1/staff/session", json=body)
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def over_http(
    client: httpx.Client, headers: dict[str, str], params: dict[str, str], runs: int
) -> str:
    def get() -> None:
        client.get("/api/v1/cases", params=params, headers=headers).raise_for_status()

    p50, p99 = timed(get, runs)
    return f"p50 {p50:7.2f} ms  p99 {p99:7.2f} ms"


PAGES = {
    "first page": (CaseFilters(), {}),
    "filtered (investigating, overdue)": (
        CaseFilters(status="investigating", due="overdue"),
        {"status": "investigating", "due": "overdue"},
    ),
}


def run(label: str, engine: Engine, url: str, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    viewers = seed(engine, args.cases, args.people)
    # Fresh statistics and visibility map, as autovacuum would leave them on a live server.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    print(
        f"{label}: seeded {args.cases:,} cases and {args.people:,} people "
        f"in {time.perf_counter() - started:.1f} s"
    )
    server = _serve(url, engine)
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for viewer in viewers:
                print(f"  viewer: {viewer.label} ({viewer.chain:,} people in their chain)")
                headers = login(client, viewer)
                for name, (filters, params) in PAGES.items():
                    local = in_process(engine, viewer, filters, args.runs)
                    print(f"    {name:34} in process {local}")
                    print(f"    {'':34} over HTTP  {over_http(client, headers, params, args.runs)}")
    finally:
        server.stop()


def _serve(url: str, engine: Engine) -> ThreadedServer:
    return serve(url, engine, SECRET, "bench-cases-")


def reset(engine: Engine) -> None:
    """Empty the benchmark database, migration bookkeeping included, so upgrade starts over."""
    Base.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument(
        "--backends", default="sqlite,postgresql", help="which to run (PostgreSQL needs the URL)"
    )
    args = parser.parse_args()
    backends = set(args.backends.split(","))
    print(
        f"cases={args.cases:,} people={args.people:,} depth={DEPTH} "
        f"subjects_per_case=1 (2 on every {SECOND_SUBJECT_EVERY}th) "
        f"unmatched_subjects={UNMATCHED_SUBJECTS:.0%} runs={args.runs} page_size=50 "
        f"kdf_profile=test cpus={os.cpu_count()} "
        f"load_average={'/'.join(f'{n:.1f}' for n in os.getloadavg())}"
    )
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            engine = make_engine(url)
            run("SQLite", engine, url, args)
            engine.dispose()
    pg_url = os.environ.get("PORTAL_BENCH_PG_URL")
    if pg_url and "postgresql" in backends:
        engine = make_engine(pg_url)
        reset(engine)
        run("PostgreSQL", engine, pg_url, args)
        reset(engine)
        engine.dispose()


if __name__ == "__main__":
    main()
