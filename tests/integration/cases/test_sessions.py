"""Server-side sessions and throttles: expiry, revocation, sealing, and counting in the database."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from cases.clock import FixedClock
from cases.errors import Throttled
from cases.sessions.models import UserSession
from cases.sessions.service import SessionPolicy, SessionService, Throttle, ThrottleRule

POLICY = SessionPolicy(idle_seconds=600, absolute_seconds=3600)
SECRET = b"k" * 32


def test_token_unseals_the_secret_and_the_row_alone_does_not(db_session: Session) -> None:
    """The row keeps only a sealed secret and a hash of the id; the token opens it."""
    service = SessionService(db_session, FixedClock())

    token = service.open("reporter", SECRET, POLICY)

    row = db_session.query(UserSession).one()
    assert SECRET not in row.sealed_secret
    assert token.split(".")[0] not in row.id_hash
    active = service.resume(token, POLICY)
    assert active is not None
    assert active.secret == SECRET


def test_a_forged_key_half_opens_nothing(db_session: Session) -> None:
    """The right id with another key is no session."""
    service = SessionService(db_session, FixedClock())
    token = service.open("staff", SECRET, POLICY)
    session_id = token.split(".")[0]

    forged = f"{session_id}.{'A' * 43}"

    assert service.resume(forged, POLICY) is None
    assert service.resume("garbage", POLICY) is None


def test_idle_timeout_ends_and_deletes_the_session(db_session: Session) -> None:
    """Past the idle limit the session is gone, and so is its row."""
    clock = FixedClock()
    service = SessionService(db_session, clock)
    token = service.open("reporter", SECRET, POLICY)

    clock.advance(seconds=601)

    assert service.resume(token, POLICY) is None
    assert db_session.query(UserSession).count() == 0


def test_activity_extends_idle_but_not_absolute(db_session: Session) -> None:
    """Using a session pushes the idle deadline, never past the absolute one."""
    clock = FixedClock()
    service = SessionService(db_session, clock)
    token = service.open("staff", SECRET, POLICY)

    for _ in range(6):
        clock.advance(seconds=500)
        assert service.resume(token, POLICY) is not None
    clock.advance(seconds=601)

    assert service.resume(token, POLICY) is None


def test_log_out_everywhere(db_session: Session) -> None:
    """close_all_for_staff ends every session of that person and no one else's."""
    from support.staff_world import build_world

    world = build_world(db_session, FixedClock())
    alice, bob = world.staff("alice@corp.example"), world.staff("bob@corp.example")
    service = SessionService(db_session, world.clock)
    tokens = [service.open("staff", SECRET, POLICY, staff_id=alice.account.id) for _ in range(3)]
    kept = service.open("staff", SECRET, POLICY, staff_id=bob.account.id)

    assert service.close_all_for_staff(alice.account.id) == 3

    assert all(service.resume(t, POLICY) is None for t in tokens)
    assert service.resume(kept, POLICY) is not None


def test_throttle_blocks_after_the_limit_and_forgets_after_the_window(db_session: Session) -> None:
    """Five failures block the key for the rest of the window, then it starts afresh."""
    clock = FixedClock()
    throttle, rule = Throttle(db_session, clock), ThrottleRule(limit=5, window_seconds=900)
    for _ in range(5):
        throttle.check("receipt:ABC", rule)
        throttle.fail("receipt:ABC", rule)

    with pytest.raises(Throttled) as blocked:
        throttle.check("receipt:ABC", rule)
    clock.advance(seconds=901)
    throttle.check("receipt:ABC", rule)

    assert 0 < blocked.value.retry_after <= 901
    assert throttle.sweep() == 1


def test_backoff_grows_with_each_failure_past_the_limit(db_session: Session) -> None:
    """With backoff, the block doubles: 30 s, then 60 s, then 120 s."""
    clock = FixedClock()
    throttle, rule = Throttle(db_session, clock), ThrottleRule(limit=2, window_seconds=60)
    waits = []
    for _ in range(4):
        throttle.fail("login:x", rule, backoff=True)
        try:
            throttle.check("login:x", rule)
        except Throttled as exc:
            waits.append(exc.retry_after)

    assert waits == [31, 61, 121]


def test_concurrent_failures_are_all_counted(fresh_database) -> None:  # type: ignore[no-untyped-def]
    """Twelve requests failing at once on a new key neither collide nor lose a count."""
    from concurrent.futures import ThreadPoolExecutor

    from cases.db import make_engine, session_factory, unit_of_work

    engine = make_engine(fresh_database())
    factory = session_factory(engine)
    rule = ThrottleRule(limit=100, window_seconds=900)
    clock = FixedClock()

    def fail_once(_: int) -> None:
        with unit_of_work(factory) as db:
            Throttle(db, clock).fail("receipt:RACE", rule)

    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(fail_once, range(12)))

    with unit_of_work(factory) as db:
        assert Throttle(db, clock).count("receipt:RACE") == 12
    engine.dispose()
