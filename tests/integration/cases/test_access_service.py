"""Keys follow the policy: recusal, newly named subjects and directory changes remove access."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.staff_world import PROFILE, SECRET, ZONE, World, build_world, key_ring

from cases.access.service import AccessService
from cases.audit.models import AuditEntry
from cases.audit.service import AuditLog
from cases.clock import FixedClock
from cases.errors import Conflict
from cases.reports.intake import IntakeConfig, SubjectInput
from cases.reports.keys import CASE
from cases.reports.models import KeyWrap, PendingGrant
from cases.staff.directory import DirectoryService, Row


def _setup(db: Session) -> tuple[World, AccessService]:
    world = build_world(db, FixedClock())
    DirectoryService(db, world.clock, SECRET).import_rows(
        [Row("M1", "Boss", "boss@corp.example", "Sales", ""), Row("R1", "Rep", "", "Sales", "M1")]
    )
    world.staff("boss@corp.example", "investigator", employee_id="M1")
    world.staff("neutral@corp.example", "investigator")
    return world, AccessService(db, world.clock, AuditLog(db, world.clock, SECRET))


def _holders(db: Session, case_id: str) -> set[str]:
    rows = db.scalars(select(KeyWrap.staff_id).where(KeyWrap.case_id == case_id))
    return {row for row in rows if row}


def test_new_subject_removes_the_managers_key(db_session: Session) -> None:
    """Naming the rep later takes the case key away from the rep's boss at once."""
    world, access = _setup(db_session)
    filed = world.file(subjects=[])
    boss = world.people["boss@corp.example"]
    neutral = world.people["neutral@corp.example"].principal(db_session, world.clock)
    assert boss.account.id in _holders(db_session, filed.case.id)
    case_key = key_ring(db_session).open_for_staff(filed.case.id, CASE, neutral)
    assert case_key is not None

    revoked = access.add_subject(
        neutral,
        filed.case,
        case_key,
        SubjectInput(name="Rep", employee_id="R1"),
        IntakeConfig(ZONE, PROFILE, SECRET),
    )

    assert [(r.staff_id, r.reason) for r in revoked] == [(boss.account.id, "manager")]
    assert _holders(db_session, filed.case.id) == {neutral.id}


def test_directory_change_is_enforced_for_every_case(db_session: Session) -> None:
    """A re-import that makes someone a subject's manager removes their keys everywhere."""
    world, access = _setup(db_session)
    filed = world.file(subjects=[SubjectInput(name="Rep", employee_id="R1")])
    neutral = world.people["neutral@corp.example"]
    DirectoryService(db_session, world.clock, SECRET).import_rows(
        [
            Row("M1", "Boss", "boss@corp.example", "Sales", ""),
            Row("N1", "Neutral", "neutral@corp.example", "Sales", "M1"),
            Row("R1", "Rep", "", "Sales", "N1"),
        ]
    )

    removed = access.enforce_all()

    assert removed == 1
    assert neutral.account.id not in _holders(db_session, filed.case.id)
    assert db_session.scalars(select(PendingGrant)).all() == []


def test_recusal_drops_keys_but_not_for_the_last_holder(db_session: Session) -> None:
    """One of two holders may recuse; the last one is told to hand over first."""
    world, access = _setup(db_session)
    filed = world.file(subjects=[SubjectInput(name="Rep", employee_id="R1")])
    world.staff("second@corp.example", "investigator")
    neutral = world.people["neutral@corp.example"].principal(db_session, world.clock)
    with pytest.raises(Conflict):
        access.recuse(neutral, filed.case)

    key = key_ring(db_session).open_for_staff(filed.case.id, CASE, neutral)
    assert key is not None
    key_ring(db_session).wrap_for_staff(
        filed.case.id, CASE, key, world.people["second@corp.example"].account
    )
    access.recuse(neutral, filed.case)

    assert _holders(db_session, filed.case.id) == {world.people["second@corp.example"].account.id}


def test_revocation_entry_names_no_one(db_session: Session) -> None:
    """The audit entry of a revocation says how many lost access, never who or why."""
    world, access = _setup(db_session)
    filed = world.file(subjects=[])
    boss = world.people["boss@corp.example"]
    neutral = world.people["neutral@corp.example"].principal(db_session, world.clock)
    case_key = key_ring(db_session).open_for_staff(filed.case.id, CASE, neutral)
    assert case_key is not None

    access.add_subject(
        neutral,
        filed.case,
        case_key,
        SubjectInput(name="Rep", employee_id="R1"),
        IntakeConfig(ZONE, PROFILE, SECRET),
    )

    entries = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "access.revoked")
    ).all()
    assert [e.detail for e in entries] == ['{"count": 1}']
    assert all(boss.account.id not in e.detail and "manager" not in e.detail for e in entries)
