"""Killed servers lose nothing they acknowledged: SIGKILL during concurrent filings and uploads.

Three `portal serve` processes share one database (a SQLite file, or PostgreSQL in CI's
PostgreSQL pass). Reporters file reports and upload files through the API, spread over the
servers, while a killer SIGKILLs a random server every second or so and starts it again. Every
report answered 201 must open afterwards with its receipt, showing exactly what was sent, and
every file answered 201 must decrypt to the very bytes that were sent (compared by SHA-256).
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from support import scorecard
from support.arrivals import list_arrivals
from support.availability import free_port
from support.db import make_test_engine
from support.staff_world import SECRET, Person, build_world, key_ring

from cases.clock import SystemClock
from cases.db import session_factory, unit_of_work
from cases.reports.attachments import AttachmentReader
from cases.reports.keys import CASE
from cases.reports.models import Attachment

ROOT = Path(__file__).resolve().parents[2]
SERVERS = 3
CLIENTS = 4
# How long reporters keep sending while servers are being killed; bounded whatever the load.
KILLING_SECONDS = 20
KILL_EVERY = (0.8, 1.6)
START_TIMEOUT = 60  # seconds; a loaded two-core machine takes many to import and migrate
MIN_KILLS = 6  # during traffic; then all servers are killed once more, mid-request


@dataclass
class Acknowledged:
    """What the servers answered 201 to: reports by receipt, files by id."""

    reports: dict[str, tuple[str, str]] = field(default_factory=dict)  # receipt: (summary, details)
    files: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # id: (receipt, sha, size)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Server:
    """One `portal serve` process of this tree on a port of its own; killed and started again."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "PORTAL_BASE_URL": self.url}
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "portal.cli", "serve", "--port", str(self.port)]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def serving(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/v1/channels", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            if self.serving():
                return
            time.sleep(0.1)
        raise AssertionError(f"portal serve on {self.url} did not start:\n{self.log.read_text()}")


def seed(url: str) -> tuple[Person, dict[str, str]]:
    """An investigator (every report's recipient), an admin, and the General channel's ids."""
    engine = make_test_engine(url)
    try:
        with unit_of_work(session_factory(engine)) as db:
            world = build_world(db, SystemClock())
            investigator = world.staff("ina@example.com", "investigator", enrol=False)
            world.staff("root@example.com", "admin", enrol=False)
            ids = {"channel": world.channel.id, "category": world.category().id}
    finally:
        engine.dispose()
    return investigator, ids


def reporter(
    servers: list[Server],
    ids: dict[str, str],
    acknowledged: Acknowledged,
    stop: threading.Event,
    seed_value: int,
) -> None:
    """Files reports and uploads files through random servers until told to stop."""
    rng = random.Random(seed_value)
    with httpx.Client(timeout=20) as client:
        while not stop.is_set():
            server = rng.choice(servers)
            summary, details = f"Report {uuid.uuid4().hex}", f"Details {rng.random()}"
            report = {**ids, "summary": summary, "details": details}
            try:
                filed = client.post(f"{server.url}/api/v1/reports", json=report)
                if filed.status_code != 201:
                    continue
                receipt = filed.json()["receipt"]
                with acknowledged.lock:
                    acknowledged.reports[receipt] = (summary, details)
                upload(client, rng, rng.choice(servers), receipt, acknowledged)
            except httpx.TransportError:
                time.sleep(0.05)  # that server was killed mid-request: nothing was promised


def upload(
    client: httpx.Client, rng: random.Random, server: Server, receipt: str, acked: Acknowledged
) -> None:
    """Log in with the receipt and add one file of random bytes (64 KiB to 1.5 MiB)."""
    login = client.post(f"{server.url}/api/v1/reporter/session", json={"receipt": receipt})
    if login.status_code != 200:
        return
    auth = {"Authorization": f"Bearer {login.json()['token']}"}
    data = rng.randbytes(rng.randint(64 * 1024, 1536 * 1024))
    files = {"file": ("evidence.bin", data, "application/octet-stream")}
    answer = client.post(f"{server.url}/api/v1/reporter/attachments", headers=auth, files=files)
    if answer.status_code == 201:
        digest = hashlib.sha256(data).hexdigest()
        with acked.lock:
            acked.files[answer.json()["id"]] = (receipt, digest, len(data))


def killer(servers: list[Server], stop: threading.Event, kills: list[int]) -> None:
    """Every second or so SIGKILLs a random server (serving or starting up) and restarts it."""
    rng = random.Random(7)
    while not stop.wait(rng.uniform(*KILL_EVERY)):
        victim = rng.choice(servers)
        victim.kill()
        kills.append(victim.port)
        victim.start()


def lost_reports(server: Server, acknowledged: Acknowledged) -> list[str]:
    """Receipts that no longer open their report as sent, or lost a file the reporter added."""
    lost = []
    files_of: dict[str, dict[str, tuple[str, int]]] = {}
    for file_id, (receipt, sha, size) in acknowledged.files.items():
        files_of.setdefault(receipt, {})[file_id] = (sha, size)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for receipt, (summary, details) in acknowledged.reports.items():
            login = client.post("/api/v1/reporter/session", json={"receipt": receipt})
            if login.status_code != 200:
                lost.append(f"{receipt[:4]}…: login {login.status_code}")
                continue
            auth = {"Authorization": f"Bearer {login.json()['token']}"}
            view = client.get("/api/v1/reporter/report", headers=auth).json()
            shown = {f["id"]: (f["sha256"], f["size"]) for f in view["attachments"]}
            if (view["summary"], view["details"]) != (summary, details):
                lost.append(f"{receipt[:4]}…: report text differs")
            for file_id, expected in files_of.get(receipt, {}).items():
                if shown.get(file_id) != expected:
                    lost.append(f"{receipt[:4]}…: file {file_id} shown as {shown.get(file_id)}")
    return lost


def lost_bytes(url: str, investigator: Person, acknowledged: Acknowledged) -> list[str]:
    """Files whose decrypted bytes, read as the investigator, differ from what was sent."""
    lost = []
    engine = make_test_engine(url)
    try:
        with unit_of_work(session_factory(engine)) as db:
            list_arrivals(db)  # the jobs round (off on these servers) lists them at the hour
            principal = investigator.principal(db, SystemClock())
            reader = AttachmentReader(db)
            for file_id, (_receipt, sha, _size) in acknowledged.files.items():
                row = db.get(Attachment, file_id)
                if row is None:
                    lost.append(f"file {file_id}: gone")
                    continue
                key = key_ring(db).open_for_staff(row.case_id, CASE, principal)
                assert key is not None
                digest = hashlib.sha256()
                for chunk in reader.open(row.case_id, file_id, key).chunks:
                    digest.update(chunk)
                if digest.hexdigest() != sha:
                    lost.append(f"file {file_id}: bytes differ")
    finally:
        engine.dispose()
    return lost


def test_sigkilled_servers_keep_every_acknowledged_report_and_file(
    fresh_database: Callable[..., str], tmp_path: Path, backend: str
) -> None:
    """Servers SIGKILLed again and again lose no report or file they answered 201 to."""
    url = fresh_database()
    investigator, ids = seed(url)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "PORTAL_DATABASE_URL": url,
        "PORTAL_DATA_DIR": str(tmp_path / "data"),
        "PORTAL_SECRET_KEY": SECRET.decode(),
        "PORTAL_RUN_JOBS": "0",
    }
    servers = [Server(env, tmp_path / f"server-{n}.log") for n in range(SERVERS)]
    acknowledged = Acknowledged()
    kills: list[int] = []
    stop = threading.Event()
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()
        threads = [
            threading.Thread(target=reporter, args=(servers, ids, acknowledged, stop, n))
            for n in range(CLIENTS)
        ]
        threads.append(threading.Thread(target=killer, args=(servers, stop, kills)))
        for thread in threads:
            thread.start()
        time.sleep(KILLING_SECONDS)
        stop.set()
        for server in servers:  # the last kill, mid-request: nothing shuts down gracefully
            server.kill()
        for thread in threads:
            thread.join(60)
        survivor = servers[0]
        survivor.start()
        survivor.wait_ready()
        lost = lost_reports(survivor, acknowledged) + lost_bytes(url, investigator, acknowledged)
    finally:
        for server in servers:
            server.kill()

    acked = len(acknowledged.reports) + len(acknowledged.files)
    scorecard.record(f"durability ({backend}): kills", len(kills) + SERVERS)
    scorecard.record(f"durability ({backend}): acknowledged", acked)
    scorecard.record(f"durability ({backend}): lost", len(lost))
    assert not lost, "\n".join(lost)
    assert len(kills) >= MIN_KILLS
    assert len(acknowledged.reports) >= 5
    assert acknowledged.files, "no upload was acknowledged: the test proved nothing about files"
