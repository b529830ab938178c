"""An approve and a refuse sent together: the row lock lets exactly one decision take effect."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from support.staff_world import SECRET, ZONE, Person, build_world

from cases.access.disclosure import DisclosureService
from cases.access.models import DisclosureRequest
from cases.audit.models import AuditEntry
from cases.audit.service import AuditLog
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import SystemClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.errors import CaseError
from cases.reports.intake import IdentityInput
from cases.rewards.models import Reward, RewardDecision
from cases.rewards.service import Proposal, RewardConfig, RewardService

Decide = Callable[[Any, Person, bool], object]


def race(url: str, deciders: list[tuple[Person, bool]], decide: Decide) -> list[str]:
    """Each decision in its own thread and transaction, released together; their outcomes."""
    engine = make_engine(url)
    factory = session_factory(engine)
    start, outcomes = threading.Barrier(len(deciders)), []

    def run(person: Person, approve: bool) -> None:
        start.wait()
        try:
            with unit_of_work(factory) as db:
                decide(db, person, approve)
            outcomes.append("done")
        except CaseError as problem:
            outcomes.append(problem.code)

    threads = [threading.Thread(target=run, args=pair) for pair in deciders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    engine.dispose()
    return sorted(outcomes)


def test_disclosure_approve_and_refuse_together_decide_once(
    fresh_database: Callable[..., str],
) -> None:
    """Two custodians decide one request at once: one decision, one 'decided' conflict."""
    url = fresh_database()
    engine = make_engine(url)
    clock = SystemClock()
    with unit_of_work(session_factory(engine)) as db:
        world = build_world(db, clock)
        ana = world.staff("ana@example.com")
        custodians = [world.staff(f"c{n}@example.com", "custodian") for n in range(2)]
        case = world.file(identity=IdentityInput(name="Li Hua", contact="li@example.com")).case
        asked = DisclosureService(db, clock, AuditLog(db, clock, SECRET), ZONE).request(
            ana.principal(db, clock), case, "We must interview the reporter."
        )
        request_id = asked.id
    engine.dispose()

    def decide(db: Any, person: Person, approve: bool) -> object:
        service = DisclosureService(db, clock, AuditLog(db, clock, SECRET), ZONE)
        principal = person.principal(db, clock)
        return service.decide(principal, request_id, approve=approve, reason="Decided")

    outcomes = race(url, [(custodians[0], True), (custodians[1], False)], decide)

    assert outcomes == ["decided", "done"]
    engine = make_engine(url)
    with unit_of_work(session_factory(engine)) as db:
        entries = db.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("disclosure.%ed"))
        ).all()
        status = db.get(DisclosureRequest, request_id)
        assert status is not None
        assert len([e for e in entries if e != "disclosure.requested"]) == 1
    engine.dispose()


def test_reward_approve_and_refuse_together_decide_once(
    fresh_database: Callable[..., str],
) -> None:
    """Two approvers decide one proposal at once: one decision stands, the other is refused."""
    url = fresh_database()
    engine = make_engine(url)
    clock = SystemClock()
    with unit_of_work(session_factory(engine)) as db:
        world = build_world(db, clock)
        ana = world.staff("ana@example.com")
        approvers = [world.staff(f"r{n}@example.com", "reward_approver") for n in range(2)]
        case = world.file().case
        work = CaseworkService(db, clock, CaseworkConfig(ZONE, SECRET))
        work.transition(ana.principal(db, clock), case.id, "acknowledged", "Received")
        work.transition(ana.principal(db, clock), case.id, "concluded", "Done", "substantiated")
        reward = RewardService(db, clock, RewardConfig(ZONE, SECRET)).propose(
            ana.principal(db, clock), case.id, Proposal("300000", exclusions_checked=True)
        )
        reward_id = reward.id
    engine.dispose()

    def decide(db: Any, person: Person, approve: bool) -> object:
        service = RewardService(db, clock, RewardConfig(ZONE, SECRET))
        return service.decide(person.principal(db, clock), reward_id, approve, "Because")

    outcomes = race(url, [(approvers[0], True), (approvers[1], False)], decide)

    assert outcomes == ["done", "not_proposed"]
    engine = make_engine(url)
    with unit_of_work(session_factory(engine)) as db:
        decisions = db.scalars(select(RewardDecision).where(RewardDecision.reward_id == reward_id))
        stored = db.get(Reward, reward_id)
        assert stored is not None
        assert len(list(decisions)) == 1
    engine.dispose()
