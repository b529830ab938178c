"""Intake and questionnaires in the domain: who must answer required questions, what is sealed."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from support.questionnaires import every_kind
from support.staff_world import build_world, key_ring

from cases.clock import FixedClock
from cases.errors import Invalid
from cases.reports.keys import CASE
from cases.reports.sealing import REPORT, open_json


def test_staff_recorded_reports_may_leave_required_questions_open(db_session: Session) -> None:
    """A report staff record (phone, meeting, letter) files without the required answer; a
    reporter's own filing does not."""
    clock = FixedClock()
    world = build_world(db_session, clock)
    ids = every_kind(world, world.staff("boss@example.com", "admin"), db_session, clock)

    recorded = world.file(intake="phone")
    with pytest.raises(Invalid) as refused:
        world.file(intake="api")

    assert recorded.case.record_state == "pending"
    assert refused.value.fields == {f"answers.{ids['date']}": "required"}


def test_answers_are_sealed_in_the_report_with_version_and_digest(db_session: Session) -> None:
    """The sealed content carries the version id, number and digest beside the answers."""
    clock = FixedClock()
    world = build_world(db_session, clock)
    ids = every_kind(world, world.staff("boss@example.com", "admin"), db_session, clock)
    ana = world.staff("ana@example.com")

    filed = world.file(answers={ids["date"]: "2026-03-01", ids["yes_no"]: "no"})
    case = filed.case
    key = key_ring(db_session).open_for_staff(case.id, CASE, ana.principal(db_session, clock))
    assert key is not None
    part = open_json(key, case.id, REPORT, case.id, case.content)["questionnaire"]

    assert b"2026-03-01" not in case.content
    assert part["number"] == 2
    assert len(part["digest"]) == 64
    assert part["answers"] == {ids["date"]: "2026-03-01", ids["yes_no"]: False}
