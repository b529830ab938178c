"""Retaliation-risk assessments and protective measures: sealed, role-checked, followed up."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session
from support.staff_world import SECRET, build_world, key_ring

from cases.access.protection import ProtectionService
from cases.audit.service import AuditLog
from cases.clock import FixedClock
from cases.errors import Forbidden, Invalid
from cases.reports.keys import CASE


def test_assessment_and_measures_round_trip_sealed(db_session: Session) -> None:
    """What is typed is stored sealed and read back; the likelihood stays clear for triage."""
    world = build_world(db_session, FixedClock())
    world.staff("inv@corp.example", "investigator")
    filed = world.file()
    principal = world.people["inv@corp.example"].principal(db_session, world.clock)
    key = key_ring(db_session).open_for_staff(filed.case.id, CASE, principal)
    assert key is not None
    service = ProtectionService(db_session, world.clock, AuditLog(db_session, world.clock, SECRET))

    row = service.assess(
        principal, filed.case, key, likelihood="high", who="Sales manager", measures="Move desk"
    )
    follow_up = world.clock.now().date() + timedelta(days=30)
    measure = service.add_measure(
        principal, filed.case, key, description="Check in monthly", follow_up_on=follow_up
    )

    assert b"Sales manager" not in row.sealed
    assert b"monthly" not in measure.sealed
    latest = service.latest(filed.case, key)
    assert latest is not None
    assert (latest.likelihood, latest.who) == ("high", "Sales manager")
    assert [m.description for m in service.measures(filed.case, key)] == ["Check in monthly"]
    assert service.due(follow_up - timedelta(days=1)) == []
    assert [m.id for m in service.due(follow_up)] == [measure.id]


def test_bad_input_and_wrong_roles_are_refused(db_session: Session) -> None:
    """An unknown likelihood or a custodian recording an assessment are refused."""
    world = build_world(db_session, FixedClock())
    world.staff("inv@corp.example", "investigator")
    world.staff("cus@corp.example", "custodian")
    filed = world.file()
    inv = world.people["inv@corp.example"].principal(db_session, world.clock)
    custodian = world.people["cus@corp.example"].principal(db_session, world.clock)
    key = key_ring(db_session).open_for_staff(filed.case.id, CASE, inv)
    assert key is not None
    service = ProtectionService(db_session, world.clock, AuditLog(db_session, world.clock, SECRET))

    with pytest.raises(Invalid):
        service.assess(inv, filed.case, key, likelihood="extreme", who="", measures="")
    with pytest.raises(Invalid):
        service.add_measure(inv, filed.case, key, description="x", follow_up_on=date(2020, 1, 1))
    with pytest.raises(Forbidden):
        service.assess(custodian, filed.case, key, likelihood="low", who="", measures="")
