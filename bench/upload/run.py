"""Upload benchmark: one 1 GiB attachment over HTTP on loopback, the portal against plain Starlette.

Both servers run in the same run on the same machine (uvicorn, one process each). The
client streams a generated body (one random MiB repeated, never the whole file in memory)
to the portal's POST /api/v1/reporter/attachments (streaming parse, metadata filter,
AES-GCM stream encryption, chunk rows in SQLite) and to a plain Starlette app whose
request.form() spools the file to a temporary file on disk, never fsynced (the issue's
yardstick), and once more to the same app fsyncing the file before its 201 (the portal's
201 waits for its last commit's flush). Every timed upload starts after os.sync(), so
dirty pages left by the previous run do not slow the next one. Prints the throughput of
each, the ratios, and each server's peak resident-memory growth during the upload.
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
PORTAL_LABEL = "portal (parse, clean, encrypt, chunk rows)"
PLAIN_LABEL = "plain Starlette request.form() to disk  "
DURABLE_LABEL = "plain, and fsync before the 201        "
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


def upload(
    server: Server, path: str, size_mib: int, headers: dict[str, str]
) -> tuple[float, int, int]:
    """Seconds taken, status, and the server's peak RSS growth (KiB)."""
    content, length = body(size_mib)
    headers = {
        **headers,
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(length),
    }
    os.sync()  # no dirty pages left by the previous run to slow this one down
    peak = PeakRss(server)
    started = time.perf_counter()
    answer = httpx.post(f"{server.url}{path}", content=content, headers=headers, timeout=3600)
    took = time.perf_counter() - started
    return took, answer.status_code, peak.stop()


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
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs of each server")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="portal-bench-upload-")
    env = {
        "PORTAL_DATA_DIR": data_dir,
        "PORTAL_UPLOAD_MAX_FILE_MB": str(args.mib + 1),
        "PORTAL_UPLOAD_MAX_REPORT_MB": str(args.mib + 1),
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
    portal = Server.portal(env, team=1)
    plain = Server.uvicorn("bench.upload.plain:app", {"TMPDIR": data_dir})
    runs: dict[str, list[tuple[float, int, int]]] = {"portal": [], "plain": [], "durable": []}
    try:
        headers = {"Authorization": f"Bearer {reporter_token(portal)}"}
        upload(portal, "/api/v1/reporter/attachments", 1, headers)  # warm up
        upload(plain, "/upload", 1, {})
        # Alternate, so both see the same machine (other work on it comes and goes).
        for _ in range(args.rounds):
            runs["portal"].append(upload(portal, "/api/v1/reporter/attachments", args.mib, headers))
            runs["plain"].append(upload(plain, "/upload", args.mib, {}))
            runs["durable"].append(upload(plain, "/upload-durable", args.mib, {}))
    finally:
        portal.stop()
        plain.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    rates = {}
    labels = (("portal", PORTAL_LABEL), ("plain", PLAIN_LABEL), ("durable", DURABLE_LABEL))
    for name, label in labels:
        for took, status, rss in runs[name]:
            print(
                f"{label}: status {status}, {took:.1f} s, {args.mib / took:.0f} MiB/s, "
                f"peak RSS growth {rss / 1024:.1f} MiB"
            )
        rates[name] = args.mib / statistics.median(t for t, _s, _r in runs[name])
    print(
        f"median throughput: portal {rates['portal']:.0f} MiB/s, plain {rates['plain']:.0f} MiB/s"
    )
    print(f"ratio portal/plain: {rates['portal'] / rates['plain']:.2f}")
    print(
        f"ratio portal/plain with fsync before the 201: {rates['portal'] / rates['durable']:.2f}"
        f" (plain with fsync {rates['durable']:.0f} MiB/s)"
    )
    worst = max(r for _t, _s, r in runs["portal"])
    print(f"portal peak RSS growth (worst run): {worst / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
