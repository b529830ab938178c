"""TOTP: RFC 6238 vectors, windows, replay refusal and provisioning."""

import base64
from urllib.parse import parse_qs, urlparse

import pytest

from crypto import (
    CryptoError,
    new_totp_secret,
    provisioning_uri,
    totp_code,
    totp_secret_b32,
    verify_totp,
    verify_totp_fresh,
)

RFC_SECRET = b"12345678901234567890"
# RFC 6238 appendix B, SHA-1 column; a 6-digit code is the last six of the 8-digit one.
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("at", "code"), RFC_VECTORS)
def test_rfc6238_sha1_vectors(at: int, code: str) -> None:
    """totp_code matches the RFC 6238 SHA-1 test vectors (6-digit form)."""
    assert totp_code(RFC_SECRET, at) == code[-6:]


@pytest.mark.parametrize(("at", "code"), RFC_VECTORS)
def test_verify_returns_step(at: int, code: str) -> None:
    """verify_totp returns the 30-second step the code belongs to."""
    assert verify_totp(RFC_SECRET, code[-6:], at) == at // 30


def test_window() -> None:
    """A code from one step before or after is accepted with window=1, not two steps away."""
    secret = new_totp_secret()
    at = 1_700_000_000.0
    code = totp_code(secret, at)

    assert verify_totp(secret, code, at + 30) == int(at // 30)
    assert verify_totp(secret, code, at - 30) == int(at // 30)
    assert verify_totp(secret, code, at + 60) is None
    assert verify_totp(secret, code, at + 60, window=2) == int(at // 30)
    assert verify_totp(secret, code, at + 30, window=0) is None


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦"])
def test_malformed_codes_rejected(code: str) -> None:
    """Codes of the wrong length or with non-ASCII digits never match."""
    assert verify_totp(RFC_SECRET, code, 59) is None


def test_spaces_in_code_ignored() -> None:
    """A code typed as "287 082" is accepted."""
    assert verify_totp(RFC_SECRET, "287 082", 59) == 1


def test_replay_refused() -> None:
    """A code whose step is not after the last used step is refused; a later one is not."""
    secret = new_totp_secret()
    at = 1_700_000_000.0
    code = totp_code(secret, at)

    step = verify_totp_fresh(secret, code, at, last_step=None)

    assert step == int(at // 30)
    assert verify_totp_fresh(secret, code, at + 10, last_step=step) is None
    assert verify_totp_fresh(secret, totp_code(secret, at - 30), at, last_step=step) is None
    assert (
        verify_totp_fresh(secret, totp_code(secret, at + 30), at + 30, last_step=step) == step + 1
    )


def test_secret_and_base32() -> None:
    """Secrets are 20 random bytes; base32 display has no padding and decodes back."""
    secret = new_totp_secret()

    text = totp_secret_b32(secret)

    assert len(secret) == 20
    assert new_totp_secret() != secret
    assert "=" not in text
    assert base64.b32decode(text) == secret


def test_provisioning_uri() -> None:
    """The otpauth URI names issuer and account and carries the secret and parameters."""
    secret = new_totp_secret()

    uri = urlparse(provisioning_uri(secret, "ana@example.org", "Speak Up"))
    query = parse_qs(uri.query)

    assert uri.scheme == "otpauth"
    assert uri.netloc == "totp"
    assert query["secret"] == [totp_secret_b32(secret)]
    assert query["issuer"] == ["Speak Up"]
    assert query["digits"] == ["6"]
    assert query["period"] == ["30"]
    assert query["algorithm"] == ["SHA1"]


def test_short_secret_refused() -> None:
    """A secret under 128 bits is refused."""
    with pytest.raises(CryptoError):
        totp_code(bytes(10), 0)
