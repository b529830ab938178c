"""Load benchmark: sustained report filing by 20 clients, then receipt checks under a flood.

With ``--processes N`` (and ``--postgres URL``) it instead files reports round the first 1,
2, … N `portal serve` processes on a fresh database each time, and prints submissions/s, p99
and each process's peak resident memory side by side; every run also measures the bound one
Argon2id derivation per submission puts on this machine (cores ÷ one derivation's time) and
prints the achieved share of it.

Starts `portal serve` (or, when the `portal` script is not installed, uvicorn on
bench.load.serve:app as a stand-in) on loopback with a fresh PORTAL_DATA_DIR and spam
limits raised through the environment, prints the values it ran with, then:

1. 20 concurrent clients file reports through POST /api/v1/reports for 30 s, in 6
   segments of 5 s; one Argon2id derivation is timed before each segment and after the
   last, with the server idle, because this machine's derivation time drifts by a fifth
   within minutes: each segment is judged against the bound measured next to it. The
   derivations/s with every core deriving at once is measured next to each segment too and
   printed as a second yardstick: parallel derivations share the memory bus and cache, so it
   sits a few per cent under cores ÷ one idle derivation.
   Submissions per second, errors, p50/p99 latency, the share of the bound, and the
   server's CPU per report (of which one derivation is what has to be there).
2. 8 clients send wrong receipts (well-formed: half for existing selectors with a wrong
   verifier, half for unknown selectors) while one client checks correct receipts:
   p50/p99 latency of the correct check, and what the flood got back.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import shutil
import statistics
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

import crypto
from bench.load.client import run_clients
from bench.load.server import Server

ENV = {
    "PORTAL_REPORTS_PER_CHANNEL_PER_HOUR": "10000000",
    "PORTAL_RECEIPT_FAILURES_PER_SELECTOR": "5",
    "PORTAL_KDF_PROFILE": "owasp",
    "PORTAL_TIMEZONE": "Asia/Shanghai",
}


class FreshPostgres:
    """A database of the run's own on a PostgreSQL server, dropped at the end."""

    def __init__(self, admin_url: str) -> None:
        from sqlalchemy import create_engine, make_url

        self.name = f"portal_bench_load_{secrets.token_hex(4)}"
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {self.name}")
        url = make_url(admin_url).set(database=self.name)
        self.url = url.render_as_string(hide_password=False)

    def drop(self) -> None:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        self.admin.dispose()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def report(channel: dict[str, Any], n: int) -> dict[str, Any]:
    return {
        "channel": channel["id"],
        "category": random.choice(channel["categories"])["id"],
        "summary": f"Bench report {n}: order diverted to a competitor",
        "details": "Details of the matter, as a reporter would write them. " * 20,
        "subjects": [{"name": "Wang Wei"}],
        "exclude": [],
        "identity": None,
    }


def file_reports(
    url: str | list[str], clients: int, seconds: float
) -> tuple[list[float], Counter[int], list[str]]:
    """`clients` keep-alive connections file reports for `seconds` (bench/load/client.py:
    a light client, so the machine's cores go to the server being measured)."""
    urls = [url] if isinstance(url, str) else url
    channel = httpx.get(f"{urls[0]}/api/v1/channels").json()[0]
    tally = run_clients(
        urls, "/api/v1/reports", clients, seconds, lambda i, n: report(channel, i * 100000 + n)
    )
    receipts = [json.loads(body)["receipt"] for body in tally.bodies]
    return tally.latencies, tally.statuses, receipts


def flood(url: str, known: list[str], stop: threading.Event, statuses: Counter[int]) -> None:
    lock = threading.Lock()

    def wrong() -> str:
        if random.random() < 0.5:
            selector = crypto.parse_receipt(random.choice(known)).selector
            return crypto.Receipt(
                selector, "".join(random.choices("0123456789ABCDEF", k=16))
            ).formatted()
        return crypto.new_receipt().formatted()

    with httpx.Client(base_url=url, timeout=30) as http:
        while not stop.is_set():
            try:
                status = http.post(
                    "/api/v1/reporter/session", json={"receipt": wrong()}
                ).status_code
            except httpx.HTTPError:
                status = 0
            with lock:
                statuses[status] += 1


def checks_under_flood(
    url: str, receipts: list[str], flooders: int, seconds: float
) -> dict[str, Any]:
    half = len(receipts) // 2
    flood_pool, check_pool = receipts[:half], receipts[half:]
    stop = threading.Event()
    flood_statuses: Counter[int] = Counter()
    threads = [
        threading.Thread(target=flood, args=(url, flood_pool, stop, flood_statuses))
        for _ in range(flooders)
    ]
    for thread in threads:
        thread.start()
    time.sleep(2)  # let the flood build up first
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    end = time.monotonic() + seconds
    with httpx.Client(base_url=url, timeout=30) as http:
        for receipt in check_pool:
            if time.monotonic() >= end:
                break
            started = time.perf_counter()
            answer = http.post("/api/v1/reporter/session", json={"receipt": receipt})
            latencies.append(time.perf_counter() - started)
            statuses[answer.status_code] += 1
    stop.set()
    for thread in threads:
        thread.join()
    return {"latencies": latencies, "statuses": statuses, "flood": flood_statuses}


