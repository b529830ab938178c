"""The writer's CPU per filing, in process: `python -m bench.load.writer [--reports N]`.

Files N reports (the load bench's body: one named person, three investigators) one after
another on a fresh SQLite database, each in its own transaction as the route does, and
prints the thread CPU (`time.thread_time`) of the transaction, of `IntakeService.submit`
and of the commit, per report (median and mean). The receipts are derived beforehand with
the cheap test profile, outside the timing, as the server does on its Argon2 threads. Far
less noisy than `bench.load.run`, which measures the whole server on shared cores.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import crypto
from cases.clock import SystemClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.org.service import OrgService
from cases.reports.intake import (
    Draft,
    IntakeConfig,
    IntakeService,
    PreparedReceipt,
    SubjectInput,
    Submission,
)
from cases.staff.service import StaffService
from portal.migrations import upgrade

SECRET = b"b" * 32


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args()
    profile = crypto.profile_named("test", allow_test=True)
    with tempfile.TemporaryDirectory(prefix="bench-writer-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'portal.db'}")
        upgrade(engine)
        factory = session_factory(engine, SECRET)
        clock = SystemClock()
        with unit_of_work(factory) as db:
            staff = StaffService(db, clock, server_secret=SECRET, profile=profile)
            for n in range(3):
                staff.create(
                    f"investigator{n}@bench.example", f"bench pass {n} xyzzy!", ["investigator"]
                )
        with unit_of_work(factory) as db:
            channel = OrgService(db).general_channel()
            channel_id = channel.id
            categories = [c.id for c in channel.categories if c.active and not c.retaliation]
        config = IntakeConfig(
            zone=ZoneInfo("Asia/Shanghai"),
            profile=profile,
            server_secret=SECRET,
        )
        total, submit, commit = [], [], []
        for n in range(args.warmup + args.reports):
            sub = Submission(
                channel_id=channel_id,
                category_id=categories[n % len(categories)],
                summary=f"Bench report {n}: order diverted to a competitor",
                details="Details of the matter, as a reporter would write them. " * 20,
                subjects=[SubjectInput(name="Wang Wei")],
                intake="api",
            )
            draft = Draft.new(PreparedReceipt.new(profile))
            start = time.thread_time()
            with unit_of_work(factory) as db:
                IntakeService(db, clock, config).submit(sub, draft)
                filed = time.thread_time()
            end = time.thread_time()
            if n >= args.warmup:
                total.append(end - start)
                submit.append(filed - start)
                commit.append(end - filed)
        engine.dispose()
    for name, values in (("transaction", total), ("submit", submit), ("commit", commit)):
        print(
            f"{name:12} median {statistics.median(values) * 1000:6.2f} ms  "
            f"mean {statistics.fmean(values) * 1000:6.2f} ms  ({len(values)} reports)"
        )


if __name__ == "__main__":
    main()
