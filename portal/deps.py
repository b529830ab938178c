"""The small factory that turns a request into the collaborators domain services need."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

import crypto
from cases.clock import Clock, SystemClock
from cases.reports.flood import FloodConfig
from cases.reports.intake import IntakeConfig
from cases.reports.reporter import ReceiptKdf
from cases.retention import RetentionConfig, RetentionService
from cases.sessions.service import SessionPolicy, ThrottleRule
from portal.settings import Settings


def settings_of(conn: HTTPConnection) -> Settings:
    settings: Settings = conn.app.state.settings
    return settings


def clock_of(conn: HTTPConnection) -> Clock:
    """The app's clock: the system clock, or the one a test put on app.state."""
    clock: Clock = getattr(conn.app.state, "clock", None) or SystemClock()
    return clock


def receipt_kdf(conn: HTTPConnection) -> ReceiptKdf:
    """The app's one receipt KDF: every receipt check derives (and is counted) there."""
    state = conn.app.state
    kdf: ReceiptKdf | None = getattr(state, "receipt_kdf", None)
    if kdf is None:
        kdf = state.receipt_kdf = ReceiptKdf(allow_test=kdf_profile(state.settings).name == "test")
    return kdf


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