def argon2_bound(runs_of: int = 15) -> tuple[float, float]:
    """(one receipt derivation in ms, the machine's bound in submissions/s: cores ÷ that)."""
    profile = crypto.profile_named("owasp")
    salt = secrets.token_bytes(16)
    crypto.derive_keys(b"warm-up", salt, profile)
    runs = []
    for _ in range(runs_of):
        started = time.perf_counter()
        crypto.derive_keys(secrets.token_bytes(16), salt, profile)
        runs.append(time.perf_counter() - started)
    one = statistics.median(runs)
    return one * 1000, (os.cpu_count() or 1) / one


def argon2_saturated(per_core: int = 6) -> float:
    """Derivations per second with every core deriving at once: what the machine can do if it
    did nothing but a report's one derivation. Lower than cores ÷ one idle derivation, because
    parallel derivations share the memory bus and the last-level cache (19 MiB each)."""
    profile = crypto.profile_named("owasp")
    salt = secrets.token_bytes(16)
    cores = os.cpu_count() or 1
    with ThreadPoolExecutor(cores) as pool:
        list(pool.map(lambda _: crypto.derive_keys(b"warm-up", salt, profile), range(cores)))
        started = time.perf_counter()
        list(
            pool.map(
                lambda _: crypto.derive_keys(secrets.token_bytes(16), salt, profile),
                range(cores * per_core),
            )
        )
        return cores * per_core / (time.perf_counter() - started)


@dataclass
class Segment:
    ok: int
    errors: int
    seconds: float
    # One derivation's time (ms) just before and just after the segment, server idle.
    before_ms: float
    after_ms: float
    # Derivations/s with every core deriving (argon2_saturated), before and after.
    saturated_before: float
    saturated_after: float

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    @property
    def bound(self) -> float:
        """The higher of the two bounds next to it: other load lowers the ratio, never raises it."""
        return (os.cpu_count() or 1) / (min(self.before_ms, self.after_ms) / 1000)

    @property
    def saturated(self) -> float:
        """The higher of the two all-cores measurements next to it."""
        return max(self.saturated_before, self.saturated_after)


