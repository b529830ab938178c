"""The reporter service against a real database: receipt checks, throttles, sweeping uploads."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import crypto
from cases.clock import FixedClock
from cases.errors import Kind
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


def test_unknown_selector_costs_one_argon2_like_a_wrong_one(
    db_session: Session, clock: FixedClock
) -> None:
    """A well-formed receipt whose selector does not exist runs one stand-in derivation,
    exactly as a wrong verifier does, so timing does not tell which selectors exist."""
    receipt = crypto.parse_receipt(file_one(db_session, clock))
    reporter = service(db_session, clock)

    unknown = reporter.login(crypto.new_receipt().formatted())
    wrong = reporter.login(crypto.Receipt(receipt.selector, "Z" * 16).formatted())

    assert unknown.error is not None
    assert wrong.error is not None
    assert (unknown.error.kind, wrong.error.kind) == (Kind.UNAUTHORIZED, Kind.UNAUTHORIZED)
    assert unknown.error.code == wrong.error.code
    assert reporter.derivations == 2


def test_typo_costs_no_database_or_argon2(db_session: Session, clock: FixedClock) -> None:
    """A receipt failing its check character is a 422 with the typo code, no derivation."""
    receipt = file_one(db_session, clock)
    reporter = service(db_session, clock)

    login = reporter.login(receipt[:-1] + ("1" if receipt[-1] != "1" else "2"))

    assert login.error is not None
    assert login.error.code == "receipt_typo"
    assert reporter.derivations == 0


def test_right_receipt_opens_a_session_with_one_derivation(
    db_session: Session, clock: FixedClock
) -> None:
    """The right receipt costs exactly one Argon2 run and opens one reporter session."""
    receipt = file_one(db_session, clock)
    reporter = service(db_session, clock)

    login = reporter.login(receipt)

    assert login.token_or_raise()
    assert reporter.derivations == 1
    assert db_session.scalar(select(func.count()).select_from(UserSession)) == 1


def test_per_selector_throttle_stops_derivations(db_session: Session, clock: FixedClock) -> None:
    """Past the limit, guesses on a selector are refused with 429 without running Argon2."""
    receipt = crypto.parse_receipt(file_one(db_session, clock))
    wrong = crypto.Receipt(receipt.selector, "Z" * 16).formatted()
    reporter = service(db_session, clock)

    codes = [reporter.login(wrong).error for _ in range(5)]

    assert [e.kind for e in codes if e] == [Kind.UNAUTHORIZED] * 3 + [Kind.THROTTLED] * 2
    assert reporter.derivations == 3


def test_throttle_window_passes(db_session: Session, clock: FixedClock) -> None:
    """After the window (ending on the next full hour), the right receipt works again."""
    receipt = crypto.parse_receipt(file_one(db_session, clock))
    wrong = crypto.Receipt(receipt.selector, "Z" * 16).formatted()
    reporter = service(db_session, clock)
    for _ in range(3):
        reporter.login(wrong)

    clock.advance(seconds=901)
    assert reporter.login(receipt.formatted()).error is not None
    clock.advance(hours=1)
    login = reporter.login(receipt.formatted())

    assert login.error is None


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
