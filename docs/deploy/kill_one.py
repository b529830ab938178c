"""Concurrent reports through the proxy while one portal process is killed (docs/deploy.md).

/usr/bin/python3 docs/deploy/kill_one.py https://portal.example.test:8443 CA.pem PID
PID is the portal process's own (`pgrep -u portal -f 'port 8002'`), not runuser's or systemd's.
Prints how many submissions were acknowledged, refused by the proxy, and whether every
acknowledged receipt logs in afterwards. Needs only httpx (Debian: python3-httpx).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections import Counter

import httpx


def main(base: str, ca: str, pid: str) -> None:
    with httpx.Client(base_url=base, verify=ca, timeout=60) as web:
        channel = web.get("/api/v1/channels").json()[0]
    body = {
        "channel": channel["id"],
        "category": channel["categories"][0]["id"],
        "summary": "Kill test",
        "details": "Filed while a process was killed.",
    }
    receipts: list[str] = []
    outcomes: Counter[int] = Counter()
    lock = threading.Lock()
    stop = time.monotonic() + 8

    def submit() -> None:
        with httpx.Client(base_url=base, verify=ca, timeout=60) as web:
            while time.monotonic() < stop:
                answer = web.post("/api/v1/reports", json=body)
                with lock:
                    outcomes[answer.status_code] += 1
                    if answer.status_code == 201:
                        receipts.append(answer.json()["receipt"])

    workers = [threading.Thread(target=submit) for _ in range(8)]
    for worker in workers:
        worker.start()
    time.sleep(3)
    os.kill(int(pid), signal.SIGKILL)
    print("killed process", pid, "after 3 s")
    for worker in workers:
        worker.join()
    with httpx.Client(base_url=base, verify=ca, timeout=60) as web:

        def login(receipt: str) -> int:
            return web.post("/api/v1/reporter/session", json={"receipt": receipt}).status_code

        first = {r: login(r) for r in receipts}
        failed = {r: code for r, code in first.items() if code != 200}
        # A login the proxy could not deliver (502) says nothing about the report: try once more.
        time.sleep(2)
        lost = {r: login(r) for r in failed}
        lost = {r: code for r, code in lost.items() if code != 200}
    print("answers:", dict(outcomes))
    print("receipt logins that failed at first:", dict(Counter(failed.values())))
    print(
        "acknowledged:",
        len(receipts),
        "lost after the kill:",
        len(lost),
        dict(Counter(lost.values())),
    )


if __name__ == "__main__":
    main(*sys.argv[1:4])
