"""Staff login on a real database: password then one-time TOTP, throttled and audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from support.staff_world import PROFILE, SECRET, World, key_ring

import crypto
from cases.audit.models import AuditEntry
from cases.errors import Throttled, Unauthorized
from cases.reports.keys import CASE
from cases.sessions.service import SessionPolicy, SessionService, ThrottleRule
from cases.staff.login import LoginConfig, LoginService

POLICY = SessionPolicy(1800, 43200)


def login(world: World) -> LoginService:
    config = LoginConfig(SECRET, PROFILE, ThrottleRule(10, 900), POLICY)
    return LoginService(world.db, world.clock, config)


def test_password_then_code_opens_a_full_session(world: World) -> None:
    """The password step gives a 'totp' session; a right code swaps it for a full one."""
    ana = world.staff("ana@example.com")
    sessions = SessionService(world.db, world.clock)

    first = login(world).password_step("ANA@example.com ", ana.password)
    half = sessions.resume(first.token or "", POLICY)
    assert half is not None
    second = login(world).code_step(half, ana.code(world.clock))
    full = sessions.resume(second.token or "", POLICY)

    assert (first.stage, second.stage) == ("totp", "full")
    assert full is not None
    assert full.stage == "full"
    assert sessions.resume(first.token or "", POLICY) is None


def test_a_code_works_once(world: World) -> None:
    """Replaying the code that just worked is refused."""
    ana = world.staff("ana@example.com")
    code = ana.code(world.clock)
    service = login(world)

    ok = service.api_login(ana.account.email, ana.password, code)
    replay = service.api_login(ana.account.email, ana.password, code)

    assert ok.token
    assert isinstance(replay.failure, Unauthorized)


def test_unknown_email_and_wrong_password_look_the_same(world: World) -> None:
    """Both fail with the same message; both are audited without the password."""
    world.staff("ana@example.com")

    unknown = login(world).password_step("nobody@example.com", "whatever it is")
    wrong = login(world).password_step("ana@example.com", "not the password")
    details = list(world.db.scalars(select(AuditEntry.detail)))

    assert unknown.failure is not None
    assert wrong.failure is not None
    assert unknown.failure.message == wrong.failure.message
    assert len(details) == 2
    assert all("whatever" not in d and "not the password" not in d for d in details)


def test_ten_failures_then_throttled_with_growing_delay(world: World) -> None:
    """After ten failures in the window the account is throttled, even with the right password."""
    ana = world.staff("ana@example.com")
    service = login(world)
    for _ in range(10):
        service.password_step(ana.account.email, "wrong password!")

    with pytest.raises(Throttled) as caught:
        service.password_step(ana.account.email, ana.password)

    assert caught.value.retry_after > 0


def test_unenrolled_account_enrols_with_a_code(world: World) -> None:
    """An account made without TOTP goes to 'enroll'; its secret stays until a code confirms it."""
    ana = world.staff("ana@example.com", enrol=False)
    sessions = SessionService(world.db, world.clock)
    step = login(world).password_step(ana.account.email, ana.password)
    half = sessions.resume(step.token or "", POLICY)
    assert half is not None

    secret, uri = login(world).enrolment_secret(half)
    again, _ = login(world).enrolment_secret(half)
    ana.totp_secret = secret
    done = login(world).code_step(half, ana.code(world.clock))

    assert step.stage == "enroll"
    assert secret == again
    assert uri.startswith("otpauth://totp/")
    assert done.stage == "full"
    assert ana.account.totp_enrolled


def test_login_fulfils_pending_grants(world: World) -> None:
    """A key holder's login wraps the case key for a colleague who was waiting for it."""
    ana = world.staff("ana@example.com")
    case = world.file().case
    late = world.staff("late@example.com")
    key_ring(world.db).request_grant(case.id, CASE, late.account.id, "joined")

    login(world).api_login(ana.account.email, ana.password, ana.code(world.clock))

    assert key_ring(world.db).holds(case.id, CASE, late.account.id)


def test_password_change_rewraps_and_ends_other_sessions(world: World) -> None:
    """After a change the new password opens the same key; older sessions are gone."""
    ana = world.staff("ana@example.com")
    old = login(world).api_login(ana.account.email, ana.password, ana.code(world.clock))
    me = ana.principal(world.db, world.clock)

    changed = login(world).change_password(me, ana.password, "a brand new long passphrase")
    sessions = SessionService(world.db, world.clock)
    ana.password = "a brand new long passphrase"

    assert sessions.resume(old.token or "", POLICY) is None
    assert sessions.resume(changed.token or "", POLICY) is not None
    assert ana.principal(world.db, world.clock).private_key == me.private_key


def test_password_change_with_rotation_leaves_the_old_key_useless(world: World) -> None:
    """After a rotating change the new key opens old and new cases; the old key opens neither."""
    ana = world.staff("ana@example.com")
    before = world.file().case
    old = ana.principal(world.db, world.clock)
    new_password = "a brand new passphrase 9"

    step = login(world).change_password(old, ana.password, new_password, rotate=True)
    after = world.file().case
    ana.password = new_password
    new = ana.principal(world.db, world.clock)

    assert step.stage == "full"
    assert new.private_key != old.private_key
    for case in (before, after):
        assert key_ring(world.db).open_for_staff(case.id, CASE, new) is not None
        with pytest.raises(crypto.CryptoError):
            key_ring(world.db).open_for_staff(case.id, CASE, old)
