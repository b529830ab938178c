"""Crypto core of the portal: key derivation, envelopes, streams, receipts, passwords, TOTP."""

from ._aead import random_key, seal, unseal
from ._envelope import derive_item_key, open_item, seal_item, unwrap, wrap_for
from ._errors import CryptoError, DecryptionError, ReceiptFormatError
from ._kdf import (
    PROFILES,
    Argon2Profile,
    DerivedKeys,
    derive_keys,
    hash_password,
    new_salt,
    password_needs_rehash,
    profile_named,
    verify_password,
)
from ._keypair import KeyPair, export_recovery_key, import_recovery_key
from ._mac import keyed_hash, keyed_hashes
from ._receipt import Receipt, new_receipt, parse_receipt
from ._stream import StreamEncryptor, decrypt_stream
from ._totp import (
    new_totp_secret,
    provisioning_uri,
    totp_code,
    totp_secret_b32,
    verify_totp,
    verify_totp_fresh,
)

__all__ = [
    "PROFILES",
    "Argon2Profile",
    "CryptoError",
    "DecryptionError",
    "DerivedKeys",
    "KeyPair",
    "Receipt",
    "ReceiptFormatError",
    "StreamEncryptor",
    "decrypt_stream",
    "derive_item_key",
    "derive_keys",
    "export_recovery_key",
    "hash_password",
    "import_recovery_key",
    "keyed_hash",
    "keyed_hashes",
    "new_receipt",
    "new_salt",
    "new_totp_secret",
    "open_item",
    "parse_receipt",
    "password_needs_rehash",
    "profile_named",
    "provisioning_uri",
    "random_key",
    "seal",
    "seal_item",
    "totp_code",
    "totp_secret_b32",
    "unseal",
    "unwrap",
    "verify_password",
    "verify_totp",
    "verify_totp_fresh",
    "wrap_for",
]
