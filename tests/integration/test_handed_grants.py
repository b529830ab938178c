"""A key a reporter's visit hands on is stored for its new holder only at the next full hour,
after the policy is asked again; a key rotation in between keeps it opening."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from support.staff_world import SECRET, Person, World, key_ring

import crypto
from cases.clock import ceil_hour
from cases.keytrust import seal_staff_key
from cases.principals import ReporterPrincipal, StaffPrincipal
from cases.reports.keys import CASE, KeyRing
from cases.reports.models import Case, PendingGrant, Receipt
from cases.reports.sealing import REPORT, open_json


def _handed(world: World) -> tuple[str, Person, KeyRing]:
    """Ana holds the case; Hana is owed it and the reporter's visit (at 09:20) hands it on."""
    world.staff("ana@example.com")
    filed = world.file()
    hana = world.staff("hana@example.com")
    keys = key_ring(world.db, clock=world.clock)
    keys.request_grant(filed.case.id, CASE, hana.account.id, "joined")
    world.clock.advance(minutes=20)
    receipt = world.db.get(Receipt, filed.case.receipt_id)
    assert receipt is not None
    reporter = ReporterPrincipal(receipt, filed.reporter_key)
    assert keys.fulfil_as_reporter(reporter, [filed.case.id]) == 1
    return filed.case.id, hana, keys


def test_before_the_hour_nothing_opens_and_at_the_hour_the_key_does(world: World) -> None:
    """The grant waits for 10:00: the round at 09:59 stores nothing and Hana opens nothing;
    the round at 10:00 stores her wrap, which opens the report, and the grant is gone."""
    case_id, hana, keys = _handed(world)
    hour = ceil_hour(world.clock.now())
    [grant] = world.db.scalars(select(PendingGrant)).all()
    principal = hana.principal(world.db, world.clock)

    early = keys.release_handed(hour - timedelta(minutes=1))
    before = keys.open_for_staff(case_id, CASE, principal)
    on_time = keys.release_handed(hour)
    key = keys.open_for_staff(case_id, CASE, principal)
    case = world.db.get(Case, case_id)

    assert grant.ready_at == hour
    assert (early, before) == (0, None)
    assert on_time == 1
    assert key is not None
    assert case is not None
    assert open_json(key, case_id, REPORT, case_id, case.content)["summary"]
    assert world.db.scalars(select(PendingGrant)).all() == []


def test_someone_the_case_keeps_away_by_the_hour_gets_nothing(world: World) -> None:
    """Hana is deactivated between the visit and the hour: no wrap, and the grant is gone."""
    case_id, hana, keys = _handed(world)
    hana.account.active = False
    world.db.flush()

    stored = keys.release_handed(ceil_hour(world.clock.now()))

    assert stored == 0
    assert not keys.holds(case_id, CASE, hana.account.id)
    assert world.db.scalars(select(PendingGrant)).all() == []


def test_a_key_rotation_before_the_hour_keeps_the_handed_key_opening(world: World) -> None:
    """Hana rotates her key pair before the hour: the handed-on key is wrapped again for the
    new key, and opens with it once stored."""
    case_id, hana, keys = _handed(world)
    old = hana.principal(world.db, world.clock)
    pair = crypto.KeyPair.generate()
    keys.rewrap_all_for_staff(hana.account, old.private_key, pair.public_bytes)
    hana.account.public_key = pair.public_bytes
    seal_staff_key(SECRET, hana.account)
    world.db.flush()

    stored = keys.release_handed(ceil_hour(world.clock.now()))
    renewed = StaffPrincipal(hana.account, pair.private_bytes)

    assert stored == 1
    assert keys.open_for_staff(case_id, CASE, renewed) is not None
