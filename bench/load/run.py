"""Load benchmark: sustained report filing by 20 clients, then receipt checks under a flood.

Starts `portal serve` (or, when the `portal` script is not installed, uvicorn on
bench.load.serve:app as a stand-in) on loopback with a fresh PORTAL_DATA_DIR and spam
limits raised through the environment, prints the values it ran with, then:

1. 20 concurrent clients file reports through POST /api/v1/reports for 30 s:
   submissions per second, errors, p50/p99 latency.
2. 8 clients send wrong receipts (well-formed: half for existing selectors with a wrong
   verifier, half for unknown selectors) while one client checks correct receipts:
   p50/p99 latency of the correct check, and what the flood got back.
"""

from __future__ import annotations

import argparse
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
from typing import Any

import httpx

import crypto
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
    url: str, clients: int, seconds: float
) -> tuple[list[float], Counter[int], list[str]]:
    channel = httpx.get(f"{url}/api/v1/channels").json()[0]
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    receipts: list[str] = []
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def client(index: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            n = 0
            while time.monotonic() < end:
                started = time.perf_counter()
                try:
                    answer = http.post("/api/v1/reports", json=report(channel, index * 100000 + n))
                    status = answer.status_code
                except httpx.HTTPError:
                    status = 0
                took = time.perf_counter() - started
                with lock:
                    latencies.append(took)
                    statuses[status] += 1
                    if status == 201:
                        receipts.append(answer.json()["receipt"])
                n += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, statuses, receipts


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--flooders", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="a PostgreSQL URL whose role may CREATE DATABASE: run on a fresh database there",
    )
    args = parser.parse_args()
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
        latencies, statuses, receipts = file_reports(server.url, args.clients, args.seconds)
        ok = statuses.get(201, 0)
        print(f"\n1. filing: {args.clients} clients for {args.seconds:.0f} s")
        print(f"   submissions: {ok} ok, {sum(statuses.values()) - ok} errors {dict(statuses)}")
        print(f"   throughput: {ok / args.seconds:.1f} submissions/s")
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
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
        if fresh is not None:
            fresh.drop()


if __name__ == "__main__":
    main()
