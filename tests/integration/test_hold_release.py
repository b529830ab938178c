"""Ending a legal hold takes two independent people; until then retention deletes nothing.

The attack: an admin (or investigator) colluding with the accused releases the hold on the case
about him, and the next jobs round deletes it for good. SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.foureyes import (
    NOW,
    HeldCase,
    awaiting_key,
    deleted,
    held_case,
    puppet_of,
    retention,
)

from cases.audit.models import AuditEntry
from cases.clock import FixedClock
from cases.errors import Conflict, Forbidden, NotFound
from cases.reports.intake import SubjectInput
from cases.reports.models import Case
from cases.retention.release import holds_case_key
from cases.retention.service import NO_KEY


@pytest.fixture
def held(db_session: Session) -> HeldCase:
    return held_case(db_session, FixedClock(NOW))


def _clock(held: HeldCase) -> FixedClock:
    clock = held.world.clock
    assert isinstance(clock, FixedClock)
    return clock


def hold_actions(db: Session) -> list[str]:
    stmt = select(AuditEntry.action).order_by(AuditEntry.seq)
    return [a for a in db.scalars(stmt) if a.startswith("case.hold")]


def test_one_admin_alone_cannot_get_a_held_case_deleted(held: HeldCase) -> None:
    """An admin's release by reference is only a proposal: the jobs round keeps the case."""
    db, clock = held.world.db, _clock(held)
    service = retention(db, clock)

    service.propose_release_by_reference(held.boss.principal(db, clock), held.reference, "")
    removed = service.run()

    case = db.get(Case, held.case_id)
    assert case is not None
    assert removed == 0
    assert not deleted(db, held.case_id)
    assert case.hold_reason == "Labour court case 2029-17"
    assert hold_actions(db) == ["case.hold", "case.hold_release_proposed"]


def test_an_investigator_alone_cannot_get_a_held_case_deleted(held: HeldCase) -> None:
    """An investigator's release is a proposal too: the jobs round keeps the case."""
    db, clock = held.world.db, _clock(held)
    service = retention(db, clock)

    service.propose_release(held.ana.principal(db, clock), held.case_id, "Court case closed")
    removed = service.run()

    assert removed == 0
    assert not deleted(db, held.case_id)


def test_the_proposer_cannot_approve_their_own_proposal(held: HeldCase) -> None:
    """Admin or investigator, the proposer's own approval is refused and the hold stays."""
    db, clock = held.world.db, _clock(held)
    service = retention(db, clock)
    boss, ana = held.boss.principal(db, clock), held.ana.principal(db, clock)
    service.propose_release_by_reference(boss, held.reference, "")

    with pytest.raises(Forbidden):
        service.approve_release_by_reference(boss, held.reference)
    service.refuse_release_by_reference(boss, held.reference)
    service.propose_release(ana, held.case_id, "")
    with pytest.raises(Forbidden):
        service.approve_release(ana, held.case_id)

    assert service.run() == 0
    assert db.get(Case, held.case_id).hold_reason is not None  # type: ignore[union-attr]


def test_an_account_the_proposer_made_cannot_approve(held: HeldCase) -> None:
    """The admin makes a second admin account and approves with it: refused, either way round."""
    db, clock = held.world.db, _clock(held)
    service = retention(db, clock)
    puppet = puppet_of(db, clock, held.boss, "second@corp.example", "admin")
    boss, other = held.boss.principal(db, clock), puppet.principal(db, clock)

    service.propose_release_by_reference(boss, held.reference, "")
    with pytest.raises(Forbidden) as refused:
        service.approve_release_by_reference(other, held.reference)
    service.refuse_release_by_reference(boss, held.reference)
    service.propose_release_by_reference(other, held.reference, "")
    with pytest.raises(Forbidden) as maker:
        service.approve_release_by_reference(boss, held.reference)

    assert refused.value.code == "not_a_second_person"
    assert maker.value.code == "not_a_second_person"
    assert service.run() == 0
    assert not deleted(db, held.case_id)


