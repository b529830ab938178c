"""Assignment hands out the case key, so only people who work cases can be assigned."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from support.staff_world import SECRET, ZONE, build_world, key_ring

from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import FixedClock
from cases.errors import Invalid
from cases.reports.keys import CASE


@pytest.mark.parametrize("role", ["finance", "custodian", "reward_approver"])
def test_non_workers_cannot_be_assigned_or_keyed(db_session: Session, role: str) -> None:
    """Assigning finance, a custodian or an approver is refused and gives them no key."""
    world = build_world(db_session, FixedClock())
    ana = world.staff("ana@corp.example", "investigator")
    other = world.staff("other@corp.example", role)
    filed = world.file()
    work = CaseworkService(db_session, world.clock, CaseworkConfig(ZONE, SECRET))
    principal = ana.principal(db_session, world.clock)

    with pytest.raises(Invalid):
        work.assign(principal, filed.case.id, other.account.id)

    assert not key_ring(db_session).holds(filed.case.id, CASE, other.account.id)
    assert other.account.id not in {p.id for p in work.candidates(principal, filed.case.id)}
