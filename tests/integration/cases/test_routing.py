"""Staff who join later are owed the open cases routed to them, as pending grants only."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from support.staff_world import SECRET, build_world, key_ring

from cases.access.policy import visible_condition
from cases.clock import FixedClock
from cases.org.routing import Routing
from cases.reports.intake import SubjectInput
from cases.reports.keys import CASE
from cases.reports.models import Case, PendingGrant
from cases.staff.directory import DirectoryService, Row


def _grants(db: Session, staff_id: str) -> set[str]:
    rows = db.scalars(select(PendingGrant.case_id).where(PendingGrant.staff_id == staff_id))
    return set(rows)


def test_a_new_investigator_awaits_the_open_cases_then_gets_the_key(db_session: Session) -> None:
    """Queued as pending, listed as awaiting access, and wrapped at a key holder's next login."""
    world = build_world(db_session, FixedClock())
    first = world.staff("first@corp.example")
    filed = world.file()
    late = world.staff("late@corp.example")

    queued = Routing(db_session, key_ring(db_session)).queue_for(late.account, "joined")

    assert queued == 1
    assert _grants(db_session, late.account.id) == {filed.case.id}
    listed = db_session.scalars(select(Case.id).where(visible_condition(late.account))).all()
    assert listed == [filed.case.id]
    key_ring(db_session).fulfil_as_staff(first.principal(db_session, world.clock))
    key = key_ring(db_session).open_for_staff(
        filed.case.id, CASE, late.principal(db_session, world.clock)
    )
    assert key is not None
    assert _grants(db_session, late.account.id) == set()


def test_no_grant_for_retaliation_cases_or_excluded_people(db_session: Session) -> None:
    """A retaliation complaint is not owed to investigators; nor is a case naming the person."""
    world = build_world(db_session, FixedClock())
    DirectoryService(db_session, world.clock, SECRET).import_rows(
        [Row("E5", "Late Comer", "late@corp.example", "Sales", "")]
    )
    world.staff("officer@corp.example", "retaliation_officer")
    world.file(category_id=world.category("retaliation").id)
    world.file(subjects=[SubjectInput(name="Late Comer", employee_id="E5")])
    late = world.staff("late@corp.example", employee_id="E5")

    queued = Routing(db_session, key_ring(db_session)).queue_for(late.account, "joined")

    assert queued == 0
    assert _grants(db_session, late.account.id) == set()