def test_a_puppet_of_a_puppet_cannot_approve(held: HeldCase) -> None:
    """An account made by an account the proposer made is the proposer's too."""
    db, clock = held.world.db, _clock(held)
    service = retention(db, clock)
    first = puppet_of(db, clock, held.boss, "first@corp.example", "admin")
    second = puppet_of(db, clock, first, "second@corp.example", "admin")

    service.propose_release_by_reference(held.boss.principal(db, clock), held.reference, "")
    with pytest.raises(Forbidden):
        service.approve_release_by_reference(second.principal(db, clock), held.reference)

    assert not deleted(db, held.case_id)


def test_an_investigator_named_in_the_case_cannot_approve(held: HeldCase) -> None:
    """The accused investigator may not open the case: his approval is a 404, the hold stays."""
    db, clock = held.world.db, _clock(held)
    service = retention(db, clock)
    service.propose_release_by_reference(held.boss.principal(db, clock), held.reference, "")

    with pytest.raises(NotFound):
        service.approve_release(held.dan.principal(db, clock), held.case_id)
    with pytest.raises(NotFound):
        service.propose_release(held.dan.principal(db, clock), held.case_id, "")

    assert service.run() == 0
    assert not deleted(db, held.case_id)


def test_two_independent_people_end_the_hold_and_retention_then_deletes(held: HeldCase) -> None:
    """An admin proposes, an investigator on the case approves: the hold ends, the job deletes.
    Two investigators, or two admins, may do the same."""
    db, clock = held.world.db, _clock(held)
    service = retention(db, clock)
    boss, ana = held.boss.principal(db, clock), held.ana.principal(db, clock)

    service.propose_release_by_reference(boss, held.reference, "Court case closed")
    pending = service.schedule(db.get(Case, held.case_id))  # type: ignore[arg-type]
    service.approve_release(ana, held.case_id)
    removed = service.run()

    assert pending.release is not None
    assert pending.release.reason == "Court case closed"
    assert removed == 1
    assert deleted(db, held.case_id)
    assert hold_actions(db) == ["case.hold", "case.hold_release_proposed", "case.hold_released"]


def test_two_puppets_of_one_admin_cannot_end_a_hold(held: HeldCase) -> None:
    """One admin makes two admin accounts (each its own link): neither made the other, but the
    one that approves holds no case key, so its approval is refused and the case stays."""
    db, clock = held.world.db, _clock(held)
    service = retention(db, clock)
    first = puppet_of(db, clock, held.boss, "first@corp.example", "admin")
    second = puppet_of(db, clock, held.boss, "second@corp.example", "admin")
    case = db.get(Case, held.case_id)
    assert case is not None

    service.propose_release_by_reference(first.principal(db, clock), held.reference, "")
    shown = service.approval_refused(second.account, case)
    with pytest.raises(Forbidden) as refused:
        service.approve_release_by_reference(second.principal(db, clock), held.reference)
    removed = service.run()

    assert shown == NO_KEY
    assert refused.value.code == "not_a_second_person"
    assert str(refused.value) == NO_KEY
    assert removed == 0
    assert not deleted(db, held.case_id)
    assert case.hold_reason == "Labour court case 2029-17"


def test_an_investigator_awaiting_the_key_cannot_approve(held: HeldCase) -> None:
    """A fresh investigator with only a pending grant opens the case page but holds no key:
    their approval is refused and the jobs round keeps the case."""
    db, clock = held.world.db, _clock(held)
    service = retention(db, clock)
    eve = awaiting_key(db, held, "eve@corp.example")
    case = db.get(Case, held.case_id)
    assert case is not None

    service.propose_release_by_reference(held.boss.principal(db, clock), held.reference, "")
    shown = service.approval_refused(eve.account, case)
    with pytest.raises(Forbidden) as refused:
        service.approve_release(eve.principal(db, clock), held.case_id)
    removed = service.run()

    assert shown == NO_KEY
    assert refused.value.code == "not_a_second_person"
    assert removed == 0
    assert not deleted(db, held.case_id)


