"""keyed_hash: deterministic, key- and purpose-bound HMAC."""

import pytest

from crypto import CryptoError, keyed_hash, keyed_hashes, random_key

VECTOR = "77390d375067003caf7c6937f1a29577266fc44c4a8e4da657af952f19aaecab"


def test_fixed_vector() -> None:
    """keyed_hash gives the frozen value, so stored hashes stay matchable."""
    assert keyed_hash(b"k" * 32, "subject", "E1234") == VECTOR


def test_deterministic_hex() -> None:
    """The same key, purpose and value give the same 64-hex-digit hash."""
    key = random_key()

    first = keyed_hash(key, "subject", "E1234")

    assert first == keyed_hash(key, "subject", "E1234")
    assert len(first) == 64
    assert int(first, 16) >= 0


def test_domain_separation() -> None:
    """Other purposes, values, keys or re-splits of the same text give other hashes."""
    key = random_key()
    hashes = {
        keyed_hash(key, "subject", "E1234"),
        keyed_hash(key, "manager", "E1234"),
        keyed_hash(key, "subject", "E1235"),
        keyed_hash(key, "subjectE", "1234"),
        keyed_hash(key, "", "subjectE1234"),
        keyed_hash(random_key(), "subject", "E1234"),
    }

    assert len(hashes) == 6


def test_short_key_refused() -> None:
    """A key under 16 bytes is refused."""
    with pytest.raises(CryptoError):
        keyed_hash(b"short", "subject", "E1234")


@pytest.mark.parametrize("key", [b"k" * 16, b"k" * 32, b"k" * 64, b"k" * 100])
def test_batch_equals_one_by_one(key: bytes) -> None:
    """keyed_hashes gives exactly keyed_hash of each value, in order, for any key length."""
    values = ["E1234", "", "张伟", "e1234", "x" * 300]

    batch = keyed_hashes(key, "subject", values)

    assert batch == [keyed_hash(key, "subject", value) for value in values]
    assert keyed_hashes(b"k" * 32, "subject", ["E1234"]) == [VECTOR]


def test_batch_refuses_short_key() -> None:
    """keyed_hashes refuses a key under 16 bytes, like keyed_hash."""
    with pytest.raises(CryptoError):
        keyed_hashes(b"short", "subject", ["E1"])
