"""Staff and recovery X25519 key pairs, and the recovery key's printable file format."""

import base64
import binascii
import hashlib
import hmac

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from ._errors import CryptoError

PRIVATE_SIZE = 32
RECOVERY_BEGIN = "-----BEGIN PORTAL RECOVERY KEY-----"
RECOVERY_END = "-----END PORTAL RECOVERY KEY-----"
RECOVERY_VERSION = b"\x01"
RECOVERY_CHECKSUM_SIZE = 6
RECOVERY_CHECKSUM_LABEL = b"portal/v1/recovery-key-checksum"
# 1 + 32 + 6 = 39 bytes, a multiple of 3, so the base64 body has no padding to mistype.
RECOVERY_BODY_SIZE = len(RECOVERY_VERSION) + PRIVATE_SIZE + RECOVERY_CHECKSUM_SIZE
RECOVERY_ADVICE = (
    "Portal recovery key. Whoever holds this file can read every case.\n"
    "Keep it offline and locked away (for example with the head of compliance).\n"
    "Do not e-mail it, do not store it on the portal server.\n"
)


class KeyPair:
    """An X25519 key pair; repr never shows the private half."""

    __slots__ = ("_private",)

    def __init__(self, private: X25519PrivateKey) -> None:
        self._private = private

    @classmethod
    def generate(cls) -> "KeyPair":
        """Make a fresh random key pair."""
        return cls(X25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> "KeyPair":
        """Rebuild a key pair from its 32 raw private bytes."""
        raw = bytes(raw)
        if len(raw) != PRIVATE_SIZE:
            raise CryptoError("an X25519 private key must be 32 bytes")
        return cls(X25519PrivateKey.from_private_bytes(raw))

    @property
    def public_bytes(self) -> bytes:
        """The 32 raw public bytes, safe to store in clear."""
        return self._private.public_key().public_bytes_raw()

    @property
    def private_bytes(self) -> bytes:
        """The 32 raw private bytes; store only wrapped."""
        return self._private.private_bytes_raw()

    def __repr__(self) -> str:
        return f"KeyPair(public={self.public_bytes.hex()}, private=***)"


def _checksum(version: bytes, private: bytes) -> bytes:
    digest = hashlib.sha256(RECOVERY_CHECKSUM_LABEL + version + private).digest()
    return digest[:RECOVERY_CHECKSUM_SIZE]


def export_recovery_key(pair: KeyPair) -> str:
    """Render a key pair as the text of a recovery key file (advice, BEGIN, body, END)."""
    private = pair.private_bytes
    body = RECOVERY_VERSION + private + _checksum(RECOVERY_VERSION, private)
    encoded = base64.b64encode(body).decode("ascii")
    return f"{RECOVERY_ADVICE}{RECOVERY_BEGIN}\n{encoded}\n{RECOVERY_END}\n"


def import_recovery_key(text: str) -> KeyPair:
    """Read a recovery key file; CryptoError if it is malformed or its checksum fails."""
    body = _decode_body(_armoured_body(text))
    version, private, checksum = (
        body[:1],
        body[1:-RECOVERY_CHECKSUM_SIZE],
        body[-RECOVERY_CHECKSUM_SIZE:],
    )
    if version != RECOVERY_VERSION:
        raise CryptoError("unknown recovery key version")
    if not hmac.compare_digest(checksum, _checksum(version, private)):
        raise CryptoError("recovery key checksum failed: the file is damaged or mistyped")
    return KeyPair.from_private_bytes(private)


def _armoured_body(text: str) -> str:
    # Text outside the markers (the advice, mail quoting, a stray blank line) is ignored.
    lines = [line.strip() for line in text.splitlines()]
    try:
        start = lines.index(RECOVERY_BEGIN)
        end = lines.index(RECOVERY_END, start + 1)
    except ValueError:
        raise CryptoError("not a portal recovery key file: BEGIN/END lines missing") from None
    return "".join("".join(lines[start + 1 : end]).split())


def _decode_body(encoded: str) -> bytes:
    try:
        body = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("recovery key body is not valid base64") from None
    if len(body) != RECOVERY_BODY_SIZE:
        raise CryptoError("recovery key body has the wrong length")
    return body
