"""Three `portal serve` processes on one PostgreSQL database, each request to the next one.

A whole journey goes round the three in turn: filing with an attachment, receipt login,
messages both ways, staff login with TOTP, case work, a reward proposed, approved, accepted
and paid exactly once though the payment is sent to all three at once; the background jobs
of all three deliver each due mail and each deadline reminder exactly once. Then one process
is killed with SIGKILL in the middle of concurrent submissions: the other two carry on and
every acknowledged receipt still logs in.

PostgreSQL only (the deployment docs/deploy.md describes); CI runs it in its PostgreSQL pass.
"""

from __future__ import annotations

import base64
import io
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from itertools import cycle
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.arrivals import list_arrivals
from support.availability import free_port
from support.rewards import answer_shown_at_the_hour
from support.staff_world import SECRET, build_world

import crypto
from cases.clock import FixedClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.notify.models import OutboxMessage

pytestmark = pytest.mark.postgres_only

PAYOUT = {"name": "Li Ming", "account": "6222-0000-1111-2222", "contact": "limingx@example.net"}
STAFF = (
    ("ana@example.com", "investigator"),
    ("dai@example.com", "reward_approver"),
    ("fin@example.com", "finance"),
)


@dataclass
class Staff:
    email: str
    password: str
    totp: bytes

    def login(self, http: httpx.Client) -> dict[str, str]:
        body = {
            "email": self.email,
            "password": self.password,
            "totp": crypto.totp_code(self.totp, time.time()),
        }
        answer = http.post("/api/v1/staff/session", json=body)
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}


@dataclass
class Cluster:
    processes: list[subprocess.Popen[bytes]]
    urls: list[str]
    staff: dict[str, Staff]
    url: str  # the database


def _env(tmp_path: Path, url: str, smtp: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")},
        "PORTAL_DATA_DIR": str(tmp_path / "data"),
        "PORTAL_DATABASE_URL": url,
        "PORTAL_SECRET_KEY": SECRET.decode(),
        "PORTAL_SMTP_URL": smtp,
        "PORTAL_RUN_JOBS": "1",
        "PORTAL_JOB_INTERVAL_SECONDS": "1",
        "PORTAL_REPORTS_PER_CHANNEL_PER_HOUR": "100000",
    }


def _add_staff(env: dict[str, str], cwd: Path) -> dict[str, Staff]:
    made = {}
    for email, role in STAFF:
        password = f"Long enough password for {role} {secrets.token_hex(4)}"
        done = subprocess.run(
            [sys.executable, "-m", "portal.cli", "user", "add", "--email", email, "--role", role],
            input=password + "\n",
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            timeout=120,
            check=True,
        )
        printed = json.loads(done.stdout)
        made[role] = Staff(email, password, base64.b32decode(printed["totp_secret"]))
    return made


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, f"portal serve exited with {process.returncode}"
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not become ready")


