"""Builders for staff-side tests: an organisation, staff with keys and TOTP, filed cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

import crypto
from cases.audit.service import AuditLog
from cases.clock import Clock, SystemClock, epoch
from cases.org.models import Category, Channel
from cases.org.service import OrgService
from cases.principals import StaffPrincipal
from cases.reports.arrivals import listed_hour, release
from cases.reports.intake import Filed, IntakeConfig, IntakeService, SubjectInput, Submission
from cases.reports.keys import KeyRing
from cases.sessions.service import SessionPolicy, ThrottleRule
from cases.staff.login import LoginConfig, LoginService
from cases.staff.models import StaffAccount, StaffRole
from cases.staff.service import StaffService

SECRET = b"t" * 32
ZONE = ZoneInfo("Asia/Shanghai")
PROFILE = crypto.profile_named("test", allow_test=True)
PASSWORD = "correct horse battery staple 7"


def key_ring(db: Session, secret: bytes = SECRET, clock: Clock | None = None) -> KeyRing:
    """A KeyRing as the services build it, under the tests' server secret."""
    return KeyRing(db, AuditLog(db, clock or SystemClock(), secret), secret)


@dataclass
class Person:
    account: StaffAccount
    totp_secret: bytes | None
    password: str = PASSWORD

    def principal(self, db: Session, clock: Clock) -> StaffPrincipal:
        service = StaffService(db, clock, server_secret=SECRET, profile=PROFILE)
        return StaffPrincipal(self.account, service.check_password(self.account, self.password))

    def code(self, clock: Clock) -> str:
        assert self.totp_secret is not None
        return crypto.totp_code(self.totp_secret, epoch(clock.now()))


@dataclass
class World:
    db: Session
    clock: Clock
    channel: Channel
    people: dict[str, Person] = field(default_factory=dict)

    def category(self, slug: str = "kickbacks") -> Category:
        return next(c for c in self.channel.categories if c.slug == slug)

    def staff(self, email: str, *roles: str, enrol: bool = True, **extra: str) -> Person:
        service = StaffService(self.db, self.clock, server_secret=SECRET, profile=PROFILE)
        made = service.create(
            email, PASSWORD, list(roles or ("investigator",)), enrol_totp=enrol, **extra
        )
        person = Person(made.account, made.totp_secret)
        self.people[email] = person
        return person

    def legacy_staff(self, email: str, *roles: str) -> Person:
        """An account holding roles the separation-of-duties table now forbids together, as one
        made before the table (or written to the database by hand) would."""
        person = self.staff(email, roles[0])
        person.account.roles += [StaffRole(role=r) for r in roles[1:]]
        self.db.flush()
        return person

    def log_in(self, email: str) -> None:
        """A real API login (LoginService): it fulfils the pending grants on the keys this
        person holds."""
        person = self.people[email]
        config = LoginConfig(SECRET, PROFILE, ThrottleRule(10, 900), SessionPolicy(1800, 43200))
        LoginService(self.db, self.clock, config).api_login(
            email, person.password, person.code(self.clock)
        )

    def file(
        self, summary: str = "Orders moved to a rival", *, listed: bool = True, **changes: object
    ) -> Filed:
        """File a report; unless `listed` is False, the jobs round then lists it at its hour
        (support/arrivals.py), so staff read it as they would after that hour."""
        config = IntakeConfig(
            zone=ZONE, profile=PROFILE, server_secret=SECRET, base_url="https://portal.example"
        )
        fields: dict[str, object] = {
            "channel_id": self.channel.id,
            "category_id": self.category().id,
            "summary": summary,
            "details": "The Q3 orders of a key account went to a competitor.",
            "subjects": [SubjectInput(name="Wang Wei")],
            **changes,
        }
        filed = IntakeService(self.db, self.clock, config).submit(Submission(**fields))  # type: ignore[arg-type]
        self.db.flush()
        if listed:
            release(self.db, listed_hour(self.clock.now()))
            self.db.flush()
        return filed


def build_world(db: Session, clock: Clock) -> World:
    channel = OrgService(db).general_channel()
    return World(db, clock, channel)
