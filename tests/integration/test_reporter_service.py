"""The reporter service against a real database: receipt checks, throttles, sweeping uploads.

What a receipt check costs in Argon2id runs is counted over HTTP, on the KDF production uses:
tests/functional/test_receipt_cost.py.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import crypto
from cases.clock import FixedClock
from cases.errors import Kind, Throttled
from cases.org.service import OrgService
from cases.reports.attachments import sweep_unlinked
from cases.reports.intake import IntakeConfig, Submission
from cases.reports.models import Attachment
from cases.reports.reporter import ReporterConfig, ReporterService
from cases.sessions.models import UserSession
from cases.sessions.service import SessionPolicy, ThrottleRule

ZONE = ZoneInfo("Asia/Shanghai")


def service(db: Session, clock: FixedClock) -> ReporterService:
    config = ReporterConfig(
        intake=IntakeConfig(ZONE, crypto.PROFILES["test"], b"s" * 32),
        session=SessionPolicy(900, 7200),
        per_selector=ThrottleRule(3, 900, hourly=True),
    )
    return ReporterService(db, clock, config)


def file_one(db: Session, clock: FixedClock) -> str:
    channel = OrgService(db).general_channel()
    sub = Submission(channel.id, channel.categories[0].id, "Summary", "Details of the matter.")
    return service(db, clock).file(sub).receipt.formatted()


def test_throttle_window_passes(db_session: Session, clock: FixedClock) -> None:
    """Guesses stay throttled until the window ends on the next full hour; the right receipt
    opens the report all along (DESIGN.md, "Availability")."""
    receipt = crypto.parse_receipt(file_one(db_session, clock))
    wrong = crypto.Receipt(receipt.selector, "Z" * 16).formatted()
    reporter = service(db_session, clock)
    for _ in range(3):
        reporter.login(wrong)

    clock.advance(seconds=901)
    still = reporter.login(wrong).error
    right = reporter.login(receipt.formatted()).error
    clock.advance(hours=1)
    after = reporter.login(wrong).error

    assert isinstance(still, Throttled)
    assert right is None
    assert after is not None
    assert not isinstance(after, Throttled)


def test_sweeper_removes_only_stale_unlinked_uploads(
    db_session: Session, clock: FixedClock
) -> None:
    """Unlinked uploads past their grace period go; fresh or linked ones stay."""
    now = clock.now()
    for linked, age in ((False, 2), (False, -2), (True, 2)):
        db_session.add(
            Attachment(
                case_id="c",
                linked=linked,
                author="reporter",
                header=b"h",
                file_key=b"k",
                created_on=now.date(),
                sweep_after=now - timedelta(hours=age),
            )
        )
    db_session.flush()

    removed = sweep_unlinked(db_session, clock)

    assert removed == 1
    assert db_session.scalar(select(func.count()).select_from(Attachment)) == 2


def test_parallel_guesses_cannot_pass_the_limit(db_session: Session, clock: FixedClock) -> None:
    """Guesses checked at once and concluded later still count against one limit."""
    receipt = crypto.parse_receipt(file_one(db_session, clock))
    wrong = crypto.Receipt(receipt.selector, "Z" * 16).formatted()
    reporter = service(db_session, clock)
    attempts = [reporter.attempt(wrong) for _ in range(5)]

    outcomes = [reporter.conclude(a, reporter.derive(a), open_session=False) for a in attempts]

    kinds = [o.error.kind for o in outcomes if o.error]
    assert kinds == [Kind.UNAUTHORIZED] * 3 + [Kind.THROTTLED] * 2


def test_check_step_verifies_without_a_session(db_session: Session, clock: FixedClock) -> None:
    """verify() says the receipt is right and opens no session."""
    receipt = file_one(db_session, clock)

    outcome = service(db_session, clock).verify(receipt)

    assert outcome.verified
    assert outcome.token is None
    assert db_session.scalar(select(func.count()).select_from(UserSession)) == 0
