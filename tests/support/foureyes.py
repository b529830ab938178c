"""A held case past its retention period, and the people who may or may not end its hold."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy.orm import Session

from cases.clock import Clock
from cases.org.admin import AdminConfig, AdminService
from cases.reports.intake import SubjectInput
from cases.reports.models import Case, Status
from cases.retention import RetentionConfig, RetentionService
from cases.staff.enrolment import EnrolmentService
from cases.staff.service import StaffService
from support.staff_world import (
    PASSWORD,
    PROFILE,
    SECRET,
    ZONE,
    Person,
    World,
    build_world,
    key_ring,
)

# Noon in Shanghai on 2029-06-15: the case below, closed on 2026-01-31, is long past its
# 36 months, so only its hold keeps it.
NOW = datetime(2029, 6, 15, 4, 0)


@dataclass
class HeldCase:
    world: World
    case_id: str
    reference: str
    ana: Person  # investigator on the case
    bob: Person  # investigator on the case
    dan: Person  # investigator named in the case: the accused
    boss: Person  # admin
    deputy: Person  # a second admin, made by the operator (not by boss)


def held_case(db: Session, clock: Clock) -> HeldCase:
    """Two investigators and the accused on the team, two admins; the case naming the accused
    is closed, past its period and on legal hold."""
    world = build_world(db, clock)
    people = {
        name: world.staff(f"{name}@corp.example", role)
        for name, role in (
            ("ana", "investigator"),
            ("bob", "investigator"),
            ("dan", "investigator"),
            ("boss", "admin"),
            ("deputy", "admin"),
        )
    }
    filed = world.file(subjects=[SubjectInput(name="Dan", email="dan@corp.example")])
    case = filed.case
    case.status, case.closed_on = Status.CLOSED, date(2026, 1, 31)
    service = retention(db, clock)
    service.hold(people["ana"].principal(db, clock), case.id, "Labour court case 2029-17")
    return HeldCase(world, case.id, case.reference, **people)


def retention(db: Session, clock: Clock) -> RetentionService:
    return RetentionService(db, clock, RetentionConfig(ZONE, SECRET))


def puppet_of(db: Session, clock: Clock, maker: Person, email: str, role: str) -> Person:
    """An account `maker` (an admin) made on the web and enrolled through its link."""
    admin = AdminService(db, clock, AdminConfig(SECRET, PROFILE))
    made = admin.create_account(maker.principal(db, clock), email, [role], name="Helper")
    staff = StaffService(db, clock, server_secret=SECRET, profile=PROFILE)
    enrolled = EnrolmentService(db, clock, staff).complete(made.enrolment_token, PASSWORD)
    return Person(enrolled.account, enrolled.totp_secret)


def awaiting_key(db: Session, held: HeldCase, email: str) -> Person:
    """A fresh investigator on the case's team (no team set: every investigator) who only
    awaits the case key: a pending grant a key holder's next session would fulfil, no wrap.
    The case page opens for them (`may_open` accepts the grant), but they hold no key."""
    world = replace(held.world, db=db, people={})
    person = world.staff(email, "investigator")
    ring = key_ring(world.db, clock=world.clock)
    ring.request_grant(held.case_id, "case", person.account.id, "team_joined")
    assert not ring.holds(held.case_id, "case", person.account.id)
    return person


def deleted(db: Session, case_id: str) -> bool:
    case = db.get(Case, case_id)
    assert case is not None
    db.refresh(case)
    return case.retention_deleted_on is not None
