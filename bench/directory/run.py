"""Directory import's checks at 200,000 rows (the upload limit): duplicates and cycles.

Times the in-memory checks a directory file goes through before anything is written:
the duplicate-id check and the management-cycle walk, on a chain of MAX_ROWS rows with one
duplicate at the end. Run: python -m bench.directory.run [--rows N]
"""

from __future__ import annotations

import argparse
import time

from cases.staff.directory import MAX_ROWS, duplicate_ids, find_cycle


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=MAX_ROWS)
    rows = parser.parse_args().rows
    ids = [f"E{n:07d}" for n in range(rows - 1)] + ["E0000000"]
    managers = {ids[n]: ids[n - 1] if n else "" for n in range(rows - 1)}

    started = time.perf_counter()
    duplicates = duplicate_ids(ids)
    checked = time.perf_counter()
    cycle = find_cycle(managers)
    walked = time.perf_counter()

    print(f"rows: {rows}")
    print(f"duplicate check: {(checked - started) * 1000:.1f} ms (found {duplicates})")
    print(f"cycle walk: {(walked - checked) * 1000:.1f} ms (cycle: {cycle})")


if __name__ == "__main__":
    main()
