"""Public keys and pending grants carry a MAC: a row swapped in the database gets no key."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from support.staff_world import SECRET, ZONE, World, key_ring

import crypto
from cases.access.reporting import access_summary
from cases.audit.models import AuditEntry
from cases.audit.service import AuditLog
from cases.keytrust import recovery_key_trusted, untrusted_rows
from cases.org.models import RecoveryKey
from cases.org.recovery import RecoveryService
from cases.principals import ReporterPrincipal
from cases.reports.intake import IdentityInput
from cases.reports.keys import CASE, IDENTITY, recovery_holder, staff_holder
from cases.reports.models import KeyWrap, PendingGrant, Receipt
from cases.staff.models import StaffAccount


def refusals(db: Session) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == "key.refused")))


def wraps_for(db: Session, holder: str) -> list[KeyWrap]:
    return list(db.scalars(select(KeyWrap).where(KeyWrap.holder == holder)))


def test_swapped_recovery_key_gets_no_wrap_and_says_so(world: World) -> None:
    """An UPDATE of the recovery public key: a new confidential report is not wrapped for it."""
    world.staff("ana@example.com")
    _pair, row = RecoveryService(world.db, SECRET).create()
    attacker = crypto.KeyPair.generate()
    world.db.execute(
        update(RecoveryKey).where(RecoveryKey.id == row.id).values(public_key=attacker.public_bytes)
    )
    world.db.expire_all()

    filed = world.file(identity=IdentityInput(name="Li Na", contact="li@example.com"))

    assert wraps_for(world.db, recovery_holder(row.id)) == []
    assert key_ring(world.db).open_with_recovery(filed.case.id, IDENTITY, attacker) is None
    refused = refusals(world.db)
    assert {e.case_id for e in refused} == {filed.case.id}
    assert all('"holder": "recovery"' in e.detail for e in refused)
    assert [u.kind for u in untrusted_rows(world.db, SECRET)] == ["recovery public key"]


def test_untouched_recovery_key_is_still_wrapped(world: World) -> None:
    """The MAC written at creation holds: reports are wrapped for the real recovery key."""
    world.staff("ana@example.com")
    pair, _row = RecoveryService(world.db, SECRET).create()

    filed = world.file()

    assert key_ring(world.db).open_with_recovery(filed.case.id, CASE, pair) is not None
    assert refusals(world.db) == []
    assert untrusted_rows(world.db, SECRET) == []


def test_pinned_fingerprint_refuses_another_recovery_key(world: World) -> None:
    """With PORTAL_RECOVERY_KEY_FINGERPRINT set, a key with a valid MAC but another print fails."""
    _pair, row = RecoveryService(world.db, SECRET).create()

    assert recovery_key_trusted(SECRET, row, row.fingerprint)
    assert not recovery_key_trusted(SECRET, row, "0000-0000-0000-0000-0000-0000-0000-0000")


def test_swapped_staff_key_with_real_grant_is_not_wrapped_at_login(world: World) -> None:
    """A colleague's public key swapped for the attacker's: the holder's login wraps nothing."""
    world.staff("ana@example.com")
    case = world.file().case
    bob = world.staff("bob@example.com")
    key_ring(world.db).request_grant(case.id, CASE, bob.account.id, "joined")
    attacker = crypto.KeyPair.generate()
    world.db.execute(
        update(StaffAccount)
        .where(StaffAccount.id == bob.account.id)
        .values(public_key=attacker.public_bytes)
    )
    world.db.expire_all()

    world.log_in("ana@example.com")

    assert wraps_for(world.db, staff_holder(bob.account.id)) == []
    assert [e.case_id for e in refusals(world.db)] == [case.id]
    assert [u.row_id for u in untrusted_rows(world.db, SECRET)] == [bob.account.id]


def test_forged_pending_grant_is_refused_and_removed(world: World) -> None:
    """A grant row inserted by hand (no valid MAC) is refused at the holder's login."""
    world.staff("ana@example.com")
    case = world.file().case
    mallory = world.staff("mallory@example.com")
    forged = PendingGrant(case_id=case.id, key_kind=CASE, staff_id=mallory.account.id, reason="x")
    world.db.add(forged)
    world.db.flush()
    assert [u.kind for u in untrusted_rows(world.db, SECRET)] == ["pending grant"]

    world.log_in("ana@example.com")

    assert wraps_for(world.db, staff_holder(mallory.account.id)) == []
    assert world.db.scalars(select(PendingGrant)).all() == []
    assert ['"holder": "pending_grant"' in e.detail for e in refusals(world.db)] == [True]


def test_genuine_grant_is_fulfilled_and_recorded(world: World) -> None:
    """A grant the application wrote is fulfilled, with one key.granted entry naming both."""
    ana = world.staff("ana@example.com")
    case = world.file().case
    late = world.staff("late@example.com")
    key_ring(world.db).request_grant(case.id, CASE, late.account.id, "joined")

    world.log_in("ana@example.com")

    assert wraps_for(world.db, staff_holder(late.account.id)) != []
    granted = world.db.scalars(select(AuditEntry).where(AuditEntry.action == "key.granted")).all()
    assert [(g.case_id, g.actor_id) for g in granted] == [(case.id, ana.account.id)]
    assert late.account.id in granted[0].detail


def test_grant_at_a_reporters_visit_is_recorded_and_summarised(world: World) -> None:
    """A grant fulfilled by the reporter's visit is one key.granted entry the summary counts."""
    world.staff("ana@example.com")
    filed = world.file()
    late = world.staff("late@example.com")
    key_ring(world.db).request_grant(filed.case.id, CASE, late.account.id, "joined")
    receipt = world.db.get(Receipt, filed.case.receipt_id)
    assert receipt is not None

    done = key_ring(world.db, clock=world.clock).fulfil_as_reporter(
        ReporterPrincipal(receipt, filed.reporter_key), [filed.case.id]
    )

    held = world.db.scalars(select(AuditEntry).where(AuditEntry.action == "key.granted")).all()
    world.clock.advance(days=1)
    AuditLog(world.db, world.clock, SECRET).release_held()
    granted = world.db.scalars(select(AuditEntry).where(AuditEntry.action == "key.granted")).all()
    assert done == 1
    # Held back until the reporter's day is over, so its place in the chain tells no time.
    assert held == []
    assert [(g.actor_kind, g.case_id) for g in granted] == [("reporter", filed.case.id)]
    assert access_summary(world.db, filed.case, ZONE).grants == 1
