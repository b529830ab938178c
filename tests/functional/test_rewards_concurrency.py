"""Twenty simultaneous "paid" requests against a live server record exactly one payment."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import func, select
from support.db import TEST_SECRET
from support.staff_world import SECRET, ZONE, build_world

from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import SystemClock, ceil_hour
from cases.db import make_engine, session_factory, unit_of_work
from cases.principals import ReporterPrincipal
from cases.reports.models import Receipt
from cases.rewards.answers import release
from cases.rewards.models import Reward, RewardPayment
from cases.rewards.service import Payout, Proposal, RewardConfig, RewardService

REQUESTS = 20


def seed(database_url: str) -> dict[str, Any]:
    """An accepted reward waiting for payment, and a finance member to pay it."""
    engine = make_engine(database_url)
    clock = SystemClock()
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        world = build_world(db, clock)
        ana = world.staff("ana@example.com", "investigator")
        dai = world.staff("dai@example.com", "reward_approver")
        fin = world.staff("fin@example.com", "finance")
        filed = world.file()
        work = CaseworkService(db, clock, CaseworkConfig(ZONE, SECRET))
        work.transition(ana.principal(db, clock), filed.case.id, "acknowledged", "Received")
        work.transition(ana.principal(db, clock), filed.case.id, "concluded", "x", "substantiated")
        rewards = RewardService(db, clock, RewardConfig(ZONE, SECRET))
        proposal = Proposal("300000", exclusions_checked=True)
        reward = rewards.propose(ana.principal(db, clock), filed.case.id, proposal)
        rewards.decide(dai.principal(db, clock), reward.id, True, "")
        receipt = db.get(Receipt, filed.case.receipt_id)
        assert receipt is not None
        principal = ReporterPrincipal(receipt, filed.reporter_key)
        rewards.accept(principal, filed.case.id, Payout("Li", "6222", "li@example.net"))
        # Shown to staff (payable) from the next full hour: the jobs round's release then.
        release(db, ceil_hour(clock.now()), ZONE)
        reward_id = reward.id
    return {"engine": engine, "fin": fin, "reward_id": reward_id}


def test_twenty_simultaneous_payments_pay_once(start_live_server: Callable[..., Any]) -> None:
    """Of 20 concurrent "paid" requests one records the payment, the others get 409."""
    server = start_live_server()
    data = seed(server.database_url)
    fin = data["fin"]
    login = {"email": fin.account.email, "password": fin.password, "totp": fin.code(SystemClock())}
    answer = httpx.post(f"{server.url}/api/v1/staff/session", json=login)
    headers = {"Authorization": f"Bearer {answer.json()['token']}"}
    url = f"{server.url}/api/v1/rewards/{data['reward_id']}/payment"
    start, codes = threading.Barrier(REQUESTS), []

    def pay(index: int) -> None:
        with httpx.Client(timeout=60) as client:
            start.wait()
            reply = client.post(url, headers=headers, json={"reference": f"REF-{index}"})
            codes.append(reply.status_code)

    threads = [threading.Thread(target=pay, args=(i,)) for i in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with unit_of_work(session_factory(data["engine"], TEST_SECRET)) as db:
        payments = db.scalar(select(func.count()).select_from(RewardPayment))
        status = db.scalar(select(Reward.status))
    data["engine"].dispose()
    assert sorted(codes) == [201] + [409] * (REQUESTS - 1)
    assert payments == 1
    assert status == "paid"
