"""Per-item keys under a case key, and wrapping secrets for an X25519 recipient."""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._aead import NONCE_SIZE, TAG_SIZE, check_key, seal, unseal
from ._errors import CryptoError, DecryptionError
from ._framing import frame
from ._kdf import hkdf

ITEM_KEY_INFO = b"portal/v1/item-key"
ITEM_AAD_LABEL = b"portal/v1/item"
WRAP_VERSION = b"\x01"
WRAP_INFO = b"portal/v1/wrap"
PUBLIC_SIZE = 32
WRAP_HEADER_SIZE = len(WRAP_VERSION) + PUBLIC_SIZE + NONCE_SIZE


def derive_item_key(case_key: bytes, purpose: str, item_id: str) -> bytes:
    """Derive the key of one item (a field, message, note, file) from its case key."""
    check_key(case_key)
    return hkdf(case_key, salt=None, info=ITEM_KEY_INFO + frame(purpose, item_id))


def item_aad(case_id: str, purpose: str, item_id: str) -> bytes:
    """The associated data that pins an item ciphertext to its case, purpose and id."""
    return ITEM_AAD_LABEL + frame(case_id, purpose, item_id)


def seal_item(case_key: bytes, case_id: str, purpose: str, item_id: str, plaintext: bytes) -> bytes:
    """Seal one item under its derived key, bound to (case_id, purpose, item_id)."""
    key = derive_item_key(case_key, purpose, item_id)
    return seal(key, plaintext, item_aad(case_id, purpose, item_id))


def open_item(case_key: bytes, case_id: str, purpose: str, item_id: str, blob: bytes) -> bytes:
    """Open an item sealed by seal_item; DecryptionError if anything differs."""
    try:
        key = derive_item_key(case_key, purpose, item_id)
    except CryptoError as exc:
        raise DecryptionError(str(exc)) from None
    return unseal(key, blob, item_aad(case_id, purpose, item_id))


def wrap_for(recipient_public: bytes, secret: bytes, context: bytes) -> bytes:
    """Encrypt secret so only the holder of the matching X25519 private key can open it."""
    return wrap_with(
        X25519PrivateKey.generate(), os.urandom(NONCE_SIZE), recipient_public, secret, context
    )


def wrap_with(
    ephemeral: X25519PrivateKey,
    nonce: bytes,
    recipient_public: bytes,
    secret: bytes,
    context: bytes,
) -> bytes:
    """wrap_for with caller-chosen randomness; private hook for fixed test vectors only."""
    recipient_public = bytes(recipient_public)  # database drivers may hand out memoryviews
    if len(recipient_public) != PUBLIC_SIZE:
        raise CryptoError("a recipient public key must be 32 bytes")
    ephemeral_public = ephemeral.public_key().public_bytes_raw()
    try:
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient_public))
    except ValueError:
        # A low-order point gives an all-zero secret; refuse rather than encrypt to nobody.
        raise CryptoError("the recipient public key is not usable") from None
    key = _wrap_key(shared, ephemeral_public, recipient_public, context)
    return WRAP_VERSION + ephemeral_public + nonce + AESGCM(key).encrypt(nonce, secret, context)


def unwrap(recipient_private: bytes, wrapped: bytes, context: bytes) -> bytes:
    """Open a blob made by wrap_for; DecryptionError on any failure."""
    recipient_private, wrapped = bytes(recipient_private), bytes(wrapped)
    if len(recipient_private) != PUBLIC_SIZE:
        raise DecryptionError("a private key must be 32 bytes")
    if len(wrapped) < WRAP_HEADER_SIZE + TAG_SIZE or wrapped[:1] != WRAP_VERSION:
        raise DecryptionError("not a wrapped blob of a known version")
    ephemeral_public = wrapped[1 : 1 + PUBLIC_SIZE]
    nonce = wrapped[1 + PUBLIC_SIZE : WRAP_HEADER_SIZE]
    private = X25519PrivateKey.from_private_bytes(recipient_private)
    recipient_public = private.public_key().public_bytes_raw()
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
        key = _wrap_key(shared, ephemeral_public, recipient_public, context)
        return AESGCM(key).decrypt(nonce, wrapped[WRAP_HEADER_SIZE:], context)
    except (ValueError, InvalidTag):
        raise DecryptionError("wrapped blob did not open") from None


def _wrap_key(
    shared: bytes, ephemeral_public: bytes, recipient_public: bytes, context: bytes
) -> bytes:
    # Binding both public keys stops a blob being re-aimed at another recipient; binding
    # the context stops a case key wrap being replayed as, say, an identity key wrap.
    return hkdf(
        shared,
        salt=ephemeral_public + recipient_public,
        info=WRAP_INFO + frame(context),
    )
