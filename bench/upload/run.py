"""Upload benchmark: one 1 GiB attachment over HTTP on loopback, the portal against plain Starlette.

Both servers run in the same run on the same machine (uvicorn, one process each). The
client streams a generated body (one random MiB repeated, never the whole file in memory)
to the portal's POST /api/v1/reporter/attachments (streaming parse, metadata filter,
AES-GCM stream encryption, chunk rows in SQLite) and to a plain Starlette app whose
request.form() spools the file to a temporary file on disk, never fsynced (the issue's
yardstick), and once more to the same app fsyncing the file before its 201 (the portal's
201 waits for its last commit's flush). Every timed upload starts after os.sync(), so
dirty pages left by the previous run do not slow the next one.

Each round uploads once to each of the three, in an order rotating from round to round,
and takes the ratios within the round: the plain app's own speed swings a lot on this disk
from one upload to the next (115-450 MiB/s), so a ratio of medians over a few rounds was
mostly its noise. Prints every round, then per app the median and spread of the
throughput, the median and spread of the per-round ratios, and the portal's peak
resident-memory growth during its uploads.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator

import httpx

from bench.load.server import ROOT, PeakRss, Server

MIB = 1 << 20
NAMES = ["portal", "plain", "durable"]
LABELS = {
    "portal": "portal (parse, clean, encrypt, chunk rows)",
    "plain": "plain Starlette request.form() to disk    ",
    "durable": "plain, and fsync before the 201          ",
}
# Seconds taken, HTTP status, the server's peak RSS growth (KiB), its CPU seconds used.
Run = tuple[float, int, int, float]
BOUNDARY = "benchboundary7c1f0e"


def body(size_mib: int) -> tuple[Iterator[bytes], int]:
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="evidence.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    block = os.urandom(MIB)

    def pieces() -> Iterator[bytes]:
        yield head
        for _ in range(size_mib):
            yield block
        yield tail

    return pieces(), len(head) + size_mib * MIB + len(tail)


def upload(server: Server, path: str, size_mib: int, headers: dict[str, str]) -> Run:
    """Seconds taken, status, the server's peak RSS growth (KiB) and CPU seconds."""
    content, length = body(size_mib)
    headers = {
        **headers,
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(length),
    }
    os.sync()  # no dirty pages left by the previous run to slow this one down
    peak = PeakRss(server)
    cpu = server.cpu_seconds()
    started = time.perf_counter()
    answer = httpx.post(f"{server.url}{path}", content=content, headers=headers, timeout=3600)
    took = time.perf_counter() - started
    return took, answer.status_code, peak.stop(), server.cpu_seconds() - cpu


