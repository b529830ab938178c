"""Where routes get their collaborators: the app's shared parts and one factory per service.

`Deps` holds what lives as long as the app (the receipt KDF and the limiters); `create_app`
builds it once and keeps it on ``app.state.deps``. Every service a route uses is made by a
small factory below, from the request and the unit of work's database session, so no route
constructs a service (or its config) itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from anyio import CapacityLimiter
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

import crypto
from cases.access.disclosure import DisclosureService
from cases.access.protection import ProtectionService
from cases.access.redaction import RedactionService
from cases.access.service import AccessService
from cases.audit.service import AuditLog
from cases.audit.trail import AuditTrail
from cases.casework.intake import RecordedIntake
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import Clock, SystemClock
from cases.db import is_sqlite
from cases.notify.service import NotifyConfig
from cases.org.admin import AdminConfig, AdminService
from cases.org.approvals import ApprovalService
from cases.org.claims import ClaimService
from cases.org.recovery import RecoveryService
from cases.reports.flood import FloodConfig
from cases.reports.handover import Handovers
from cases.reports.intake import IntakeConfig, IntakeService
from cases.reports.reporter import EvidenceQuota, ReceiptKdf, ReporterConfig, ReporterService
from cases.retention import RetentionConfig, RetentionService
from cases.rewards.service import RewardConfig, RewardService
from cases.sessions.service import SessionPolicy, ThrottleRule
from cases.staff.enrolment import EnrolmentService
from cases.staff.login import LoginConfig, LoginService
from cases.staff.service import StaffService
from cases.staff.setup import SetupLinks
from cases.workflow.flood import FloodTriage
from portal.settings import Settings


@dataclass(frozen=True)
class Deps:
    """The parts made once per app, in `create_app`, never on first use."""

    # Every receipt check derives (and is counted) here, in production and in tests alike.
    receipt_kdf: ReceiptKdf
    # Argon2 runs on its own threads, one per core (crypto/_kdf.py): twenty runs in
    # parallel on two cores would each take ten times longer and starve the writer thread.
    # Twice as many requests as cores are let through to that queue, so a thread that
    # finishes one derivation starts the next at once rather than waiting for the event
    # loop to hand it over (with one slot per core a core idled about 5% of the time under
    # load; docs/deploy.md, "Headroom"). The rest wait here in arrival order.
    kdf_slots: CapacityLimiter
    # SQLite takes one writer at a time: a one-token limiter hands its lock over first
    # come, first served (its busy handler would starve some requests for seconds). Other
    # databases need no queue (None: the default thread pool).
    writer: CapacityLimiter | None

    @classmethod
    def build(cls, settings: Settings, engine: Engine) -> Deps:
        return cls(
            receipt_kdf=ReceiptKdf(allow_test=kdf_profile(settings).name == "test"),
            kdf_slots=CapacityLimiter(2 * (os.cpu_count() or 2)),
            writer=CapacityLimiter(1) if is_sqlite(engine) else None,
        )


def deps_of(conn: HTTPConnection) -> Deps:
    deps: Deps = conn.app.state.deps
    return deps


def settings_of(conn: HTTPConnection) -> Settings:
    settings: Settings = conn.app.state.settings
    return settings


def clock_of(conn: HTTPConnection) -> Clock:
    """The app's clock: the system clock, or the one a test put on app.state."""
    clock: Clock = getattr(conn.app.state, "clock", None) or SystemClock()
    return clock


def receipt_kdf(conn: HTTPConnection) -> ReceiptKdf:
    return deps_of(conn).receipt_kdf


# --- configuration read from the settings --------------------------------------------------


def kdf_profile(settings: Settings) -> crypto.Argon2Profile:
    return crypto.profile_named(settings.kdf_profile, allow_test=settings.testing)


def server_secret(settings: Settings) -> bytes:
    return settings.secret_key.reveal()


def intake_config(settings: Settings) -> IntakeConfig:
    return IntakeConfig(
        zone=settings.timezone,
        profile=kdf_profile(settings),
        server_secret=server_secret(settings),
        base_url=settings.base_url,
        flood=FloodConfig(
            per_hour=settings.limits.reports_per_channel_per_hour,
            evidence_quota=settings.limits.flood_evidence_quota,
        ),
        recovery_fingerprint=settings.recovery_key_fingerprint,
    )


def staff_session_policy(settings: Settings) -> SessionPolicy:
    limits = settings.limits
    return SessionPolicy(limits.staff_session_idle, limits.staff_session_absolute)


def reporter_session_policy(settings: Settings) -> SessionPolicy:
    limits = settings.limits
    return SessionPolicy(limits.reporter_session_idle, limits.reporter_session_absolute)


def receipt_rule(settings: Settings) -> ThrottleRule:
    limits = settings.limits
    return ThrottleRule(
        limits.receipt_failures_per_selector, limits.receipt_window_seconds, hourly=True
    )


def login_rule(settings: Settings) -> ThrottleRule:
    limits = settings.limits
    return ThrottleRule(limits.login_failures_per_account, limits.login_window_seconds)


