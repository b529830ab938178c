"""Staff login: password, then a one-time TOTP code (or enrolment), throttled and audited.

Failures are returned, not raised, so the caller can commit the throttle count and the
audit entry before answering: a raised error would roll them back with everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy.orm import Session

import crypto
from cases.access.disclosure import rewrap_reasons
from cases.audit.service import Actor, AuditLog
from cases.clock import Clock
from cases.errors import CaseError, Forbidden, Unauthorized
from cases.principals import StaffPrincipal
from cases.reports.keys import KeyRing
from cases.sessions.service import (
    ActiveSession,
    SessionPolicy,
    SessionService,
    Throttle,
    ThrottleRule,
)
from cases.staff.models import StaffAccount
from cases.staff.service import StaffService, check_password_strength, normalise_email

WRONG_CREDENTIALS = "Wrong e-mail or password."
WRONG_CODE = "That code is wrong or was already used. Wait for the next one and try again."
ISSUER = "Speak Up"
MUST_CHANGE = "An admin chose your password. Log in on the web and choose your own first."


@dataclass(frozen=True)
class LoginConfig:
    server_secret: bytes
    profile: crypto.Argon2Profile
    rule: ThrottleRule
    policy: SessionPolicy


@dataclass(frozen=True)
class LoginStep:
    """A step's answer: a session token and its stage, or the error to show after committing."""

    token: str | None = None
    stage: str = ""
    failure: CaseError | None = None

    def raise_failure(self) -> None:
        if self.failure is not None:
            raise self.failure


@cache
def _dummy_hash(profile: crypto.Argon2Profile) -> str:
    return crypto.hash_password("not a real password, only spends time", profile)