def reporter_token(server: Server) -> str:
    channel = httpx.get(f"{server.url}/api/v1/channels").json()[0]
    filed = httpx.post(
        f"{server.url}/api/v1/reports",
        json={
            "channel": channel["id"],
            "category": channel["categories"][0]["id"],
            "summary": "Upload benchmark",
            "details": "A report that receives one large file.",
        },
    ).json()
    answer = httpx.post(f"{server.url}/api/v1/reporter/session", json={"receipt": filed["receipt"]})
    return str(answer.json()["token"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=1024, help="file size in MiB (default 1 GiB)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (one upload to each app)")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="portal-bench-upload-")
    env = {
        "PORTAL_DATA_DIR": data_dir,
        "PORTAL_UPLOAD_MAX_FILE_MB": str(args.mib + 1),
        "PORTAL_UPLOAD_MAX_REPORT_MB": str(args.mib + 1),
        # Every round adds a file to the same report: room for all of them (the default
        # 4 GiB per case refuses the fifth 1 GiB file with a 409).
        "PORTAL_EVIDENCE_MAX_CASE_MB": str((args.rounds + 1) * (args.mib + 1)),
        "BENCH_TEAM": "1",
        # `portal serve` (the console script) imports this checkout's code, not the installed one.
        "PYTHONPATH": str(ROOT),
    }
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(
        f"file: {args.mib} MiB, generated (one random MiB repeated); portal on SQLite in {data_dir}"
    )
    for name, value in env.items():
        print(f"  {name}={value}")
    print(f"code: {ROOT}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    portal = Server.portal(env, team=1)
    plain = Server.uvicorn("bench.upload.plain:app", {"TMPDIR": data_dir})
    rounds: list[dict[str, Run]] = []
    try:
        bearer = {"Authorization": f"Bearer {reporter_token(portal)}"}
        targets = {
            "portal": (portal, "/api/v1/reporter/attachments", bearer),
            "plain": (plain, "/upload", {}),
            "durable": (plain, "/upload-durable", {}),
        }
        for server, path, headers in targets.values():
            upload(server, path, 1, headers)  # warm up
        # Interleaved: each round uploads once to each app, in an order that rotates from
        # round to round, so both see the same machine (other work on it comes and goes)
        # and neither always goes first. A ratio is taken within each round.
        for n in range(args.rounds):
            order = NAMES[n % 3 :] + NAMES[: n % 3]
            results: dict[str, Run] = {}
            for name in order:
                server, path, headers = targets[name]
                results[name] = upload(server, path, args.mib, headers)
            rounds.append(results)
            print_round(n + 1, order, results, args.mib)
    finally:
        portal.stop()
        plain.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    print_summary(rounds, args.mib)


def print_round(number: int, order: list[str], results: dict[str, Run], mib: int) -> None:
    rate = {name: mib / result[0] for name, result in results.items()}
    cpu = {name: result[3] * 1024 / mib for name, result in results.items()}
    statuses = ",".join(str(results[name][1]) for name in order)
    print(
        f"round {number} ({' '.join(order)}; status {statuses}): "
        f"portal {rate['portal']:.0f}, plain {rate['plain']:.0f}, "
        f"plain+fsync {rate['durable']:.0f} MiB/s; "
        f"ratio {rate['portal'] / rate['plain']:.2f}, "
        f"with fsync {rate['portal'] / rate['durable']:.2f}; "
        f"portal RSS growth {results['portal'][2] / 1024:.1f} MiB; server CPU s/GiB: "
        f"portal {cpu['portal']:.1f}, plain {cpu['plain']:.1f}, plain+fsync {cpu['durable']:.1f}"
    )


def print_summary(rounds: list[dict[str, Run]], mib: int) -> None:
    def spread(values: list[float], digits: int) -> str:
        return (
            f"median {statistics.median(values):.{digits}f} "
            f"(min {min(values):.{digits}f}, max {max(values):.{digits}f})"
        )

    rates = {name: [mib / r[name][0] for r in rounds] for name in NAMES}
    for name in NAMES:
        cpu = [r[name][3] * 1024 / mib for r in rounds]
        print(f"{LABELS[name]}: MiB/s {spread(rates[name], 0)}; server CPU s/GiB {spread(cpu, 1)}")
    bad = sorted({r[name][1] for r in rounds for name in NAMES} - {201})
    if bad:
        print(f"NOT ALL UPLOADS WERE STORED: statuses {bad}")
    plain = [p / q for p, q in zip(rates["portal"], rates["plain"], strict=True)]
    durable = [p / q for p, q in zip(rates["portal"], rates["durable"], strict=True)]
    print(f"ratio portal/plain, per round: {spread(plain, 2)}")
    print(f"ratio portal/plain with fsync before the 201, per round: {spread(durable, 2)}")
    print(
        "ratio of the medians: "
        f"{statistics.median(rates['portal']) / statistics.median(rates['plain']):.2f}, "
        f"with fsync {statistics.median(rates['portal']) / statistics.median(rates['durable']):.2f}"
    )
    growth = [r["portal"][2] / 1024 for r in rounds]
    print(
        f"portal peak RSS growth: worst {max(growth):.1f} MiB, "
        f"median {statistics.median(growth):.1f} MiB (goal < 64 MiB)"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
