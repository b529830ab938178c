"""Replies sent to one case at the same moment each get their own place in the conversation;
a reporter's are held out of the order until their hour has come, then placed after it.

Two writers that read the same highest seq would both take the next one; the (case, seq)
unique constraint refuses the second insert and the domain retries it with the next number.
On SQLite writes queue, so the race shows on PostgreSQL; the test runs on both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from support.db import TEST_SECRET
from support.staff_world import build_world

from cases.clock import SystemClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.reports.conversation import release_held
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
    """Staff and reporter replies sent at once all succeed; staff's are numbered at once, the
    reporter's held (-1, -2, …) until their hour, then numbered after them, without a gap."""
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

    factory = session_factory(data["engine"], TEST_SECRET)
    mine = select(CaseItem.author, CaseItem.seq).where(CaseItem.case_id == data["case_id"])
    with unit_of_work(factory) as db:
        held = sorted((row[0], row[1]) for row in db.execute(mine))
    # The jobs round an hour later releases the reporter's held replies into the order.
    with unit_of_work(factory) as db:
        released = release_held(db, SystemClock().now() + timedelta(hours=1))
    with unit_of_work(factory) as db:
        after = sorted(((row[0], row[1]) for row in db.execute(mine)), key=lambda row: row[1])
    data["engine"].dispose()
    assert codes == [201] * len(sends)
    assert held == [("reporter", -n) for n in range(EACH, 0, -1)] + [
        ("staff", n) for n in range(1, EACH + 1)
    ]
    assert released == EACH
    assert [seq for _, seq in after] == list(range(1, len(sends) + 1))
    assert [author for author, _ in after] == ["staff"] * EACH + ["reporter"] * EACH
