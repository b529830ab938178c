"""Purpose-bound keyed hashes (HMAC-SHA256) for values the server must match without reading."""

import hashlib
import hmac
from collections.abc import Iterable

from ._errors import CryptoError
from ._framing import frame

MIN_KEY_SIZE = 16
_BLOCK = 64  # SHA-256 block size, as HMAC pads the key to it (RFC 2104)
KEYED_HASH_LABEL = b"portal/v1/keyed-hash"


def keyed_hash(key: bytes, purpose: str, value: str) -> str:
    """HMAC-SHA256 hex of value; different purposes never give the same hash for one value."""
    if len(key) < MIN_KEY_SIZE:
        raise CryptoError("a keyed-hash key must be at least 16 bytes")
    message = KEYED_HASH_LABEL + frame(purpose, value)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def keyed_hashes(key: bytes, purpose: str, values: Iterable[str]) -> list[str]:
    """keyed_hash of each value, in order, with the HMAC key schedule done once for the batch.

    A manager's chain can hold thousands of people, hashed for every page of the case list;
    copying the keyed inner and outer SHA-256 states is several times cheaper than hmac.new.
    """
    if len(key) < MIN_KEY_SIZE:
        raise CryptoError("a keyed-hash key must be at least 16 bytes")
    block = (hashlib.sha256(key).digest() if len(key) > _BLOCK else key).ljust(_BLOCK, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
    inner.update(KEYED_HASH_LABEL + frame(purpose))
    hashes = []
    for value in values:
        mac = inner.copy()
        mac.update(frame(value))
        final = outer.copy()
        final.update(mac.digest())
        hashes.append(final.hexdigest())
    return hashes
