"""What a report costs the server besides its one derivation: `python -m bench.load.overhead`.

Serves the portal's app with the cheap "test" key-derivation profile (bench/load/serve.py
`cheap_app`, which only the benches reach) on a fresh SQLite database, files reports with
20 light clients (bench/load/client.py) for a few rounds, and prints the server's CPU per
report (user and system, /proc) and the statements-free part of it: the request, the
transaction and the commit, measured without Argon2's 19 MiB per derivation evicting the
caches, so it is lower than under `bench.load.run`. Far less noisy than that bench when the
machine is shared, because it counts the server's CPU time, not the rate: use it to compare
two versions of the filing path, alternating them.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from functools import partial
from typing import Any

import crypto
from bench.load.client import run_clients
from bench.load.run import ENV, report
from bench.load.server import Server


def cheap_derivation_ms(runs: int = 200) -> float:
    """One derivation with the test profile, as the server does it per report."""
    profile = crypto.profile_named("test", allow_test=True)
    started = time.thread_time()
    for _ in range(runs):
        crypto.derive_keys(b"x" * 16, b"s" * 16, profile)
    return (time.thread_time() - started) / runs * 1000


def _numbered(channel: dict[str, Any], base: int, client: int, n: int) -> dict[str, Any]:
    """The bench's report, numbered apart for each round and client."""
    return report(channel, base + client * 10**4 + n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="portal-bench-overhead-")
    env = {**ENV, "PORTAL_DATA_DIR": data_dir, "PORTAL_RUN_JOBS": "0"}
    server = Server.uvicorn("bench.load.serve:cheap_app", env)
    try:
        import httpx

        channel = httpx.get(f"{server.url}/api/v1/channels").json()[0]
        # Warm-up: the first reports fill the process's caches.
        run_clients(
            [server.url], "/api/v1/reports", args.clients, 2, lambda i, n: report(channel, n)
        )
        per_report = []
        for r in range(args.rounds):
            before = server.cpu_seconds()
            tally = run_clients(
                [server.url],
                "/api/v1/reports",
                args.clients,
                args.seconds,
                partial(_numbered, channel, (r + 1) * 10**6),
            )
            ok = tally.statuses.get(201, 0)
            per_report.append((server.cpu_seconds() - before) / max(ok, 1) * 1000)
            print(f"round {r + 1}: {ok} reports, {per_report[-1]:.2f} ms of server CPU each")
        derivation = cheap_derivation_ms()
        median = statistics.median(per_report)
        print(
            f"server CPU per report: median {median:.2f} ms over {args.rounds} rounds "
            f"(min {min(per_report):.2f}); of it the test profile's derivation is about "
            f"{derivation:.2f} ms, so besides a derivation: {median - derivation:.2f} ms"
        )
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