def file_in_segments(
    url: str, clients: int, seconds: float, segments: int
) -> tuple[list[Segment], list[float], Counter[int], list[str]]:
    """File for `seconds` in `segments` parts, timing a derivation between parts."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    receipts: list[str] = []
    parts: list[Segment] = []
    before_ms, _ = argon2_bound(9)
    saturated_before = argon2_saturated()
    for _ in range(segments):
        started = time.perf_counter()
        part_latencies, part_statuses, part_receipts = file_reports(
            url, clients, seconds / segments
        )
        # Until the last answer came back: the clients' ramp-down counts against the rate.
        took = time.perf_counter() - started
        after_ms, _ = argon2_bound(9)
        saturated_after = argon2_saturated()
        ok = part_statuses.get(201, 0)
        parts.append(
            Segment(
                ok,
                sum(part_statuses.values()) - ok,
                took,
                before_ms,
                after_ms,
                saturated_before,
                saturated_after,
            )
        )
        latencies += part_latencies
        statuses += part_statuses
        receipts += part_receipts
        before_ms, saturated_before = after_ms, saturated_after
    return parts, latencies, statuses, receipts


def processes_side_by_side(args: argparse.Namespace) -> None:
    """1, 2, … N processes on a fresh PostgreSQL database each; one line per count."""
    one_ms, bound = argon2_bound()
    print(f"Argon2id (owasp) derivation: {one_ms:.1f} ms; bound {bound:.0f} submissions/s")
    print(f"{args.clients} clients, {args.seconds:.0f} s per run, clients spread over processes")
    print(
        f"{'processes':>9} {'subm/s':>8} {'errors':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'of bound':>8} {'peak RSS per process (MiB)':>28}"
    )
    for count in range(1, args.processes + 1):
        fresh = FreshPostgres(args.postgres)
        data_dir = tempfile.mkdtemp(prefix="portal-bench-load-")
        env = {**ENV, "PORTAL_DATA_DIR": data_dir, "PORTAL_DATABASE_URL": fresh.url}
        servers = [Server.portal(env)]
        servers += [Server.portal_more(env) for _ in range(count - 1)]
        try:
            latencies, statuses, _ = file_reports(
                [s.url for s in servers], args.clients, args.seconds
            )
            ok = statuses.get(201, 0)
            rate = ok / args.seconds
            peaks = " ".join(f"{max(s.peaks_mib()):.0f}" for s in servers)
            print(
                f"{count:>9} {rate:>8.1f} {sum(statuses.values()) - ok:>7} "
                f"{percentile(latencies, 0.5) * 1000:>7.0f} "
                f"{percentile(latencies, 0.99) * 1000:>7.0f} {rate / bound:>8.2f} {peaks:>28}"
            )
        finally:
            for server in servers:
                server.stop()
            shutil.rmtree(data_dir, ignore_errors=True)
            fresh.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument(
        "--segments", type=int, default=6, help="parts of the filing, each with its own bound"
    )
    parser.add_argument("--flooders", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="a PostgreSQL URL whose role may CREATE DATABASE: run on a fresh database there",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=0,
        metavar="N",
        help="with --postgres: file round 1..N `portal serve` processes, side by side",
    )
    args = parser.parse_args()
    if args.processes:
        if not args.postgres:
            parser.error("--processes needs --postgres URL (processes share a server database)")
        processes_side_by_side(args)
        return
    data_dir = tempfile.mkdtemp(prefix="portal-bench-load-")
    env = {**ENV, "PORTAL_DATA_DIR": data_dir}
    fresh = FreshPostgres(args.postgres) if args.postgres else None
    if fresh is not None:
        env["PORTAL_DATABASE_URL"] = fresh.url
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    database = "a fresh PostgreSQL database" if fresh else "SQLite in the fresh PORTAL_DATA_DIR"
    how = "portal serve" if shutil.which("portal") else "uvicorn bench.load.serve:app"
    print(f"server: {how}, workers={args.workers}, 3 investigators, {database}")
    for name, value in env.items():
        print(f"  {name}={value}")
    server = Server.portal(env, workers=args.workers)
    try:
        cpu_before = server.cpu_seconds()
        parts, latencies, statuses, receipts = file_in_segments(
            server.url, args.clients, args.seconds, args.segments
        )
        cpu = server.cpu_seconds() - cpu_before
        ok = statuses.get(201, 0)
        seconds = sum(part.seconds for part in parts)
        print(
            f"\n1. filing: {args.clients} clients for {args.seconds:.0f} s in "
            f"{args.segments} segments"
        )
        print(
            f"   {'segment':>7} {'subm/s':>7} {'derivation ms':>18} {'bound':>6} {'of it':>6}"
            f" {'all cores deriving':>19} {'of it':>6}"
        )
        for n, part in enumerate(parts, 1):
            print(
                f"   {n:>7} {part.rate:>7.1f} {part.before_ms:>8.1f} → {part.after_ms:>6.1f} "
                f"{part.bound:>6.0f} {part.rate / part.bound:>6.2f} "
                f"{part.saturated:>19.0f} {part.rate / part.saturated:>6.2f}"
            )
        # Each segment against its own bound: reports filed over the reports the bound
        # would have allowed in the same time.
        allowed = sum(part.bound * part.seconds for part in parts)
        ratios = sorted(part.rate / part.bound for part in parts)
        print(f"   submissions: {ok} ok, {sum(statuses.values()) - ok} errors {dict(statuses)}")
        print(f"   throughput: {ok / seconds:.1f} submissions/s")
        print(
            f"   Argon2id bound ({os.cpu_count()} cores ÷ one derivation, measured next to each "
            f"segment): {allowed / seconds:.0f} submissions/s on average; achieved "
            f"{ok / allowed:.2f} of it (segments {ratios[0]:.2f}–{ratios[-1]:.2f}, median "
            f"{statistics.median(ratios):.2f}; goal: 0.7)"
        )
        saturated = sum(part.saturated * part.seconds for part in parts)
        print(
            f"   measured with every core deriving at once (what the machine does if it does "
            f"nothing else): {saturated / seconds:.0f} submissions/s on average; achieved "
            f"{ok / saturated:.2f} of it"
        )
        derivation_ms = statistics.fmean(min(part.before_ms, part.after_ms) for part in parts)
        per_report = cpu / ok * 1000
        print(
            f"   server CPU: {per_report:.1f} ms per report, of which one derivation is "
            f"{derivation_ms:.1f} ms ({derivation_ms / per_report:.0%}); the other "
            f"{per_report - derivation_ms:.1f} ms is the request, the transaction and the commit"
        )
        print(
            f"   latency: p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms"
        )
        result = checks_under_flood(server.url, receipts, args.flooders, args.seconds)
        lat = result["latencies"]
        print(
            f"\n2. correct receipt checks while {args.flooders} clients send wrong receipts "
            f"({args.seconds:.0f} s)"
        )
        print(f"   correct checks: {len(lat)} {dict(result['statuses'])}")
        print(
            f"   latency: p50 {percentile(lat, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(lat, 0.99) * 1000:.0f} ms, mean {statistics.fmean(lat) * 1000:.0f} ms"
        )
        print(f"   flood answers: {dict(result['flood'])}")
        peaks = ", ".join(f"{peak:.0f}" for peak in server.peaks_mib())
        print(f"\npeak resident memory per server process: {peaks} MiB (goal: under 200)")
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
        if fresh is not None:
            fresh.drop()


if __name__ == "__main__":
    main()
