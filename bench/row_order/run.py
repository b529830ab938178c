"""What the hourly `row_order` job costs on SQLite after an hour of uploads.

Fills a fresh, migrated SQLite database with attachment chunks (256 KiB of random bytes
each, as `AttachmentWriter` stores them) and times one `blur` round, which moves every row
written since the last round to a new rowid: the write lock is held for that long.

    python -m bench.row_order.run [--mib 512]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date, datetime

from sqlalchemy import insert

from cases.db import make_engine, new_id, session_factory, unit_of_work
from cases.reports.models import Attachment, AttachmentChunk
from cases.row_order import blur
from portal.migrations import upgrade

CHUNK = 256 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=512, help="uploaded in the hour (MiB)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/portal.db"
        engine = make_engine(url)
        upgrade(engine)
        factory = session_factory(engine, os.urandom(32))
        chunks = args.mib * 1024 * 1024 // CHUNK
        per_file = 64  # 16 MiB files
        with unit_of_work(factory) as db:
            for start in range(0, chunks, per_file):
                file_id = new_id()
                db.execute(
                    insert(Attachment),
                    {
                        "id": file_id,
                        "case_id": new_id(),
                        "author": "reporter",
                        "header": b"h",
                        "file_key": b"k",
                        "created_on": date(2026, 3, 2),
                        "sweep_after": datetime(2026, 3, 3),
                    },
                )
                rows = [
                    {"attachment_id": file_id, "idx": n, "data": os.urandom(CHUNK)}
                    for n in range(min(per_file, chunks - start))
                ]
                db.execute(insert(AttachmentChunk), rows)
        began = time.perf_counter()
        with unit_of_work(factory) as db:
            moved = blur(db, datetime(2026, 3, 2, 10, 0, 30))
        took = time.perf_counter() - began
        engine.dispose()
    print(f"uploaded in the hour: {args.mib} MiB in {chunks} chunks of {CHUNK // 1024} KiB")
    print(f"rows moved: {moved}")
    print(f"blur round: {took:.2f} s, {took * 1024 / args.mib:.1f} s per GiB (write lock held)")


if __name__ == "__main__":
    main()
