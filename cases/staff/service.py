"""Staff accounts: creation with key pair and TOTP, login, TOTP checks, password change."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import crypto
from cases.access.matching import Matcher
from cases.clock import Clock, epoch
from cases.db import new_id
from cases.errors import Conflict, Invalid, Message, Unauthorized
from cases.keytrust import reseal_staff_key, seal_staff_key
from cases.staff.models import Role, StaffAccount, StaffRole
from cases.staff.roles import check_roles

MIN_PASSWORD_LENGTH = 12
_COMMON = Path(__file__).with_name("common_passwords.txt")


def _common_passwords() -> frozenset[str]:
    return frozenset(line.strip().lower() for line in _COMMON.read_text().splitlines() if line)


def check_password_strength(password: str, email: str = "") -> None:
    """Refuse short, common or e-mail-derived passwords with a message a person can act on."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            Message("Use at least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
            fields={"password": "too_short"},
        )
    if len(password) > 1024:
        raise Invalid("That password is too long.", fields={"password": "too_long"})
    lowered = password.lower()
    local = email.split("@")[0].lower()
    if lowered in _common_passwords() or (local and len(local) > 3 and local in lowered):
        raise Invalid(
            "That password is too easy to guess; choose another.", fields={"password": "common"}
        )


def private_key_aad(account_id: str) -> bytes:
    return f"staff-private-key|{account_id}".encode()


def totp_seal_key(server_secret: bytes) -> bytes:
    return hmac.new(server_secret, b"portal/totp-seal/v1", hashlib.sha256).digest()


@dataclass(frozen=True)
class NewAccount:
    account: StaffAccount
    totp_secret: bytes | None


