"""AES-256-GCM sealing of small values with a random nonce and a versioned blob format."""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._errors import CryptoError, DecryptionError

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
SEAL_VERSION = b"\x01"
SEAL_OVERHEAD = len(SEAL_VERSION) + NONCE_SIZE + TAG_SIZE


def random_key() -> bytes:
    """Return a fresh random 256-bit key."""
    return os.urandom(KEY_SIZE)


def check_key(key: bytes) -> None:
    """Refuse anything that is not a 32-byte key before it reaches the cipher."""
    if not isinstance(key, bytes) or len(key) != KEY_SIZE:
        raise CryptoError("a key must be 32 bytes")


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt and authenticate plaintext, binding aad; returns version || nonce || ct || tag."""
    # 96-bit random nonces: the collision bound stays negligible far beyond the number
    # of values one key seals here (a key seals at most a case's worth of items).
    return seal_with_nonce(key, os.urandom(NONCE_SIZE), plaintext, aad)


def seal_with_nonce(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Seal with a caller-chosen nonce; private hook for fixed test vectors only."""
    check_key(key)
    return SEAL_VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def unseal(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Open a blob made by seal(); DecryptionError on any failure."""
    if not isinstance(key, bytes) or len(key) != KEY_SIZE:
        raise DecryptionError("a key must be 32 bytes")
    if len(blob) < SEAL_OVERHEAD or blob[:1] != SEAL_VERSION:
        raise DecryptionError("not a sealed blob of a known version")
    nonce = blob[1 : 1 + NONCE_SIZE]
    try:
        return AESGCM(key).decrypt(nonce, blob[1 + NONCE_SIZE :], aad)
    except InvalidTag:
        raise DecryptionError("sealed blob did not open") from None
