"""seal/unseal: round trips, tamper detection, nonce freshness and a frozen vector."""

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from crypto import CryptoError, DecryptionError, random_key, seal, unseal
from crypto._aead import seal_with_nonce

VECTOR_KEY = bytes(range(32))
VECTOR_NONCE = bytes(range(100, 112))
VECTOR_BLOB = bytes.fromhex(
    "016465666768696a6b6c6d6e6f3874ac12188576ea5b112bc8ac0009892db03b933da4d63222f733efc8a91451ba16"
)


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 4096])
def test_round_trip_every_size(size: int) -> None:
    """unseal(seal(x)) returns x for empty, tiny and larger values."""
    key = random_key()
    plaintext = bytes(range(256)) * (size // 256) + bytes(range(size % 256))

    blob = seal(key, plaintext, b"aad")

    assert unseal(key, blob, b"aad") == plaintext
    assert len(blob) == len(plaintext) + 1 + 12 + 16


@given(plaintext=st.binary(max_size=300), aad=st.binary(max_size=40))
def test_round_trip_property(plaintext: bytes, aad: bytes) -> None:
    """Any plaintext and aad round-trip."""
    key = random_key()

    assert unseal(key, seal(key, plaintext, aad), aad) == plaintext


def test_wrong_key_fails() -> None:
    """A blob does not open under another key."""
    blob = seal(random_key(), b"secret", b"aad")

    with pytest.raises(DecryptionError):
        unseal(random_key(), blob, b"aad")


def test_wrong_aad_fails() -> None:
    """A blob does not open with other associated data."""
    key = random_key()
    blob = seal(key, b"secret", b"aad")

    with pytest.raises(DecryptionError):
        unseal(key, blob, b"aaD")


def test_every_bit_flip_fails() -> None:
    """Flipping any single bit of a sealed blob (version, nonce, body, tag) is detected."""
    key = random_key()
    blob = seal(key, b"a short secret", b"aad")

    for bit in range(len(blob) * 8):
        tampered = bytearray(blob)
        tampered[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(DecryptionError):
            unseal(key, bytes(tampered), b"aad")


@pytest.mark.parametrize("cut", [0, 1, 12, 13, 28, -1])
def test_truncated_blob_fails(cut: int) -> None:
    """A shortened blob is refused with DecryptionError, not another exception."""
    key = random_key()
    blob = seal(key, b"secret", b"aad")

    with pytest.raises(DecryptionError):
        unseal(key, blob[:cut], b"aad")


def test_extended_blob_fails() -> None:
    """A blob with bytes appended is refused."""
    key = random_key()
    blob = seal(key, b"secret", b"aad")

    with pytest.raises(DecryptionError):
        unseal(key, blob + b"\x00", b"aad")


@pytest.mark.parametrize("size", [0, 16, 31, 33])
def test_bad_key_length(size: int) -> None:
    """seal refuses a key that is not 32 bytes with CryptoError; unseal with DecryptionError."""
    key = bytes(size)

    with pytest.raises(CryptoError):
        seal(key, b"x", b"")
    with pytest.raises(DecryptionError):
        unseal(key, seal(random_key(), b"x", b""), b"")


@pytest.mark.slow
def test_no_nonce_repeats_in_100000_seals() -> None:
    """100,000 seals under one key use 100,000 distinct nonces."""
    key = random_key()

    nonces = {seal(key, b"", b"")[1:13] for _ in range(100_000)}

    assert len(nonces) == 100_000


def test_fixed_vector_opens() -> None:
    """The frozen blob still opens: the seal format has not changed silently."""
    assert unseal(VECTOR_KEY, VECTOR_BLOB, b"aad") == b"portal test vector"


def test_fixed_vector_reproduced() -> None:
    """Sealing with the vector's nonce gives the frozen bytes: 0x01 || nonce || AES-GCM."""
    blob = seal_with_nonce(VECTOR_KEY, VECTOR_NONCE, b"portal test vector", b"aad")

    assert blob == VECTOR_BLOB
    assert blob[1:] == VECTOR_NONCE + AESGCM(VECTOR_KEY).encrypt(
        VECTOR_NONCE, b"portal test vector", b"aad"
    )


def test_random_key_is_32_fresh_bytes() -> None:
    """random_key returns 32 bytes, different each call."""
    keys = {random_key() for _ in range(100)}

    assert len(keys) == 100
    assert all(len(key) == 32 for key in keys)


def test_session_sealing_pattern() -> None:
    """The documented session pattern (seal under a random session key) needs both halves."""
    session_key = random_key()
    private = random_key()

    stored = seal(session_key, private, b"session|s-1")

    assert unseal(session_key, stored, b"session|s-1") == private
    with pytest.raises(DecryptionError):
        unseal(random_key(), stored, b"session|s-1")
    with pytest.raises(DecryptionError):
        unseal(session_key, stored, b"session|s-2")