def retention_service(conn: HTTPConnection, db: Session) -> RetentionService:
    """Retention schedules and legal holds for this request."""
    settings = settings_of(conn)
    config = RetentionConfig(settings.timezone, server_secret(settings))
    return RetentionService(db, clock_of(conn), config)


def reporter_config(settings: Settings) -> ReporterConfig:
    return ReporterConfig(
        intake=intake_config(settings),
        session=reporter_session_policy(settings),
        per_selector=receipt_rule(settings),
        evidence=EvidenceQuota(
            settings.limits.evidence_max_case, settings.limits.evidence_files_per_day
        ),
    )


# --- service factories: (request, db) in, a service out ------------------------------------


def audit_log(conn: HTTPConnection, db: Session) -> AuditLog:
    return AuditLog(db, clock_of(conn), server_secret(settings_of(conn)))


def intake_service(conn: HTTPConnection, db: Session) -> IntakeService:
    return IntakeService(db, clock_of(conn), intake_config(settings_of(conn)))


def handovers(conn: HTTPConnection, db: Session) -> Handovers:
    """Pages a reporter's form leads to, sealed behind a short-lived link (after a 303)."""
    return Handovers(db, clock_of(conn), server_secret(settings_of(conn)))


def reporter_service(conn: HTTPConnection, db: Session) -> ReporterService:
    config = reporter_config(settings_of(conn))
    return ReporterService(db, clock_of(conn), config, receipt_kdf(conn))


def login_service(conn: HTTPConnection, db: Session) -> LoginService:
    settings = settings_of(conn)
    config = LoginConfig(
        server_secret(settings),
        kdf_profile(settings),
        login_rule(settings),
        staff_session_policy(settings),
    )
    return LoginService(db, clock_of(conn), config)


def casework(conn: HTTPConnection, db: Session) -> CaseworkService:
    settings = settings_of(conn)
    config = CaseworkConfig(settings.timezone, server_secret(settings))
    return CaseworkService(db, clock_of(conn), config)


@dataclass(frozen=True)
class AccessServices:
    """The services of a case's anti-retaliation page, sharing one audit log."""

    work: CaseworkService
    access: AccessService
    disclosure: DisclosureService
    protection: ProtectionService
    redaction: RedactionService


def access_services(conn: HTTPConnection, db: Session) -> AccessServices:
    settings, clock = settings_of(conn), clock_of(conn)
    audit = audit_log(conn, db)
    return AccessServices(
        work=casework(conn, db),
        access=AccessService(db, clock, audit),
        disclosure=DisclosureService(db, clock, audit, settings.timezone),
        protection=ProtectionService(db, clock, audit),
        redaction=RedactionService(db, clock, audit),
    )


def reward_service(conn: HTTPConnection, db: Session) -> RewardService:
    settings = settings_of(conn)
    config = RewardConfig(
        settings.timezone,
        server_secret(settings),
        settings.limits.reward_offer_days,
        recovery_fingerprint=settings.recovery_key_fingerprint,
    )
    return RewardService(db, clock_of(conn), config)


def admin_service(conn: HTTPConnection, db: Session) -> AdminService:
    settings = settings_of(conn)
    config = AdminConfig(
        server_secret(settings),
        kdf_profile(settings),
        settings.base_url,
        settings.timezone,
        settings.recovery_key_fingerprint,
    )
    return AdminService(db, clock_of(conn), config)


def staff_service(conn: HTTPConnection, db: Session) -> StaffService:
    settings = settings_of(conn)
    return StaffService(
        db, clock_of(conn), server_secret=server_secret(settings), profile=kdf_profile(settings)
    )


def enrolment_service(conn: HTTPConnection, db: Session) -> EnrolmentService:
    return EnrolmentService(db, clock_of(conn), staff_service(conn, db))


def approval_service(conn: HTTPConnection, db: Session) -> ApprovalService:
    settings = settings_of(conn)
    notify = NotifyConfig(settings.base_url, settings.timezone)
    return ApprovalService(db, clock_of(conn), audit_log(conn, db), notify)


def claim_service(conn: HTTPConnection, db: Session) -> ClaimService:
    settings = settings_of(conn)
    notify = NotifyConfig(settings.base_url, settings.timezone)
    return ClaimService(db, clock_of(conn), audit_log(conn, db), notify)


def audit_trail(conn: HTTPConnection, db: Session) -> AuditTrail:
    return AuditTrail(db, clock_of(conn), audit_log(conn, db), settings_of(conn).timezone)


def recorded_intake(conn: HTTPConnection, db: Session) -> RecordedIntake:
    return RecordedIntake(db, clock_of(conn), intake_config(settings_of(conn)))


def setup_links(conn: HTTPConnection, db: Session) -> SetupLinks:
    return SetupLinks(db, clock_of(conn), staff_service(conn, db))


def recovery_service(conn: HTTPConnection, db: Session) -> RecoveryService:
    return RecoveryService(db, server_secret(settings_of(conn)))


def flood_triage(conn: HTTPConnection, db: Session) -> FloodTriage:
    settings = settings_of(conn)
    return FloodTriage(db, clock_of(conn), server_secret(settings), settings.timezone)