class StaffService:
    def __init__(
        self, db: Session, clock: Clock, *, server_secret: bytes, profile: crypto.Argon2Profile
    ) -> None:
        self.db = db
        self.clock = clock
        self.server_secret = server_secret
        self.profile = profile

    def create(
        self,
        email: str,
        password: str,
        roles: list[str],
        *,
        name: str = "",
        employee_id: str | None = None,
        enrol_totp: bool = True,
    ) -> NewAccount:
        """A new account with its own key pair; enrolled in TOTP at once unless told otherwise."""
        email = normalise_email(email)
        check_email(email)
        check_password_strength(password, email)
        unknown = set(roles) - {r.value for r in Role}
        if not roles or unknown:
            raise Invalid(
                Message(
                    "Unknown role: %(roles)s", roles=", ".join(sorted(unknown)) or "(none given)"
                )
            )
        check_roles(roles)
        if self.by_email(email) is not None:
            raise Conflict("An account with that e-mail already exists.", code="email_taken")
        pair = crypto.KeyPair.generate()
        account = StaffAccount(id=new_id(), email=email, name=name, employee_id=employee_id or None)
        account.roles = [StaffRole(role=r) for r in dict.fromkeys(roles)]
        account.public_key = pair.public_bytes
        seal_staff_key(self.server_secret, account)
        self._set_password(account, password, pair.private_bytes)
        secret = crypto.new_totp_secret() if enrol_totp else None
        if secret is not None:
            account.totp_secret_sealed = self._seal_totp(account.id, secret)
            account.totp_enrolled = True
        self.db.add(account)
        self.db.flush()
        self._named_before(account)
        return NewAccount(account, secret)

    def create_unenrolled(
        self, email: str, roles: list[str], *, name: str = "", employee_id: str | None = None
    ) -> StaffAccount:
        """An account nobody can log in to yet: the person sets password and TOTP by a link.

        It has no key pair either, so nothing can be wrapped for it before enrolment.
        """
        email = normalise_email(email)
        check_email(email)
        unknown = set(roles) - {r.value for r in Role}
        if not roles or unknown:
            raise Invalid("Choose at least one known role.", fields={"roles": "required"})
        check_roles(roles)
        if self.by_email(email) is not None:
            raise Conflict("An account with that e-mail already exists.", code="email_taken")
        account = StaffAccount(email=email, name=name, employee_id=employee_id or None)
        account.id = new_id()
        account.roles = [StaffRole(role=r) for r in dict.fromkeys(roles)]
        self.clear_login(account)
        self.db.add(account)
        self.db.flush()
        self._named_before(account)
        return account

    def _named_before(self, account: StaffAccount) -> None:
        """Reports filed before this account existed that named its e-mail or name keep it
        away (it holds no key yet, so there is nothing to revoke)."""
        Matcher(self.db, self.server_secret).rematch_account(account)

    def clear_login(self, account: StaffAccount) -> None:
        """No password, no key pair, no TOTP: the account waits for its enrolment link."""
        account.password_hash = ""
        account.kdf_salt = b""
        account.kdf_profile = self.profile.name
        account.public_key = b""
        account.public_key_mac = None
        account.wrapped_private_key = b""
        account.password_must_change = False
        self.reset_totp(account)

    def enrol(self, account: StaffAccount, password: str) -> bytes:
        """The person's own password, a fresh key pair and TOTP; returns the TOTP secret."""
        check_password_strength(password, account.email)
        pair = crypto.KeyPair.generate()
        account.public_key = pair.public_bytes
        # Sealed as withheld while an approval waits (cases/keytrust.py).
        reseal_staff_key(self.db, self.server_secret, account)
        self._set_password(account, password, pair.private_bytes)
        account.password_changed_at = self.clock.now()
        account.password_must_change = False
        secret = crypto.new_totp_secret()
        account.totp_secret_sealed = self._seal_totp(account.id, secret)
        account.totp_enrolled = True
        account.totp_last_step = 0
        return secret

    def by_email(self, email: str) -> StaffAccount | None:
        stmt = select(StaffAccount).where(StaffAccount.email == normalise_email(email))
        return self.db.scalars(stmt).first()

    def count_admins(self) -> int:
        stmt = (
            select(func.count())
            .select_from(StaffRole)
            .join(StaffAccount)
            .where(StaffRole.role == Role.ADMIN, StaffAccount.active.is_(True))
        )
        return int(self.db.scalar(stmt) or 0)

    def check_password(self, account: StaffAccount, password: str) -> bytes:
        """The unwrapped private key when the password is right; Unauthorized otherwise."""
        if not account.password_hash:
            raise Unauthorized("Wrong e-mail or password.")
        # The password is checked first even for a deactivated account: both refusals cost
        # one Argon2id, so timing does not tell which accounts exist or are active.
        if not crypto.verify_password(account.password_hash, password) or not account.active:
            raise Unauthorized("Wrong e-mail or password.")
        derived = crypto.derive_keys(password.encode(), account.kdf_salt, self._profile_of(account))
        private = crypto.unseal(
            derived.key, account.wrapped_private_key, private_key_aad(account.id)
        )
        if crypto.password_needs_rehash(account.password_hash, self.profile):
            self._set_password(account, password, private)
        return private

    def change_password(self, account: StaffAccount, private_key: bytes, new_password: str) -> None:
        """Re-wrap the same private key under the new password: no case key has to move."""
        check_password_strength(new_password, account.email)
        self._set_password(account, new_password, private_key)
        account.password_changed_at = self.clock.now()
        account.password_must_change = False

    def new_key_pair(self, account: StaffAccount) -> crypto.KeyPair:
        """Key rotation's first step: a fresh pair, its public half stored and MAC'd. The
        caller re-wraps held keys for it and seals the private half under the password."""
        pair = crypto.KeyPair.generate()
        account.public_key = pair.public_bytes
        reseal_staff_key(self.db, self.server_secret, account)
        return pair

    def totp_secret(self, account: StaffAccount) -> bytes | None:
        if account.totp_secret_sealed is None:
            return None
        return crypto.unseal(
            totp_seal_key(self.server_secret), account.totp_secret_sealed, _totp_aad(account.id)
        )

    def start_enrolment(self, account: StaffAccount) -> bytes:
        secret = crypto.new_totp_secret()
        account.totp_secret_sealed = self._seal_totp(account.id, secret)
        account.totp_enrolled = False
        account.totp_last_step = 0
        return secret

    def check_totp(self, account: StaffAccount, code: str) -> bool:
        """True once per code: a step at or before the last one used is a replay."""
        secret = self.totp_secret(account)
        if secret is None:
            return False
        step = crypto.verify_totp(secret, code.strip(), epoch(self.clock.now()))
        if step is None or step <= account.totp_last_step:
            return False
        account.totp_last_step = step
        account.totp_enrolled = True
        return True

    def reset_totp(self, account: StaffAccount) -> None:
        account.totp_secret_sealed = None
        account.totp_enrolled = False
        account.totp_last_step = 0

    def _set_password(self, account: StaffAccount, password: str, private_key: bytes) -> None:
        if not account.id:
            account.id = new_id()
        salt = crypto.new_salt()
        derived = crypto.derive_keys(password.encode(), salt, self.profile)
        account.password_hash = crypto.hash_password(password, self.profile)
        account.kdf_salt = salt
        account.kdf_profile = self.profile.name
        account.wrapped_private_key = crypto.seal(
            derived.key, private_key, private_key_aad(account.id)
        )

    def _profile_of(self, account: StaffAccount) -> crypto.Argon2Profile:
        return crypto.profile_named(account.kdf_profile, allow_test=self.profile.name == "test")

    def _seal_totp(self, account_id: str, secret: bytes) -> bytes:
        return crypto.seal(totp_seal_key(self.server_secret), secret, _totp_aad(account_id))


def _totp_aad(account_id: str) -> bytes:
    return f"totp|{account_id}".encode()


def normalise_email(email: str) -> str:
    return email.strip().lower()


EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def check_email(email: str) -> None:
    """One address, nothing else: a line break or control character in a stored address
    would let it carry extra mail headers (and once stopped the whole outbox)."""
    if len(email) > 254 or not EMAIL_SHAPE.fullmatch(email) or not email.isprintable():
        raise Invalid("Enter one valid e-mail address.", fields={"email": "invalid"})
