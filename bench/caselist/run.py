"""Case list and search at 100,000 cases: p50 and p99, in process and over HTTP.

Unlike bench/cases (clear columns only), this seeds real cryptography: every case has its
own random key, its report sealed under it, and the key wrapped for the viewer's real X25519
key, because the list opens the 50 summaries it shows and the search decrypts its window
(the most recent 2,000 cases the viewer may open) on every call. A fifth of the cases name
one of 2,000 directory people (the "related" flag), one in a hundred carries the search word.

Measured: the first list page with its summaries (CaseworkService.page + summaries, each
summary a `case.read` audit entry, as the page does), a search that finds the word, a
search that finds nothing, and a reference search; over HTTP, GET /api/v1/cases and
POST /api/v1/cases/search with a bearer token, served by uvicorn in a thread.

Run: python -m bench.caselist.run [--cases N] [--runs N] [--backends sqlite,postgresql];
PORTAL_BENCH_PG_URL=postgresql+psycopg://… adds a PostgreSQL pass, in a database of its own
(`<name>_caselist_bench`, created and dropped here), so it never touches what else uses that
server.
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
from sqlalchemy import create_engine, insert, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

import crypto
from bench.threaded import ThreadedServer, serve
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import SystemClock
from cases.db import make_engine, new_id, session_factory
from cases.models import Case, CaseSubject, KeyWrap, Receipt
from cases.org.service import OrgService
from cases.principals import StaffPrincipal
from cases.reports.keys import CASE, staff_holder, wrap_context
from cases.reports.sealing import REPORT, seal_json
from cases.staff.directory import directory_hashes
from cases.staff.models import StaffAccount
from cases.staff.service import StaffService
from cases.workflow.listing import CaseFilters
from cases.workflow.search import SEARCH_WINDOW
from portal.migrations import upgrade

TODAY = date(2026, 3, 2)
BATCH = 5000
SECRET = b"b" * 32
PASSWORD = "bench password 12345"  # noqa: S105 (the benchmark account's password)
WORD = "zephyrtrading"
WORD_EVERY = 100
NAMED_EVERY = 5
PEOPLE = 2000
ZONE_NAME = "Asia/Shanghai"


@dataclass(frozen=True)
class Viewer:
    email: str
    totp_secret: bytes
    public_key: bytes
    account_id: str


def seed(engine: Engine, count: int) -> tuple[Viewer, str]:
    """The cases and one investigator holding every key; returns them and a reference."""
    upgrade(engine)
    rng = random.Random(11)
    hashes = directory_hashes(SECRET, [f"P{n:05d}" for n in range(PEOPLE)])
    with session_factory(engine, SECRET)() as db:
        channel = OrgService(db).general_channel()
        profile = crypto.profile_named("test", allow_test=True)
        made = StaffService(db, SystemClock(), server_secret=SECRET, profile=profile).create(
            "viewer@corp.example", PASSWORD, ["investigator"]
        )
        assert made.totp_secret is not None
        account = made.account
        viewer = Viewer(account.email, made.totp_secret, account.public_key, account.id)
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
            cases, wraps, subjects = [], [], []
            for n in range(start, min(count, start + BATCH)):
                case, wrap, named = _case(rng, n, channel.id, categories, receipt.id, viewer)
                cases.append(case)
                wraps.append(wrap)
                if n % NAMED_EVERY == 0:
                    subjects.append(named | {"directory_hash": rng.choice(hashes)})
            db.execute(insert(Case), cases)
            db.execute(insert(KeyWrap), wraps)
            if subjects:
                db.execute(insert(CaseSubject), subjects)
            db.commit()
    return viewer, f"B{count // 2:09d}"


def _case(
    rng: random.Random,
    n: int,
    channel_id: str,
    categories: list[str],
    receipt_id: str,
    viewer: Viewer,
) -> tuple[dict[str, object], dict[str, object], dict[str, object]]:
    case_id, key = new_id(), crypto.random_key()
    submitted = TODAY - timedelta(days=rng.randint(0, 700))
    word = f" The orders went to {WORD}." if n % WORD_EVERY == 0 else ""
    report = {
        "summary": f"Orders diverted, account {n}",
        "details": f"Over several months the key account's orders went elsewhere.{word}",
    }
    holder = staff_holder(viewer.account_id)
    case = {
        "id": case_id,
        "reference": f"B{n:09d}",
        "channel_id": channel_id,
        "category_id": rng.choice(categories),
        "kind": "report",
        "intake": "web",
        "priority": "normal",
        "status": "new",
        "confidential": False,
        "submitted_on": submitted,
        "acknowledge_by": submitted + timedelta(days=7),
        "feedback_by": submitted + timedelta(days=97),
        "due_on": submitted + timedelta(days=7),
        "receipt_id": receipt_id,
        "content": seal_json(key, case_id, REPORT, case_id, report),
    }
    wrap = {
        "id": new_id(),
        "case_id": case_id,
        "key_kind": CASE,
        "holder": holder,
        "staff_id": viewer.account_id,
        "wrapped": crypto.wrap_for(viewer.public_key, key, wrap_context(case_id, CASE, holder)),
        "created_at": datetime(2026, 3, 2),
    }
    subject = {
        "id": new_id(),
        "case_id": case_id,
        "matched_by": "employee_id",
        "needs_confirmation": False,
        "sealed": os.urandom(96),
    }
    return case, wrap, subject


def percentiles(timings: list[float]) -> tuple[float, float]:
    timings = sorted(timings)
    return statistics.median(timings), timings[min(len(timings) - 1, int(len(timings) * 0.99))]


def timed(call: Callable[[], object], runs: int, cpu_time: bool = True) -> str:
    """Wall-clock p50/p99, and the median CPU time of this process's thread per call: on a
    shared, loaded machine the wall time is mostly waiting for a core, the CPU time is not."""
    call()  # warm
    timings, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.thread_time()
        call()
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
    p50, p99 = percentiles(timings)
    shown = f"  cpu {statistics.median(cpu):7.1f} ms" if cpu_time else ""
    return f"p50 {p50:8.1f} ms  p99 {p99:8.1f} ms{shown}"


def in_process(engine: Engine, viewer: Viewer, reference: str, runs: int) -> None:
    from zoneinfo import ZoneInfo

    factory = session_factory(engine, SECRET)
    profile = crypto.profile_named("test", allow_test=True)
    config = CaseworkConfig(ZoneInfo(ZONE_NAME), SECRET)

    with factory() as db:
        staff = db.get(StaffAccount, viewer.account_id)
        assert staff is not None
        service = StaffService(db, SystemClock(), server_secret=SECRET, profile=profile)
        private_key = service.check_password(staff, PASSWORD)

    def principal(db: Session) -> StaffPrincipal:
        """The viewer as a request sees them: the account row and the key their session holds."""
        staff = db.get(StaffAccount, viewer.account_id)
        assert staff is not None
        return StaffPrincipal(staff, private_key)

    def list_page() -> None:
        with factory() as db:
            work = CaseworkService(db, SystemClock(), config)
            me = principal(db)
            work.summaries(me, work.page(me, CaseFilters(flood="none")))
            db.commit()

    def search(query: str) -> Callable[[], object]:
        def call() -> object:
            with factory() as db:
                result, _ = CaseworkService(db, SystemClock(), config).search(
                    principal(db), CaseFilters(), query
                )
                db.commit()
                return result

        return call

    found = search(WORD)()
    print(f"    list page (50, summaries opened)   in process {timed(list_page, runs)}")
    print(
        f"    search, word found                 in process {timed(search(WORD), runs)}"
        f"  ({found.total} found among {found.searched:,} decrypted, cut={found.cut})"
    )
    print(f"    search, word absent                in process {timed(search('nowhere'), runs)}")
    print(f"    search, by reference               in process {timed(search(reference), runs)}")


def over_http(url: str, engine: Engine, viewer: Viewer, runs: int) -> None:
    server = _serve(url, engine)
    try:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            body = {
                "email": viewer.email,
                "password": PASSWORD,
                "totp": crypto.totp_code(viewer.totp_secret, time.time()),
            }
            answer = client.post("/api/v1/staff/session", json=body)
            answer.raise_for_status()
            headers = {"Authorization": f"Bearer {answer.json()['token']}"}

            def get() -> None:
                client.get("/api/v1/cases", headers=headers).raise_for_status()

            def post() -> None:
                client.post(
                    "/api/v1/cases/search", headers=headers, json={"q": WORD}
                ).raise_for_status()

            listed, searched = timed(get, runs, False), timed(post, runs, False)
            print(f"    GET /api/v1/cases                  over HTTP  {listed}")
            print(f"    POST /api/v1/cases/search          over HTTP  {searched}")
    finally:
        server.stop()


def _serve(url: str, engine: Engine) -> ThreadedServer:
    return serve(url, engine, SECRET, "bench-caselist-")


def run(label: str, engine: Engine, url: str, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    viewer, reference = seed(engine, args.cases)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    print(f"{label}: seeded {args.cases:,} sealed cases in {time.perf_counter() - started:.1f} s")
    in_process(engine, viewer, reference, args.runs)
    over_http(url, engine, viewer, args.runs)


def own_database(server_url: str, create: bool) -> str:
    """Create (or drop) the benchmark's own database on that server; returns its URL."""
    url = make_url(server_url)
    name = f"{url.database}_caselist_bench"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    backends = set(args.backends.split(","))
    print(
        f"cases={args.cases:,} search_window={SEARCH_WINDOW:,} word_every={WORD_EVERY} "
        f"named_every={NAMED_EVERY} people={PEOPLE:,} runs={args.runs} page_size=50 "
        f"cpus={os.cpu_count()} "
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
        url = own_database(pg_url, create=True)
        engine = make_engine(url)
        try:
            run("PostgreSQL", engine, url, args)
        finally:
            engine.dispose()
            own_database(pg_url, create=False)


if __name__ == "__main__":
    main()
