"""Purpose-bound keyed hashes (HMAC-SHA256) for values the server must match without reading."""

import hashlib
import hmac

from ._errors import CryptoError
from ._framing import frame

MIN_KEY_SIZE = 16
KEYED_HASH_LABEL = b"portal/v1/keyed-hash"


def keyed_hash(key: bytes, purpose: str, value: str) -> str:
    """HMAC-SHA256 hex of value; different purposes never give the same hash for one value."""
    if len(key) < MIN_KEY_SIZE:
        raise CryptoError("a keyed-hash key must be at least 16 bytes")
    message = KEYED_HASH_LABEL + frame(purpose, value)
    return hmac.new(key, message, hashlib.sha256).hexdigest()
