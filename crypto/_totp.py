"""RFC 6238 time-based one-time passwords compatible with authenticator apps."""

import base64
import hmac
import os

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from ._errors import CryptoError

SECRET_SIZE = 20
DIGITS = 6
STEP_SECONDS = 30


def new_totp_secret() -> bytes:
    """Return a random 160-bit TOTP secret (the size RFC 4226 recommends)."""
    return os.urandom(SECRET_SIZE)


def _totp(secret: bytes) -> TOTP:
    if len(secret) < 16:
        raise CryptoError("a TOTP secret must be at least 16 bytes")
    # SHA-1, 6 digits, 30 s: the only combination every authenticator app accepts.
    return TOTP(secret, DIGITS, SHA1(), STEP_SECONDS)  # noqa: S303 -- HMAC-SHA1 in TOTP is sound and required


def totp_code(secret: bytes, at: float) -> str:
    """The 6-digit code for the 30-second step containing unix time at."""
    return _totp(secret).generate(at).decode("ascii")


def verify_totp(secret: bytes, code: str, at: float, window: int = 1) -> int | None:
    """The time step code matches within +-window steps of at, or None.

    The caller stores the step and refuses any later code whose step is not greater,
    so a code cannot be used twice (see verify_totp_fresh).
    """
    totp = _totp(secret)
    typed = "".join(code.split()).encode("ascii", "replace")
    now = int(at // STEP_SECONDS)
    matched: int | None = None
    # Every candidate is compared, so timing does not tell which step matched.
    for step in range(now - window, now + window + 1):
        if step >= 0 and hmac.compare_digest(totp.generate(step * STEP_SECONDS), typed):
            matched = step
    return matched


def verify_totp_fresh(
    secret: bytes, code: str, at: float, last_step: int | None, window: int = 1
) -> int | None:
    """Like verify_totp, but None also when the step is not after last_step (a replay)."""
    step = verify_totp(secret, code, at, window)
    if step is None or (last_step is not None and step <= last_step):
        return None
    return step


def provisioning_uri(secret: bytes, account_name: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads from a QR code."""
    return _totp(secret).get_provisioning_uri(account_name, issuer)


def totp_secret_b32(secret: bytes) -> str:
    """Base32 of the secret without padding, for typing into an app by hand."""
    return base64.b32encode(secret).decode("ascii").rstrip("=")
