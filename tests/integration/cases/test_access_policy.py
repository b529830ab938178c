"""The anti-retaliation policy: subjects, their managers and excluded staff never see a case."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from support.staff_world import SECRET, World, build_world

from cases.access.policy import may_see, visible_condition
from cases.clock import FixedClock
from cases.reports.intake import SubjectInput
from cases.reports.models import Case, KeyWrap
from cases.staff.directory import DirectoryService, Row
from cases.staff.models import DirectoryEntry

CHAIN = (
    Row("E1", "Boss", "boss@corp.example", "Sales", ""),
    Row("E2", "Director", "director@corp.example", "Sales", "E1"),
    Row("E3", "Manager", "manager@corp.example", "Sales", "E2"),
    Row("E4", "Rep", "rep@corp.example", "Sales", "E3"),
    Row("E9", "Auditor Person", "peer@corp.example", "Audit", ""),
)


def _world(db: Session) -> World:
    world = build_world(db, FixedClock())
    DirectoryService(db, world.clock, SECRET).import_rows(CHAIN)
    for email, employee_id in (
        ("boss@corp.example", "E1"),
        ("director@corp.example", "E2"),
        ("manager@corp.example", "E3"),
        ("rep@corp.example", "E4"),
        ("peer@corp.example", "E9"),
    ):
        world.staff(email, "investigator", employee_id=employee_id)
    return world


def _visible_ids(db: Session, world: World, email: str) -> set[str]:
    account = world.people[email].account
    return set(db.scalars(select(Case.id).where(visible_condition(account))))


def test_subject_and_every_manager_above_are_excluded(db_session: Session) -> None:
    """A report naming the manager hides it from the manager and everyone above them."""
    world = _world(db_session)

    filed = world.file(subjects=[SubjectInput(name="Manager", employee_id="E3")])

    reasons = {
        email: may_see(db_session, world.people[email].account, filed.case).reason
        for email in world.people
    }
    assert reasons == {
        "boss@corp.example": "manager",
        "director@corp.example": "manager",
        "manager@corp.example": "subject",
        "rep@corp.example": "ok",
        "peer@corp.example": "ok",
    }


def test_listing_agrees_with_may_see(db_session: Session) -> None:
    """The SQL filter used for lists and counts gives the same answer as may_see."""
    world = _world(db_session)

    filed = world.file(subjects=[SubjectInput(name="Director", employee_id="E2")])

    for email, person in world.people.items():
        listed = filed.case.id in _visible_ids(db_session, world, email)
        assert listed == bool(may_see(db_session, person.account, filed.case)), email


def test_excluded_staff_hold_no_wrapped_key(db_session: Session) -> None:
    """The policy is enforced with keys: nobody it excludes receives a wrapped case key."""
    world = _world(db_session)
    excluded_by_reporter = world.people["peer@corp.example"].account.id
    world.staff("outsider@corp.example", "investigator")

    filed = world.file(
        subjects=[SubjectInput(name="Rep", email="rep@corp.example")],
        exclude=[excluded_by_reporter],
    )

    holders = set(
        db_session.scalars(select(KeyWrap.staff_id).where(KeyWrap.case_id == filed.case.id))
    )
    emails = {p.account.id: e for e, p in world.people.items()}
    assert {emails[h] for h in holders if h} == {"outsider@corp.example"}
    assert may_see(db_session, world.people["peer@corp.example"].account, filed.case).reason == (
        "excluded"
    )


def test_name_only_match_excludes_every_candidate(db_session: Session) -> None:
    """An ambiguous name keeps every person of that name (and their managers) away."""
    world = _world(db_session)
    DirectoryService(db_session, world.clock, SECRET).import_rows(
        [*CHAIN, Row("E5", "Rep", "rep2@corp.example", "Audit", "E9")]
    )

    filed = world.file(subjects=[SubjectInput(name="Rep")])

    assert may_see(db_session, world.people["manager@corp.example"].account, filed.case).reason == (
        "manager"
    )
    assert may_see(db_session, world.people["peer@corp.example"].account, filed.case).reason == (
        "manager"
    )


def test_role_without_content_access_sees_nothing(db_session: Session) -> None:
    """Admins and auditors read no reports: the policy refuses them by role."""
    world = _world(db_session)
    admin = world.staff("admin@corp.example", "admin")
    auditor = world.staff("auditor@corp.example", "auditor")

    filed = world.file()

    assert may_see(db_session, admin.account, filed.case).reason == "role"
    assert may_see(db_session, auditor.account, filed.case).reason == "role"
    assert filed.case.id not in _visible_ids(db_session, world, "admin@corp.example")


def test_cyclic_directory_data_does_not_hang_the_policy(db_session: Session) -> None:
    """A management cycle already in the database still gives an answer."""
    world = _world(db_session)

    boss = db_session.scalars(
        select(DirectoryEntry).where(DirectoryEntry.employee_id == "E1")
    ).one()
    boss.manager_employee_id = "E4"
    db_session.flush()

    filed = world.file(subjects=[SubjectInput(name="Boss", employee_id="E1")])

    assert may_see(db_session, world.people["rep@corp.example"].account, filed.case).reason == (
        "manager"
    )
