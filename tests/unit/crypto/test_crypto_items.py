"""seal_item/open_item and derive_item_key: items are bound to case, purpose and id."""

import pytest

from crypto import DecryptionError, derive_item_key, open_item, random_key, seal_item

VECTOR_CASE_KEY = bytes([0x11]) * 32
VECTOR_ITEM_KEY = "b0175c1fc0ecc57cfe94b5e6637b0011060102914ed3560ff1059e09169a7180"
VECTOR_ITEM_BLOB = bytes.fromhex(
    "016465666768696a6b6c6d6e6f6de126c0a4d16981f192b9073748b0c0855e567dc5"
)


@pytest.mark.parametrize("size", [0, 1, 100, 10_000])
def test_round_trip(size: int) -> None:
    """open_item returns what seal_item sealed, for every size."""
    case_key = random_key()
    plaintext = b"x" * size

    blob = seal_item(case_key, "case-1", "message", "m-1", plaintext)

    assert open_item(case_key, "case-1", "message", "m-1", blob) == plaintext


@pytest.mark.parametrize(
    ("case_id", "purpose", "item_id"),
    [
        ("case-2", "message", "m-1"),
        ("case-1", "note", "m-1"),
        ("case-1", "message", "m-2"),
        ("case-1message", "", "m-1"),
        ("case-", "1message", "m-1"),
        ("case-1", "messagem", "-1"),
    ],
)
def test_moved_item_fails(case_id: str, purpose: str, item_id: str) -> None:
    """A ciphertext moved to another case, purpose or item id (even by re-splitting) fails."""
    case_key = random_key()
    blob = seal_item(case_key, "case-1", "message", "m-1", b"secret")

    with pytest.raises(DecryptionError):
        open_item(case_key, case_id, purpose, item_id, blob)


def test_wrong_case_key_fails() -> None:
    """An item does not open under another case's key."""
    blob = seal_item(random_key(), "case-1", "message", "m-1", b"secret")

    with pytest.raises(DecryptionError):
        open_item(random_key(), "case-1", "message", "m-1", blob)


def test_bad_case_key_length_is_decryption_error() -> None:
    """A malformed case key makes open_item raise DecryptionError."""
    blob = seal_item(random_key(), "case-1", "message", "m-1", b"secret")

    with pytest.raises(DecryptionError):
        open_item(b"short", "case-1", "message", "m-1", blob)


def test_item_keys_are_distinct() -> None:
    """Different purposes and item ids give different keys, none equal to the case key."""
    case_key = random_key()
    labels = [("message", "1"), ("message", "2"), ("note", "1"), ("message1", ""), ("", "message1")]

    keys = {derive_item_key(case_key, purpose, item_id) for purpose, item_id in labels}

    assert len(keys) == len(labels)
    assert case_key not in keys


def test_item_key_vector() -> None:
    """derive_item_key gives the frozen value (HKDF-SHA256 with the documented info)."""
    assert derive_item_key(VECTOR_CASE_KEY, "message", "m-1").hex() == VECTOR_ITEM_KEY


def test_item_blob_vector() -> None:
    """The frozen item blob still opens: the item aad and key layout have not changed."""
    opened = open_item(VECTOR_CASE_KEY, "case-1", "message", "m-1", VECTOR_ITEM_BLOB)

    assert opened == b"hello"
