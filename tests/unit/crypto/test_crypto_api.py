"""The crypto package's public surface and its independence from the rest of the project."""

import subprocess
import sys

import crypto

EXPECTED = {
    "CryptoError", "DecryptionError", "ReceiptFormatError", "Argon2Profile", "PROFILES",
    "profile_named", "hash_password", "verify_password", "password_needs_rehash", "new_salt",
    "DerivedKeys", "derive_keys", "random_key", "seal", "unseal", "derive_item_key",
    "seal_item", "open_item", "KeyPair", "wrap_for", "unwrap", "export_recovery_key",
    "import_recovery_key", "StreamEncryptor", "decrypt_stream", "Receipt", "new_receipt",
    "parse_receipt", "keyed_hash", "new_totp_secret", "totp_code", "verify_totp",
    "provisioning_uri", "totp_secret_b32",
}  # fmt: skip


def test_public_names_present() -> None:
    """Every name other code is written against is exported, and __all__ resolves."""
    assert set(crypto.__all__) >= EXPECTED
    assert all(hasattr(crypto, name) for name in crypto.__all__)


def test_one_root_exception() -> None:
    """Every exception the package exports derives from CryptoError."""
    errors = [crypto.DecryptionError, crypto.ReceiptFormatError]

    assert all(issubclass(error, crypto.CryptoError) for error in errors)
    assert crypto.ReceiptFormatError("the code is too short").hint == "the code is too short"


def test_imports_nothing_from_the_project() -> None:
    """Importing crypto loads no project package, database or web library."""
    probe = "import crypto, sys; print('\\n'.join(sorted(sys.modules)))"

    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()

    forbidden = ("portal", "cases", "sqlalchemy", "starlette", "jinja2", "alembic")
    assert not [name for name in loaded if name.split(".")[0] in forbidden]
    assert "crypto._stream" in loaded
