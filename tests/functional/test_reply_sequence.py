"""Replies sent to one case at the same moment each get their own place in the conversation.

Two writers that read the same highest seq would both take the next one; the (case, seq)
unique constraint refuses the second insert and the domain retries it with the next number.
On SQLite writes queue, so the race shows on PostgreSQL; the test runs on both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import select
from support.db import TEST_SECRET
from support.staff_world import build_world

from cases.clock import SystemClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.reports.models import CaseItem

EACH = 6  # staff replies and reporter replies, sent together


def seed(database_url: str) -> dict[str, Any]:
    """One filed case and its investigator."""
    engine = make_engine(database_url)
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        world = build_world(db, SystemClock())
        ana = world.staff("ana@example.com", "investigator")
        filed = world.file()
        case_id, receipt = filed.case.id, filed.receipt.formatted()
    return {"engine": engine, "ana": ana, "case_id": case_id, "receipt": receipt}


def test_simultaneous_replies_get_distinct_seqs(start_live_server: Callable[..., Any]) -> None:
    """Staff and reporter replies sent at once all succeed, numbered 1..n without a gap."""
    server = start_live_server()
    data = seed(server.database_url)
    ana = data["ana"]
    body = {"email": ana.account.email, "password": ana.password, "totp": ana.code(SystemClock())}
    staff = httpx.post(f"{server.url}/api/v1/staff/session", json=body).json()["token"]
    reporter = httpx.post(
        f"{server.url}/api/v1/reporter/session", json={"receipt": data["receipt"]}
    ).json()["token"]
    sends = [
        (f"/api/v1/cases/{data['case_id']}/messages", staff),
        ("/api/v1/reporter/messages", reporter),
    ] * EACH
    start, codes = threading.Barrier(len(sends)), []

    def send(index: int, path: str, token: str) -> None:
        with httpx.Client(timeout=60) as client:
            start.wait()
            answer = client.post(
                f"{server.url}{path}",
                headers={"Authorization": f"Bearer {token}"},
                json={"body": f"Reply {index}"},
            )
            codes.append(answer.status_code)

    threads = [threading.Thread(target=send, args=(i, *s)) for i, s in enumerate(sends)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with unit_of_work(session_factory(data["engine"], TEST_SECRET)) as db:
        seqs = sorted(db.scalars(select(CaseItem.seq).where(CaseItem.case_id == data["case_id"])))
    data["engine"].dispose()
    assert codes == [201] * len(sends)
    assert seqs == list(range(1, len(sends) + 1))
