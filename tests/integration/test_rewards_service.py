"""The reward flow in the domain, on a real database: rules, keys and refusals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from support.staff_world import SECRET, ZONE, Person, World, build_world, key_ring

from cases.audit.models import AuditEntry
from cases.audit.service import AuditLog
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import FixedClock
from cases.errors import CaseError, Conflict, Forbidden, Invalid, NotFound
from cases.principals import ReporterPrincipal
from cases.reports.keys import CASE
from cases.reports.models import Case, CaseExclusion, Receipt
from cases.rewards.models import Reward, RewardDecision, RewardPayment
from cases.rewards.service import (
    PAYOUT_KEY,
    Payout,
    Proposal,
    RewardConfig,
    RewardService,
)

PAYOUT = Payout("Li Ming", "6222 0000 1111 2222", "limingx@example.net")


@dataclass
class Scene:
    db: Session
    clock: FixedClock
    world: World
    case: Case
    reporter: ReporterPrincipal
    people: dict[str, Person]

    def service(self) -> RewardService:
        return RewardService(self.db, self.clock, RewardConfig(ZONE, SECRET))

    def me(self, name: str) -> Any:
        return self.people[name].principal(self.db, self.clock)


def conclude(db: Session, clock: FixedClock, who: Person, case: Case, outcome: str) -> None:
    work = CaseworkService(db, clock, CaseworkConfig(ZONE, SECRET))
    principal = who.principal(db, clock)
    work.transition(principal, case.id, "acknowledged", "Received")
    work.transition(principal, case.id, "concluded", "Done", outcome)


@pytest.fixture
def scene(db_session: Session) -> Scene:
    clock = FixedClock()
    world = build_world(db_session, clock)
    people = {
        "ana": world.staff("ana@example.com", "investigator"),
        "cai": world.staff("cai@example.com", "investigator", "reward_approver"),
        "dai": world.staff("dai@example.com", "reward_approver"),
        "eva": world.staff("eva@example.com", "reward_approver"),
        "fin": world.staff("fin@example.com", "finance"),
        "gao": world.staff("gao@example.com", "finance"),
    }
    filed = world.file()
    exclusion = CaseExclusion(
        case_id=filed.case.id, staff_id=people["gao"].account.id, reason="reporter"
    )
    db_session.add(exclusion)
    conclude(db_session, clock, people["ana"], filed.case, "substantiated")
    receipt = db_session.get(Receipt, filed.case.receipt_id)
    assert receipt is not None
    reporter = ReporterPrincipal(receipt, filed.reporter_key)
    return Scene(db_session, clock, world, filed.case, reporter, people)


def propose(scene: Scene, loss: str = "300000", amount: str = "", why: str = "") -> Reward:
    proposal = Proposal(loss, amount, why, exclusions_checked=True)
    return scene.service().propose(scene.me("ana"), scene.case.id, proposal)


def offered(scene: Scene) -> Reward:
    reward = propose(scene)
    return scene.service().decide(scene.me("dai"), reward.id, True, "")


def count(db: Session, model: Any) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_suggestion_uses_marginal_tiers(scene: Scene) -> None:
    """A loss of 300,000 suggests 5% of 100,000 plus 3% of 200,000 = 11,000 (minor ×100)."""

    reward = propose(scene)

    assert (reward.suggested_minor, reward.amount_minor) == (1_100_000, 1_100_000)
    assert reward.recovered_loss_minor == 30_000_000
    assert (reward.approvals_needed, reward.status) == (1, "proposed")


def test_whole_flow_to_paid(scene: Scene) -> None:
    """Propose, approve, accept with payout details, pay: paid once, details for finance only."""
    reward = offered(scene)
    service = scene.service()

    service.accept(scene.reporter, scene.case.id, PAYOUT)
    desk = service.desk(scene.me("fin"))
    payment = service.pay(scene.me("fin"), reward.id, "BANK-2026-001")

    assert [v.payout for v in desk] == [
        {
            "name": "Li Ming",
            "account": "6222 0000 1111 2222",
            "contact": "limingx@example.net",
            "payee": "self",
        }
    ]
    assert payment.amount_minor == reward.amount_minor
    assert scene.service().reporter_reward(scene.case.id).status == "paid"  # type: ignore[union-attr]


def test_investigators_and_approvers_cannot_open_payout(scene: Scene) -> None:
    """Only finance members the policy allows hold the payout key; others get None."""
    offered(scene)

    scene.service().accept(scene.reporter, scene.case.id, PAYOUT)
    ring = key_ring(scene.db)

    for name in ("ana", "cai", "dai", "gao"):
        assert ring.open_for_staff(scene.case.id, PAYOUT_KEY, scene.me(name)) is None, name
    assert ring.open_for_staff(scene.case.id, PAYOUT_KEY, scene.me("fin")) is not None
    assert ring.open_for_staff(scene.case.id, CASE, scene.me("fin")) is None


def test_excluded_finance_sees_nothing(scene: Scene) -> None:
    """A finance member the reporter excluded finds no reward on the desk and cannot pay it."""
    reward = offered(scene)
    scene.service().accept(scene.reporter, scene.case.id, PAYOUT)

    desk = scene.service().desk(scene.me("gao"))

    assert desk == []
    with pytest.raises(NotFound):
        scene.service().pay(scene.me("gao"), reward.id, "X")


def test_unsubstantiated_case_refused(db_session: Session) -> None:
    """A proposal on a case concluded as unsubstantiated is refused and stores nothing."""
    clock = FixedClock()
    world = build_world(db_session, clock)
    ana = world.staff("ana@example.com")
    filed = world.file()
    conclude(db_session, clock, ana, filed.case, "unsubstantiated")
    service = RewardService(db_session, clock, RewardConfig(ZONE, SECRET))

    with pytest.raises(Conflict) as refused:
        service.propose(
            ana.principal(db_session, clock),
            filed.case.id,
            Proposal("1000", exclusions_checked=True),
        )

    assert refused.value.code == "not_substantiated"
    assert count(db_session, Reward) == 0


@pytest.mark.parametrize(
    ("loss", "amount", "why", "field"),
    [
        ("-5", "", "", "recovered_loss"),
        ("300000", "-1", "x", "amount"),
        ("300000", "0", "x", "amount"),
        ("1e400", "", "", "recovered_loss"),
        ("300000", "99999999999999", "x", "amount"),
        ("300000", "12.345", "x", "amount"),
        ("abc", "", "", "recovered_loss"),
        ("300000", "5000", "", "explanation"),
    ],
)
def test_bad_amounts_refused(scene: Scene, loss: str, amount: str, why: str, field: str) -> None:
    """Negative, zero, absurd, over-precise or unexplained amounts are refused by field."""

    with pytest.raises(Invalid) as refused:
        propose(scene, loss, amount, why)

    assert field in refused.value.fields
    assert count(scene.db, Reward) == 0


def test_unchecked_exclusions_refused(scene: Scene) -> None:
    """The investigator must confirm the instigator and duty-to-report exclusions do not apply."""

    with pytest.raises(Invalid) as refused:
        scene.service().propose(scene.me("ana"), scene.case.id, Proposal("1000"))

    assert "exclusions" in refused.value.fields


def test_separation_of_duties(scene: Scene) -> None:
    """The proposer may not approve; one person may not approve twice; a refusal needs a reason."""
    reward = scene.service().propose(
        scene.me("cai"), scene.case.id, Proposal("3000000", "60000", "Big case", True)
    )
    service = scene.service()

    with pytest.raises(Forbidden):
        service.decide(scene.me("cai"), reward.id, True, "")
    service.decide(scene.me("dai"), reward.id, True, "")
    with pytest.raises(Conflict) as twice:
        service.decide(scene.me("dai"), reward.id, True, "")
    with pytest.raises(Invalid):
        service.decide(scene.me("eva"), reward.id, False, "")
    status_after_one = reward.status
    service.decide(scene.me("eva"), reward.id, True, "")

    assert reward.approvals_needed == 2
    assert twice.value.code == "already_decided"
    assert status_after_one == "proposed"
    assert reward.status == "approved"
    assert count(scene.db, RewardDecision) == 2


def test_refusal_keeps_reason_sealed(scene: Scene) -> None:
    """A refusal ends the proposal; its reason is stored sealed, not in clear."""
    reward = propose(scene)

    scene.service().decide(scene.me("dai"), reward.id, False, "Loss not verified by audit")
    stored = scene.db.scalars(select(RewardDecision)).one()

    assert reward.status == "refused"
    assert stored.reason is not None
    assert b"verified" not in stored.reason


def test_acceptance_after_expiry_refused(scene: Scene) -> None:
    """After expires_on the offer is expired and cannot be accepted; nothing is stored."""
    reward = offered(scene)
    scene.clock.advance(days=91)

    with pytest.raises(Conflict) as refused:
        scene.service().accept(scene.reporter, scene.case.id, PAYOUT)

    assert refused.value.code == "offer_expired"
    assert reward.payout is None


def test_payout_without_fields_refused(scene: Scene) -> None:
    """A payout form missing a field is refused per field and the offer stays open."""
    reward = offered(scene)

    with pytest.raises(Invalid) as refused:
        scene.service().accept(scene.reporter, scene.case.id, Payout("Li", " ", ""))

    assert set(refused.value.fields) == {"account", "contact"}
    assert reward.status == "approved"


def test_second_payment_refused(scene: Scene) -> None:
    """Recording a payment twice is refused; one payment row stays."""
    reward = offered(scene)
    scene.service().accept(scene.reporter, scene.case.id, PAYOUT)
    scene.service().pay(scene.me("fin"), reward.id, "REF-1")

    with pytest.raises(CaseError) as refused:
        scene.service().pay(scene.me("fin"), reward.id, "REF-2")

    assert refused.value.code == "already_paid"
    assert count(scene.db, RewardPayment) == 1


def test_excluded_approver_cannot_see_proposal(scene: Scene) -> None:
    """An approver the reporter excluded finds nothing in the queue and gets 404 on decide."""
    eva = scene.people["eva"].account.id
    scene.db.add(CaseExclusion(case_id=scene.case.id, staff_id=eva, reason="reporter"))
    reward = propose(scene)

    queue = scene.service().queue(scene.me("eva"))

    assert queue == []
    with pytest.raises(NotFound):
        scene.service().decide(scene.me("eva"), reward.id, True, "")


def reopen(scene: Scene, outcome: str | None = None) -> None:
    work = CaseworkService(scene.db, scene.clock, CaseworkConfig(ZONE, SECRET))
    ana = scene.me("ana")
    work.transition(ana, scene.case.id, "investigating", "New facts")
    if outcome:
        work.transition(ana, scene.case.id, "concluded", "Done again", outcome)


def test_accepted_reward_is_not_paid_after_an_unsubstantiated_reopen(scene: Scene) -> None:
    """Accepted, then the case is reopened and concluded unsubstantiated: payment is refused."""
    reward = offered(scene)
    scene.service().accept(scene.reporter, scene.case.id, PAYOUT)

    reopen(scene, "unsubstantiated")

    with pytest.raises(Conflict) as paying:
        scene.service().pay(scene.me("fin"), reward.id, "BANK-1")
    assert paying.value.code == "reward_on_hold"
    assert scene.service().for_case(scene.me("ana"), scene.case.id)[0].on_hold
    assert count(scene.db, RewardPayment) == 0
    held = scene.db.scalars(select(AuditEntry).where(AuditEntry.action == "reward.on_hold"))
    assert [e.detail for e in held] == [f'{{"reward": "{reward.id}"}}']


def test_reopened_case_refuses_a_pending_decision_and_acceptance(scene: Scene) -> None:
    """A proposal cannot be approved, nor an offer accepted, while the case is reopened."""
    reward = propose(scene)

    reopen(scene)

    with pytest.raises(Conflict) as deciding:
        scene.service().decide(scene.me("dai"), reward.id, True, "")
    assert deciding.value.code == "reward_on_hold"
    reopen_conclude = CaseworkService(scene.db, scene.clock, CaseworkConfig(ZONE, SECRET))
    reopen_conclude.transition(
        scene.me("ana"), scene.case.id, "concluded", "Again", "substantiated"
    )
    scene.service().decide(scene.me("dai"), reward.id, True, "")
    reopen(scene)
    with pytest.raises(Conflict) as accepting:
        scene.service().accept(scene.reporter, scene.case.id, PAYOUT)
    assert accepting.value.code == "reward_on_hold"


def test_an_approver_in_finance_cannot_pay_what_he_approved(scene: Scene) -> None:
    """Someone holding both roles who approved the reward is refused as its payer (an account
    from before the separation-of-duties table, which now refuses this pair)."""
    hal = scene.world.legacy_staff("hal@example.com", "reward_approver", "finance")
    scene.people["hal"] = hal
    reward = propose(scene)
    scene.service().decide(scene.me("hal"), reward.id, True, "")
    scene.service().accept(scene.reporter, scene.case.id, PAYOUT)

    with pytest.raises(Forbidden) as refused:
        scene.service().pay(scene.me("hal"), reward.id, "BANK-2")

    assert refused.value.code == "own_reward"
    assert scene.service().pay(scene.me("fin"), reward.id, "BANK-3").paid_by == (
        scene.people["fin"].account.id
    )


def test_payout_key_grants_to_finance_are_audited(scene: Scene) -> None:
    """The reporter's acceptance grants finance the payout key: one key.granted entry each."""
    offered(scene)

    scene.service().accept(scene.reporter, scene.case.id, PAYOUT)
    # A reporter's day is held back from the chain until it is over (docs/promises.md).
    scene.clock.advance(days=1)
    AuditLog(scene.db, scene.clock, SECRET).release_held()

    entries = scene.db.scalars(select(AuditEntry).where(AuditEntry.action == "key.granted")).all()
    assert [(e.actor_kind, e.case_id) for e in entries] == [("reporter", scene.case.id)]
    assert scene.people["fin"].account.id in entries[0].detail


def test_an_offer_changed_by_another_request_after_it_was_read_is_not_accepted_again(
    scene: Scene,
) -> None:
    """The offer was read as open, then another request (a second tab, a double click) paid
    or answered it before this one took the row lock: the lock reads the row afresh, so this
    acceptance is refused instead of moving a paid reward back to "accepted"."""
    reward = offered(scene)
    service = scene.service()
    assert service.reporter_reward(scene.case.id) is reward  # read into the session as open
    rewards = Reward.metadata.tables["rewards"]
    # What a concurrent request committed meanwhile, beside this session's copy of the row.
    scene.db.execute(rewards.update().where(rewards.c.id == reward.id).values(status="paid"))

    with pytest.raises(Conflict) as refused:
        service.accept(scene.reporter, scene.case.id, PAYOUT)

    assert refused.value.code == "no_offer"
    status = scene.db.scalar(select(rewards.c.status).where(rewards.c.id == reward.id))
    assert status == "paid"
