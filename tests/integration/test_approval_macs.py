"""Key-holder approvals carry a MAC: a row flipped, deleted or forged in the database hands the
account no key (issue 17 §1); the integrity report names it."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from support.staff_world import PROFILE, SECRET, ZONE, Person, World, key_ring

from cases.audit.service import AuditLog
from cases.keytrust import seal_grant, staff_key_trusted, untrusted_rows
from cases.notify.service import NotifyConfig
from cases.org.admin import AdminConfig, AdminService
from cases.org.approvals import ApprovalService
from cases.reports.intake import IdentityInput
from cases.reports.keys import CASE
from cases.reports.models import KeyWrap, PendingGrant
from cases.staff.models import KeyApproval
from cases.staff.service import StaffService


def withheld_custodian(world: World) -> tuple[Person, Person, str]:
    """ana holds a case key; an admin makes cora (a custodian) an investigator: withheld."""
    boss = world.staff("boss@example.com", "admin").principal(world.db, world.clock)
    ana = world.staff("ana@example.com", "investigator")
    cora = world.staff("cora@example.com", "custodian")
    identity = IdentityInput(name="Li Hua", contact="li.hua@example.com")
    case_id = world.file(identity=identity).case.id
    config = AdminConfig(SECRET, PROFILE, "https://x", ZONE)
    AdminService(world.db, world.clock, config).set_roles(boss, cora.account.id, ["investigator"])
    world.db.flush()
    assert key_ring(world.db).withheld(cora.account.id)
    return ana, cora, case_id


def case_keys(db: Session, person: Person) -> set[str]:
    stmt = select(KeyWrap.case_id).where(
        KeyWrap.staff_id == person.account.id, KeyWrap.key_kind == CASE
    )
    return set(db.scalars(stmt))


def queue_genuine_grant(world: World, person: Person, case_id: str) -> None:
    """A grant the portal itself wrote (as routing would have), so only the approval decides."""
    world.db.add(
        PendingGrant(case_id=case_id, key_kind=CASE, staff_id=person.account.id, reason="routing")
    )
    world.db.flush()
    grant = world.db.scalars(select(PendingGrant)).one()
    seal_grant(SECRET, grant)
    world.db.flush()


def approvals(world: World) -> ApprovalService:
    audit = AuditLog(world.db, world.clock, SECRET)
    return ApprovalService(world.db, world.clock, audit, NotifyConfig("https://x", ZONE))


def kinds(world: World) -> list[str]:
    return sorted(u.kind for u in untrusted_rows(world.db, SECRET))


def test_a_pending_row_flipped_to_approved_releases_no_key(world: World) -> None:
    """UPDATE status='approved': login, fulfil and routing wrap nothing; the row is reported."""
    ana, cora, case_id = withheld_custodian(world)
    queue_genuine_grant(world, cora, case_id)
    world.db.execute(update(KeyApproval).values(status="approved", decided_by=ana.account.id))
    world.db.expire_all()

    world.log_in("ana@example.com")
    new_case = world.file("Invoices padded").case.id

    assert key_ring(world.db).withheld(cora.account.id)
    assert case_keys(world.db, cora) == set()
    assert {case_id, new_case} <= case_keys(world.db, ana)
    assert kinds(world) == ["key approval", "staff public key"]


def test_a_deleted_pending_row_releases_no_key(world: World) -> None:
    """DELETE the pending row: the key stays sealed as withheld, nothing is wrapped, reported."""
    _ana, cora, case_id = withheld_custodian(world)
    queue_genuine_grant(world, cora, case_id)
    world.db.execute(delete(KeyApproval))
    world.db.expire_all()

    world.log_in("ana@example.com")
    world.file("Invoices padded")

    assert key_ring(world.db).withheld(cora.account.id)
    assert not staff_key_trusted(SECRET, cora.account)
    assert case_keys(world.db, cora) == set()
    assert [(u.kind, u.row_id) for u in untrusted_rows(world.db, SECRET)] == [
        ("staff public key", cora.account.id)
    ]


def test_a_genuine_approval_lets_keys_flow_and_reports_nothing(world: World) -> None:
    """Withheld, then approved by a key holder: no false alarm before, keys flow after."""
    ana, cora, case_id = withheld_custodian(world)
    row_id = world.db.scalars(select(KeyApproval.id)).one()
    assert untrusted_rows(world.db, SECRET) == []

    approvals(world).approve(ana.principal(world.db, world.clock), row_id)
    new_case = world.file("Invoices padded").case.id

    assert not key_ring(world.db).withheld(cora.account.id)
    assert staff_key_trusted(SECRET, cora.account)
    assert case_keys(world.db, cora) == {case_id, new_case}
    assert untrusted_rows(world.db, SECRET) == []


def test_a_refusal_keeps_withholding_without_a_false_alarm(world: World) -> None:
    """Refused by a key holder: still withheld, sealed as such, and nothing is reported."""
    ana, cora, _case_id = withheld_custodian(world)
    row_id = world.db.scalars(select(KeyApproval.id)).one()

    approvals(world).refuse(ana.principal(world.db, world.clock), row_id)
    world.file("Invoices padded")

    assert key_ring(world.db).withheld(cora.account.id)
    assert case_keys(world.db, cora) == set()
    assert untrusted_rows(world.db, SECRET) == []


def test_a_forged_approval_row_is_reported_and_changes_nothing(world: World) -> None:
    """An INSERTed 'approved' row: the account stays withheld and the row is reported."""
    ana, cora, _case_id = withheld_custodian(world)
    forged = KeyApproval(
        staff_id=cora.account.id,
        reason="role_added",
        status="approved",
        decided_by=ana.account.id,
    )
    world.db.add(forged)
    world.db.flush()

    world.file("Invoices padded")

    assert key_ring(world.db).withheld(cora.account.id)
    assert case_keys(world.db, cora) == set()
    assert [(u.kind, u.row_id) for u in untrusted_rows(world.db, SECRET)] == [
        ("key approval", forged.id)
    ]
    assert all(
        v.approval.id != forged.id
        for v in approvals(world).pending(ana.principal(world.db, world.clock))
    )


def test_a_rotated_key_of_a_withheld_account_stays_withheld(world: World) -> None:
    """Key rotation while withheld seals the new key as withheld: deleting the row still fails."""
    _ana, cora, _case_id = withheld_custodian(world)
    StaffService(world.db, world.clock, server_secret=SECRET, profile=PROFILE).new_key_pair(
        cora.account
    )
    world.db.flush()
    assert untrusted_rows(world.db, SECRET) == []

    world.db.execute(delete(KeyApproval))
    world.db.expire_all()
    world.file("Invoices padded")

    assert case_keys(world.db, cora) == set()
    assert key_ring(world.db).withheld(cora.account.id)


def test_an_account_waiting_for_enrolment_raises_no_alarm(world: World) -> None:
    """A web-made account before its enrolment has no key: nothing to trust, nothing reported
    (else every new colleague would make `portal audit verify` fail)."""
    boss = world.staff("boss@example.com", "admin").principal(world.db, world.clock)
    world.staff("ana@example.com", "investigator")
    config = AdminConfig(SECRET, PROFILE, "https://x", ZONE)

    made = AdminService(world.db, world.clock, config).create_account(
        boss, "new@example.com", ["investigator"]
    )
    world.db.flush()

    assert made.account.public_key == b""
    assert kinds(world) == []