@pytest.fixture
def cluster(
    fresh_database: Callable[..., str], tmp_path: Path, smtp_server: Any
) -> Iterator[Cluster]:
    """Three `portal serve` processes (jobs on in each) on one fresh database."""
    url = fresh_database()
    (tmp_path / "data").mkdir(mode=0o700)
    env = _env(tmp_path, url, smtp_server.url)
    staff = _add_staff(env, tmp_path)
    ports = [free_port() for _ in range(3)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for address, process in zip(urls, processes, strict=True):
            _wait_healthy(address, process)
        yield Cluster(processes, urls, staff, url)
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


class RoundRobin:
    """Sends each request to the next process in turn."""

    def __init__(self, urls: list[str]) -> None:
        self.clients = [httpx.Client(base_url=u, timeout=60) for u in urls]
        self._next = cycle(self.clients)
        self.sent: Counter[str] = Counter()

    def __getattr__(self, method: str) -> Callable[..., httpx.Response]:
        def call(*args: Any, **kwargs: Any) -> httpx.Response:
            client = next(self._next)
            self.sent[str(client.base_url)] += 1
            return getattr(client, method)(*args, **kwargs)  # type: ignore[no-any-return]

        return call

    def close(self) -> None:
        for client in self.clients:
            client.close()


def test_a_whole_journey_across_three_processes(cluster: Cluster, smtp_server: Any) -> None:
    """Every step on the next process; the payment sent to all three at once is paid once;
    each due mail and each deadline reminder is delivered once across the three."""
    seeded_mails, reminder_case = _seed_mail_work(cluster)
    web = RoundRobin(cluster.urls)
    try:
        channel = web.get("/api/v1/channels").json()[0]
        category = channel["categories"][0]
        filed = web.post(
            "/api/v1/reports",
            json={
                "channel": channel["id"],
                "category": category["id"],
                "summary": "Orders diverted to a rival",
                "details": "The Acme order went to a competitor.",
            },
        )
        assert filed.status_code == 201, filed.text
        receipt = filed.json()["receipt"]
        me = _bearer(web.post("/api/v1/reporter/session", json={"receipt": receipt}))
        evidence = secrets.token_bytes(300_000)
        upload = web.post(
            "/api/v1/reporter/attachments",
            files={"file": ("order.bin", io.BytesIO(evidence), "application/octet-stream")},
            headers=me,
        )
        assert upload.status_code == 201, upload.text
        sent = web.post("/api/v1/reporter/messages", headers=me, json={"body": "Order A-1"})
        assert sent.status_code == 201
        _list_arrivals(cluster.url)  # the jobs round at the hour the report and file wait for

        ana = cluster.staff["investigator"].login(web)
        cases = web.get("/api/v1/cases", headers=ana).json()["items"]
        case_id = next(c["id"] for c in cases if c["id"] != reminder_case)
        case = web.get(f"/api/v1/cases/{case_id}", headers=ana).json()
        download = web.get(
            f"/api/v1/cases/{case_id}/attachments/{case['attachments'][0]['id']}", headers=ana
        )
        steps = [
            web.post(
                f"/api/v1/cases/{case_id}/transition",
                headers=ana,
                json={"status": "acknowledged", "reason": "Received"},
            ),
            web.post(f"/api/v1/cases/{case_id}/messages", headers=ana, json={"body": "Thanks"}),
            web.post(
                f"/api/v1/cases/{case_id}/transition",
                headers=ana,
                json={"status": "concluded", "outcome": "substantiated", "reason": "Proven"},
            ),
        ]
        assert [s.status_code for s in steps] == [200, 201, 200]
        assert download.content == evidence
        seen = web.get("/api/v1/reporter/report", headers=me).json()
        # The reporter's message is held out of the shared order until the next full hour
        # (cases/reports/conversation.py), so the staff reply written meanwhile comes first.
        assert [m["body"] for m in seen["messages"]] == ["Thanks", "Order A-1"]

        reward_id, paid = _reward_paid_once(web, cluster, case_id, ana, me)
        assert sorted(paid) == [201, 409, 409]
        final = web.get("/api/v1/reporter/reward", headers=me).json()
        assert final["status"] == "paid"
        assert reward_id
        assert all(count >= 5 for count in web.sent.values())  # every process served
    finally:
        web.close()

    smtp_server.wait_for(seeded_mails + 1, timeout=60)
    time.sleep(3)  # three more job rounds in every process: nothing may arrive twice
    rows = _outbox(cluster.url)
    sent = Counter(to for _kind, to, status in rows if status == "sent")
    delivered = Counter(m["To"] for m in smtp_server.messages)
    deadline = [(to, status) for kind, to, status in rows if kind == "deadline"]
    assert deadline == [("ana@example.com", "sent")]  # three jobs, one reminder
    assert all(sent[f"person{n}@example.com"] == 1 for n in range(seeded_mails))
    assert delivered == sent  # each row that was sent arrived once, and nothing else did


def _list_arrivals(url: str) -> None:
    engine = make_engine(url)
    try:
        list_arrivals(session_factory(engine, SECRET))
    finally:
        engine.dispose()


def _outbox(url: str) -> list[tuple[str, str, str]]:
    engine = make_engine(url)
    try:
        with unit_of_work(session_factory(engine, SECRET)) as db:
            return [
                (row.kind, row.to_address, row.status)
                for row in db.query(OutboxMessage).order_by(OutboxMessage.created_at)
            ]
    finally:
        engine.dispose()


def _seed_mail_work(cluster: Cluster) -> tuple[int, str]:
    """Due mails in the outbox, and an old open case whose deadline has passed (so the
    deadline job owes its investigator one reminder); their count and the case id."""
    engine = make_engine(cluster.url)
    try:
        with unit_of_work(session_factory(engine, SECRET)) as db:
            old = build_world(db, FixedClock(datetime(2026, 3, 2, 9))).file("Old matter")
            for n in range(6):
                db.add(
                    OutboxMessage(
                        to_address=f"person{n}@example.com",
                        subject=f"Mail {n}",
                        body="Sign in.",
                        kind="case_waiting",
                        next_attempt_at=datetime(2026, 1, 1),
                    )
                )
            return 6, old.case.id
    finally:
        engine.dispose()


def _reward_paid_once(
    web: RoundRobin,
    cluster: Cluster,
    case_id: str,
    ana: dict[str, str],
    me: dict[str, str],
) -> tuple[str, list[int]]:
    proposal = {"recovered_loss": "300000", "exclusions_checked": True}
    made = web.post(f"/api/v1/cases/{case_id}/rewards", headers=ana, json=proposal)
    assert made.status_code == 201, made.text
    reward_id: str = made.json()["id"]
    dai = cluster.staff["reward_approver"].login(web)
    decided = web.post(f"/api/v1/rewards/{reward_id}/decision", headers=dai, json={"approve": True})
    assert decided.status_code == 200, decided.text
    accepted = web.post("/api/v1/reporter/reward/accept", headers=me, json=PAYOUT)
    assert accepted.status_code in {200, 201}, accepted.text
    # Staff and finance see the acceptance from the next full hour (cases/rewards/answers.py):
    # the jobs round of that hour, run on the shared database.
    assert answer_shown_at_the_hour(cluster.url) == 1
    fin = cluster.staff["finance"].login(web)
    barrier = threading.Barrier(3)

    def pay(url: str) -> int:
        with httpx.Client(base_url=url, timeout=60) as http:
            barrier.wait()
            return http.post(
                f"/api/v1/rewards/{reward_id}/payment", headers=fin, json={"reference": "B-1"}
            ).status_code

    with ThreadPoolExecutor(3) as pool:
        return reward_id, list(pool.map(pay, cluster.urls))


def _bearer(answer: httpx.Response) -> dict[str, str]:
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def test_killing_one_process_loses_no_acknowledged_report(cluster: Cluster) -> None:
    """Six clients file round the three processes; one is killed with SIGKILL midway. The
    other two go on answering 201, and every receipt that was answered 201 logs in."""
    channel = httpx.get(f"{cluster.urls[0]}/api/v1/channels").json()[0]
    body = {
        "channel": channel["id"],
        "category": channel["categories"][0]["id"],
        "summary": "Filed while a process dies",
        "details": "Details.",
    }
    receipts: list[tuple[str, float]] = []
    refused: Counter[str] = Counter()
    lock = threading.Lock()
    killed_at: list[float] = []
    stop = threading.Event()

    def client(offset: int) -> None:
        urls = cycle(cluster.urls[offset:] + cluster.urls[:offset])
        while not stop.is_set():
            url = next(urls)
            try:
                answer = httpx.post(f"{url}/api/v1/reports", json=body, timeout=60)
            except httpx.HTTPError as exc:
                with lock:
                    refused[type(exc).__name__] += 1
                continue
            with lock:
                if answer.status_code == 201:
                    receipts.append((answer.json()["receipt"], time.monotonic()))
                else:
                    refused[str(answer.status_code)] += 1

    threads = [threading.Thread(target=client, args=(i % 3,)) for i in range(6)]
    for thread in threads:
        thread.start()
    try:
        _wait_for(lambda: len(receipts) >= 10, 120)
        cluster.processes[1].send_signal(signal.SIGKILL)
        killed_at.append(time.monotonic())
        _wait_for(lambda: sum(1 for _r, t in receipts if t > killed_at[0] + 0.5) >= 10, 120)
    finally:
        stop.set()
        for thread in threads:
            thread.join(120)

    survivors = [cluster.urls[0], cluster.urls[2]]
    with httpx.Client(timeout=60) as http:
        lost = [
            receipt
            for n, (receipt, _at) in enumerate(receipts)
            if http.post(
                f"{survivors[n % 2]}/api/v1/reporter/session", json={"receipt": receipt}
            ).status_code
            != 200
        ]
    assert cluster.processes[1].wait(10) == -signal.SIGKILL
    assert lost == []
    assert sum(1 for _r, t in receipts if t > killed_at[0] + 0.5) >= 10  # the others carried on
    assert set(refused) <= {"ConnectError", "RemoteProtocolError", "ReadError"}, refused


def _wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