def test_admins_without_the_key_cannot_end_a_hold_but_two_investigators_may(
    held: HeldCase,
) -> None:
    """Two independent admins (the second not made by the first) hold no key: refused. Two
    investigators who hold it end the hold."""
    db, clock = held.world.db, _clock(held)
    service = retention(db, clock)
    p = {n: getattr(held, n).principal(db, clock) for n in ("boss", "deputy", "ana", "bob")}

    service.propose_release_by_reference(p["boss"], held.reference, "")
    with pytest.raises(Forbidden) as refused:
        service.approve_release_by_reference(p["deputy"], held.reference)
    service.refuse_release_by_reference(p["deputy"], held.reference)
    service.propose_release(p["ana"], held.case_id, "")
    service.approve_release(p["bob"], held.case_id)

    assert str(refused.value) == NO_KEY
    assert db.get(Case, held.case_id).hold_reason is None  # type: ignore[union-attr]


def test_an_admin_who_holds_the_case_key_may_approve(held: HeldCase) -> None:
    """An account that is admin and investigator on the case (made before the roles were kept
    apart) holds the key: it approves by reference and the hold ends."""
    db, clock = held.world.db, _clock(held)
    service = retention(db, clock)
    both = held.world.legacy_staff("lex@corp.example", "investigator", "admin")
    case = held.world.file().case
    ana = held.ana.principal(db, clock)
    service.hold(ana, case.id, "Regulator request")

    service.propose_release(ana, case.id, "")
    service.approve_release_by_reference(both.principal(db, clock), case.reference)

    assert holds_case_key(db, both.account.id, case)
    assert case.hold_reason is None


def test_an_expired_proposal_does_nothing(held: HeldCase) -> None:
    """Unapproved for 7 days, a proposal expires in the jobs round: a late approval is 409."""
    db, clock = held.world.db, _clock(held)
    service = retention(db, clock)
    service.propose_release_by_reference(held.boss.principal(db, clock), held.reference, "")
    clock.advance(days=7)

    removed = service.run()
    with pytest.raises(Conflict):
        service.approve_release(held.bob.principal(db, clock), held.case_id)

    assert removed == 0
    assert not deleted(db, held.case_id)
    assert service.schedule(db.get(Case, held.case_id)).release is None  # type: ignore[arg-type]
    assert hold_actions(db) == [
        "case.hold",
        "case.hold_release_proposed",
        "case.hold_release_expired",
    ]


def test_refusal_and_cancellation_keep_the_hold_and_are_audited(held: HeldCase) -> None:
    """A second person refuses; the proposer cancels; a new proposal waits while one is pending."""
    db, clock = held.world.db, _clock(held)
    service = retention(db, clock)
    boss, bob = held.boss.principal(db, clock), held.bob.principal(db, clock)

    service.propose_release_by_reference(boss, held.reference, "")
    with pytest.raises(Conflict):
        service.propose_release(bob, held.case_id, "")
    service.refuse_release(bob, held.case_id)
    service.propose_release(bob, held.case_id, "")
    service.refuse_release(bob, held.case_id)

    assert service.run() == 0
    assert hold_actions(db) == [
        "case.hold",
        "case.hold_release_proposed",
        "case.hold_release_refused",
        "case.hold_release_proposed",
        "case.hold_release_cancelled",
    ]


def test_an_admin_named_in_the_case_neither_proposes_nor_approves(held: HeldCase) -> None:
    """Admins read no case, but one the case names is kept away from its hold as from its keys."""
    db, clock = held.world.db, _clock(held)
    service = retention(db, clock)
    filed = held.world.file(subjects=[SubjectInput(name="Boss", email="boss@corp.example")])
    about_boss = filed.case
    boss, deputy = held.boss.principal(db, clock), held.deputy.principal(db, clock)
    service.hold_by_reference(deputy, about_boss.reference, "Regulator request")

    with pytest.raises(Forbidden):
        service.propose_release_by_reference(boss, about_boss.reference, "")
    service.propose_release_by_reference(deputy, about_boss.reference, "")
    with pytest.raises(Forbidden):
        service.approve_release_by_reference(boss, about_boss.reference)

    assert about_boss.hold_reason == "Regulator request"
