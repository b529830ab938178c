"""Keys follow roles at once: one eligibility rule per key kind (issue 17 §2)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from support.staff_world import PROFILE, SECRET, ZONE, Person, World, build_world, key_ring

from cases.access.disclosure import DisclosureService
from cases.access.eligibility import may_hold, prune
from cases.access.service import AccessService
from cases.audit.service import AuditLog
from cases.clock import FixedClock
from cases.org.admin import AdminConfig, AdminService
from cases.reports.intake import IdentityInput
from cases.reports.keys import CASE, IDENTITY
from cases.reports.models import Case, KeyWrap, PendingGrant
from cases.staff.models import KeyApproval


def admin(world: World) -> AdminService:
    return AdminService(world.db, world.clock, AdminConfig(SECRET, PROFILE, "https://x", ZONE))


def kinds(db: Session, person: Person) -> list[str]:
    stmt = select(KeyWrap.key_kind).where(KeyWrap.staff_id == person.account.id)
    return sorted(db.scalars(stmt))


def confidential(world: World) -> str:
    identity = IdentityInput(name="Li Hua", contact="li.hua@example.com")
    return world.file(identity=identity).case.id


def test_a_custodian_made_investigator_loses_every_identity_key(db_session: Session) -> None:
    """custodian → investigator: the identity keys go at once; no case key arrives unapproved."""
    world = build_world(db_session, FixedClock())
    boss = world.staff("boss@example.com", "admin").principal(db_session, world.clock)
    world.staff("ana@example.com", "investigator")
    cora = world.staff("cora@example.com", "custodian")
    confidential(world)
    held = kinds(db_session, cora)

    admin(world).set_roles(boss, cora.account.id, ["investigator"])

    assert held == [IDENTITY]
    assert kinds(db_session, cora) == []
    assert key_ring(db_session).withheld(cora.account.id)


def test_an_approved_requester_keeps_the_identity_key_a_plain_investigator_may_not(
    db_session: Session,
) -> None:
    """Identity: custodians and approved requesters only; the rule is the same for both."""
    world = build_world(db_session, FixedClock())
    ana = world.staff("ana@example.com", "investigator")
    bo = world.staff("bo@example.com", "investigator")
    cora = world.staff("cora@example.com", "custodian")
    case_id = confidential(world)
    audit = AuditLog(db_session, world.clock, SECRET)
    disclosure = DisclosureService(db_session, world.clock, audit, ZONE)
    case = db_session.get(Case, case_id)
    assert case is not None
    asked = disclosure.request(ana.principal(db_session, world.clock), case, "Protection")
    disclosure.decide(
        cora.principal(db_session, world.clock), asked.id, approve=True, reason="Agreed"
    )

    assert may_hold(db_session, ana.account, case, IDENTITY)
    assert not may_hold(db_session, bo.account, case, IDENTITY)
    assert may_hold(db_session, cora.account, case, IDENTITY)
    assert not may_hold(db_session, cora.account, case, CASE)


def test_recusal_removes_every_key_of_the_case(db_session: Session) -> None:
    """A recused investigator holds no wrap and no pending grant of the case."""
    world = build_world(db_session, FixedClock())
    ana = world.staff("ana@example.com")
    bo = world.staff("bo@example.com")
    case = world.file().case
    audit = AuditLog(db_session, world.clock, SECRET)
    service = AccessService(db_session, world.clock, audit)

    service.recuse(bo.principal(db_session, world.clock), case)
    left = kinds(db_session, bo)

    assert left == []
    assert kinds(db_session, ana) == [CASE]


def test_deactivating_the_last_holder_queues_the_case_for_the_team(db_session: Session) -> None:
    """The last key holder leaves: the key goes anyway and the case waits for the rest."""
    world = build_world(db_session, FixedClock())
    boss = world.staff("boss@example.com", "admin").principal(db_session, world.clock)
    ana = world.staff("ana@example.com")
    case = world.file().case
    bo = world.staff("bo@example.com")

    admin(world).deactivate(boss, ana.account.id)
    grants = list(db_session.scalars(select(PendingGrant.staff_id)))

    assert kinds(db_session, ana) == []
    assert grants == [bo.account.id]
    assert case.id


def test_prune_keeps_what_the_roles_still_allow(db_session: Session) -> None:
    """An investigator whose roles did not change keeps every case key."""
    world = build_world(db_session, FixedClock())
    ana = world.staff("ana@example.com")
    world.file()
    world.file("Second")

    pruned = prune(db_session, ana.account, key_ring(db_session))

    assert pruned.total == 0
    assert kinds(db_session, ana) == [CASE, CASE]


def test_an_approval_row_without_a_decision_withholds_every_new_key(db_session: Session) -> None:
    """A pending row alone (however it came) stops intake from wrapping for the account."""
    world = build_world(db_session, FixedClock())
    ana = world.staff("ana@example.com")
    bo = world.staff("bo@example.com")
    db_session.add(KeyApproval(staff_id=bo.account.id, reason="new_account", status="pending"))
    db_session.flush()

    world.file()

    assert kinds(db_session, ana) == [CASE]
    assert kinds(db_session, bo) == []


def test_accounts_without_key_roles_need_no_approval_until_they_gain_one(
    db_session: Session,
) -> None:
    """A web-made auditor makes no approval row; giving them a key role later does."""
    world = build_world(db_session, FixedClock())
    boss = world.staff("boss@example.com", "admin").principal(db_session, world.clock)
    world.staff("ana@example.com")
    world.file()
    service = admin(world)

    made = service.create_account(boss, "aud@example.com", ["auditor"], name="Aud")
    before = list(db_session.scalars(select(KeyApproval.reason)))
    service.set_roles(boss, made.account.id, ["investigator"])
    after = list(db_session.scalars(select(KeyApproval.reason)))

    assert before == []
    assert after == ["role_added"]


def test_a_login_reset_of_the_last_holder_queues_nothing_for_the_account(
    db_session: Session,
) -> None:
    """The reset account's cases wait for colleagues; none is queued for the account itself."""
    world = build_world(db_session, FixedClock())
    boss = world.staff("boss@example.com", "admin").principal(db_session, world.clock)
    ana = world.staff("ana@example.com")
    world.file()
    bo = world.staff("bo@example.com")

    admin(world).reset_login(boss, ana.account.id)
    grants = list(db_session.scalars(select(PendingGrant.staff_id)))

    assert kinds(db_session, ana) == []
    assert grants == [bo.account.id]
