"""Workflow, case list and case work against a real database (SQLite or PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from support.staff_world import SECRET, ZONE, World, key_ring

from cases.audit.models import AuditEntry
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.errors import Conflict, Invalid, NotFound
from cases.reports.keys import CASE
from cases.reports.models import CaseExclusion, PendingGrant
from cases.workflow.listing import CaseFilters, CaseList

TODAY = date(2026, 3, 2)


def service(world: World) -> CaseworkService:
    return CaseworkService(world.db, world.clock, CaseworkConfig(ZONE, SECRET))


def test_acknowledge_sets_day_deadline_and_history(world: World) -> None:
    """Acknowledging stamps today, recomputes feedback_by and due_on, and keeps a sealed reason."""
    ana = world.staff("ana@example.com")
    case = world.file().case
    world.clock.advance(days=3)  # type: ignore[attr-defined]
    work = service(world)
    me = ana.principal(world.db, world.clock)

    work.transition(me, case.id, "acknowledged", "Read and logged")
    view = work.view(me, case.id)

    assert case.status == "acknowledged"
    assert case.acknowledged_on == date(2026, 3, 5)
    assert case.feedback_by == date(2026, 6, 5)
    assert case.due_on == case.feedback_by
    assert [(h.to_status, h.reason) for h in view.history] == [("acknowledged", "Read and logged")]


def test_forbidden_transition_changes_nothing(world: World) -> None:
    """Closing a new case is a Conflict; concluding without an outcome is Invalid."""
    ana = world.staff("ana@example.com")
    case = world.file().case
    me = ana.principal(world.db, world.clock)

    with pytest.raises(Conflict):
        service(world).transition(me, case.id, "closed", "no")
    service(world).transition(me, case.id, "acknowledged", "ok")
    with pytest.raises(Invalid):
        service(world).transition(me, case.id, "concluded", "done", None)

    assert case.status == "acknowledged"
    assert case.outcome is None


def test_messages_and_notes_are_sealed_and_separate(world: World) -> None:
    """A reply is a message, a note is a note; both decrypt for staff and are audited."""
    ana = world.staff("ana@example.com")
    case = world.file().case
    me = ana.principal(world.db, world.clock)
    work = service(world)

    work.add_message(me, case.id, "Thank you, we are looking into it.")
    work.add_note(me, case.id, "Check the CRM export.")
    view = work.view(me, case.id)
    actions = set(world.db.scalars(select(AuditEntry.action)))

    assert [m.body for m in view.messages] == ["Thank you, we are looking into it."]
    assert [n.body for n in view.notes] == ["Check the CRM export."]
    assert view.report["summary"] == "Orders moved to a rival"
    assert {"case.message", "case.note", "case.read"} <= actions


def test_excluded_staff_get_not_found_and_an_empty_list(world: World) -> None:
    """A person the reporter excluded neither lists nor opens the case."""
    ana = world.staff("ana@example.com")
    bo = world.staff("bo@example.com")
    case = world.file(exclude=[bo.account.id]).case
    them = bo.principal(world.db, world.clock)

    page = CaseList(world.db).page(bo.account, TODAY, CaseFilters())

    assert page.total == 0
    with pytest.raises(NotFound):
        service(world).view(them, case.id)
    assert CaseList(world.db).page(ana.account, TODAY, CaseFilters()).total == 1
    assert world.db.get(CaseExclusion, (case.id, bo.account.id, "reporter")) is not None


def test_list_filters_sorts_and_flags_awaiting_access(world: World) -> None:
    """Overdue filter, sort by due date, and 'awaiting access' for a pending grant."""
    ana = world.staff("ana@example.com")
    old = world.file("old").case
    world.clock.advance(days=9)  # type: ignore[attr-defined]
    new = world.file("new").case
    cara = world.staff("cara@example.com")
    key_ring(world.db).request_grant(new.id, CASE, cara.account.id, "joined")
    today = date(2026, 3, 11)

    everything = CaseList(world.db).page(ana.account, today, CaseFilters())
    overdue = CaseList(world.db).page(ana.account, today, CaseFilters(due="overdue"))
    waiting = CaseList(world.db).page(cara.account, today, CaseFilters())

    assert [r.id for r in everything.rows] == [old.id, new.id]
    assert [r.id for r in overdue.rows] == [old.id]
    assert overdue.rows[0].overdue
    assert [(r.id, r.awaiting_access) for r in waiting.rows] == [(new.id, True)]


def test_pending_grant_is_fulfilled_by_a_key_holder(world: World) -> None:
    """Assigning a case to someone without a key wraps it from the assigner's copy."""
    ana = world.staff("ana@example.com")
    case = world.file().case
    dan = world.staff("dan@example.com")
    me = ana.principal(world.db, world.clock)

    service(world).assign(me, case.id, dan.account.id)
    view = service(world).view(dan.principal(world.db, world.clock), case.id)

    assert not view.awaiting_access
    assert [p.email for p in view.assignees] == ["dan@example.com"]
    assert world.db.scalars(select(PendingGrant)).all() == []


def test_assigning_to_an_excluded_person_is_refused(world: World) -> None:
    """The policy decides who may be assigned: an excluded person is refused."""
    ana = world.staff("ana@example.com")
    bo = world.staff("bo@example.com")
    case = world.file(exclude=[bo.account.id]).case

    with pytest.raises(Invalid):
        service(world).assign(ana.principal(world.db, world.clock), case.id, bo.account.id)

    assert service(world).assignees(case.id) == []