class LoginService:
    def __init__(self, db: Session, clock: Clock, config: LoginConfig) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.staff = StaffService(
            db, clock, server_secret=config.server_secret, profile=config.profile
        )
        self.sessions = SessionService(db, clock)
        self.throttle = Throttle(db, clock)
        self.audit = AuditLog(db, clock, config.server_secret)

    def password_step(self, email: str, password: str) -> LoginStep:
        """Check the password; open a half session that still needs TOTP (or enrolment)."""
        key, account, private = self._password(email, password)
        if account is None or private is None:
            return self._failed(key, account, "password", Unauthorized(WRONG_CREDENTIALS))
        stage = "totp" if account.totp_enrolled else "enroll"
        token = self.sessions.open(
            "staff", private, self.config.policy, staff_id=account.id, stage=stage
        )
        return LoginStep(token, stage)

    def code_step(self, active: ActiveSession, code: str) -> LoginStep:
        """Check a TOTP code on a half session; on success swap it for a full session."""
        account = self._account_of(active)
        key = self._throttle_key(account.email)
        self.throttle.check(key, self.config.rule)
        if not self.staff.check_totp(account, code):
            return self._failed(key, account, "totp", Unauthorized(WRONG_CODE, code="wrong_code"))
        self.sessions.close(active.id_hash)
        if account.password_must_change:
            # An admin chose this password once: nothing opens until the person picks their own.
            self.throttle.reset(key)
            token = self.sessions.open(
                "staff", active.secret, self.config.policy, staff_id=account.id, stage="password"
            )
            return LoginStep(token, "password")
        return LoginStep(self._complete(account, active.secret, key), "full")

    def own_password_step(self, active: ActiveSession, new: str) -> LoginStep:
        """The person replaces an admin-chosen password with their own; then a full session."""
        account = self._account_of(active)
        self.staff.change_password(account, active.secret, new)
        self.sessions.close_all_for_staff(account.id)
        self.audit.record(Actor("staff", account.id), "staff.password_changed")
        return LoginStep(self._complete(account, active.secret, self._throttle_key(account.email)))

    def enrolment_secret(self, active: ActiveSession) -> tuple[bytes, str]:
        """The secret being enrolled (made once, kept until confirmed) and its otpauth URI."""
        account = self._account_of(active)
        secret = self.staff.totp_secret(account)
        if secret is None:
            secret = self.staff.start_enrolment(account)
        return secret, crypto.provisioning_uri(secret, account.email, ISSUER)

    def api_login(self, email: str, password: str, code: str) -> LoginStep:
        """Password and code in one call, for API clients; the same throttle and audit."""
        key, account, private = self._password(email, password)
        if account is None or private is None:
            return self._failed(key, account, "password", Unauthorized(WRONG_CREDENTIALS))
        if not account.totp_enrolled or not self.staff.check_totp(account, code):
            return self._failed(key, account, "totp", Unauthorized(WRONG_CODE, code="wrong_code"))
        if account.password_must_change:
            return LoginStep(failure=Forbidden(MUST_CHANGE, code="password_change_required"))
        return LoginStep(self._complete(account, private, key), "full")

    def change_password(
        self, principal: StaffPrincipal, current: str, new: str, *, rotate: bool = False
    ) -> LoginStep:
        """Re-wrap the private key under the new password and end every other session.

        With `rotate`, the key pair itself is replaced and every held key re-wrapped for the
        new one: an old password together with an old backup then opens nothing filed later.
        """
        key = self._throttle_key(principal.account.email)
        self.throttle.check(key, self.config.rule)
        if self._unwrap(principal.account, current) is None:
            failure = Unauthorized("Your current password is wrong.", code="wrong_password")
            return self._failed(key, principal.account, "password-change", failure)
        check_password_strength(new, principal.account.email)
        private = principal.private_key
        rewrapped = 0
        if rotate:
            pair = self.staff.new_key_pair(principal.account)
            ring = KeyRing(self.db, self.audit, self.config.server_secret)
            rewrapped = ring.rewrap_all_for_staff(principal.account, private, pair.public_bytes)
            rewrapped += rewrap_reasons(self.db, principal.id, private, pair.public_bytes)
            private = pair.private_bytes
        self.staff.change_password(principal.account, private, new)
        self.sessions.close_all_for_staff(principal.id)
        token = self.sessions.open("staff", private, self.config.policy, staff_id=principal.id)
        detail = {"rotated": rotate, "rewrapped": rewrapped}
        self.audit.record(principal.actor, "staff.password_changed", detail=detail)
        return LoginStep(token, "full")

    def logout(self, active: ActiveSession) -> None:
        self.sessions.close(active.id_hash)

    def logout_everywhere(self, principal: StaffPrincipal) -> int:
        self.audit.record(principal.actor, "staff.logout_everywhere")
        return self.sessions.close_all_for_staff(principal.id)

    def _complete(self, account: StaffAccount, private: bytes, key: str) -> str:
        self.throttle.reset(key)
        principal = StaffPrincipal(account, private)
        granted = KeyRing(self.db, self.audit, self.config.server_secret).fulfil_as_staff(principal)
        self.audit.record(
            principal.actor, "staff.login", detail={"result": "success", "grants": granted}
        )
        return self.sessions.open("staff", private, self.config.policy, staff_id=account.id)

    def _password(self, email: str, password: str) -> tuple[str, StaffAccount | None, bytes | None]:
        """The throttle key, the account and its private key if the password opens it (after
        the per-account throttle, which may refuse at once)."""
        key = self._throttle_key(email)
        self.throttle.check(key, self.config.rule)
        account = self.staff.by_email(email)
        return key, account, self._unwrap(account, password)

    def _unwrap(self, account: StaffAccount | None, password: str) -> bytes | None:
        if account is None or not account.password_hash:
            # Spend what a wrong password spends (one Argon2id verification, the derivation
            # runs only after a right one), so response time does not reveal who has an account
            # (or who has not yet enrolled).
            crypto.verify_password(_dummy_hash(self.config.profile), password)
            return None
        try:
            return self.staff.check_password(account, password)
        except (Unauthorized, crypto.CryptoError):
            return None

    def _failed(
        self, key: str, account: StaffAccount | None, step: str, failure: CaseError
    ) -> LoginStep:
        count = self.throttle.fail(key, self.config.rule, backoff=True)
        actor = Actor("staff", account.id if account else None)
        self.audit.record(
            actor, "staff.login", detail={"result": "failure", "step": step, "count": count}
        )
        return LoginStep(failure=failure)

    def _account_of(self, active: ActiveSession) -> StaffAccount:
        account = self.db.get(StaffAccount, active.staff_id) if active.staff_id else None
        if account is None or not account.active:
            raise Unauthorized("Please log in.", code="login_required")
        return account

    def _throttle_key(self, email: str) -> str:
        # A keyed hash, so the throttle table never holds an e-mail address someone typed.
        digest = crypto.keyed_hash(
            self.config.server_secret, "staff-login-throttle", normalise_email(email)
        )
        return f"staff-login:{digest}"
