"""KeyPair, wrap_for/unwrap and the recovery key file."""

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from crypto import (
    CryptoError,
    DecryptionError,
    KeyPair,
    export_recovery_key,
    import_recovery_key,
    unwrap,
    wrap_for,
)
from crypto._envelope import wrap_with

VECTOR_RECIPIENT_PRIVATE = bytes(range(32, 64))
VECTOR_RECIPIENT_PUBLIC = "358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254"
VECTOR_EPHEMERAL_PRIVATE = bytes(range(64, 96))
VECTOR_SECRET = bytes([0x22]) * 32
VECTOR_CONTEXT = b"case-key|case-1"
VECTOR_WRAPPED = bytes.fromhex(
    "0179a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a"
    "000000000000000000000000"
    "4b8749386a67b15127c3a403a3fc85f19a573278f4e494a72554684445fb73a9"
    "a28a6af8211162aa0a9015a4bf421ef2"
)


def test_key_pair_round_trips_through_private_bytes() -> None:
    """A pair rebuilt from its private bytes has the same public key."""
    pair = KeyPair.generate()

    rebuilt = KeyPair.from_private_bytes(pair.private_bytes)

    assert rebuilt.public_bytes == pair.public_bytes
    assert len(pair.public_bytes) == len(pair.private_bytes) == 32


def test_key_pair_repr_hides_private() -> None:
    """repr of a key pair never contains the private key."""
    pair = KeyPair.generate()

    text = repr(pair)

    assert pair.private_bytes.hex() not in text
    assert pair.public_bytes.hex() in text


@pytest.mark.parametrize("size", [0, 31, 33])
def test_key_pair_refuses_bad_length(size: int) -> None:
    """from_private_bytes refuses anything but 32 bytes."""
    with pytest.raises(CryptoError):
        KeyPair.from_private_bytes(bytes(size))


@pytest.mark.parametrize("size", [0, 1, 32, 1000])
def test_wrap_round_trip(size: int) -> None:
    """unwrap with the recipient's private key returns the wrapped secret."""
    pair = KeyPair.generate()
    secret = bytes([7]) * size

    wrapped = wrap_for(pair.public_bytes, secret, b"ctx")

    assert unwrap(pair.private_bytes, wrapped, b"ctx") == secret
    assert len(wrapped) == size + 1 + 32 + 12 + 16


def test_wrap_is_randomised() -> None:
    """Wrapping the same secret twice gives different blobs (fresh ephemeral key)."""
    pair = KeyPair.generate()

    first = wrap_for(pair.public_bytes, b"s", b"ctx")
    second = wrap_for(pair.public_bytes, b"s", b"ctx")

    assert first != second
    assert first[1:33] != second[1:33]


def test_unwrap_with_other_key_fails() -> None:
    """Another recipient's private key cannot unwrap."""
    wrapped = wrap_for(KeyPair.generate().public_bytes, b"secret", b"ctx")

    with pytest.raises(DecryptionError):
        unwrap(KeyPair.generate().private_bytes, wrapped, b"ctx")


def test_unwrap_with_other_context_fails() -> None:
    """A wrap made for one context does not open in another."""
    pair = KeyPair.generate()
    wrapped = wrap_for(pair.public_bytes, b"secret", b"case-key|case-1")

    with pytest.raises(DecryptionError):
        unwrap(pair.private_bytes, wrapped, b"case-key|case-2")


def test_every_bit_flip_of_wrap_fails() -> None:
    """Flipping any bit of a wrapped blob (version, ephemeral key, nonce, body, tag) fails."""
    pair = KeyPair.generate()
    wrapped = wrap_for(pair.public_bytes, bytes(32), b"ctx")

    for bit in range(len(wrapped) * 8):
        tampered = bytearray(wrapped)
        tampered[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(DecryptionError):
            unwrap(pair.private_bytes, bytes(tampered), b"ctx")


@pytest.mark.parametrize("cut", [0, 1, 33, 45, 60])
def test_truncated_wrap_fails(cut: int) -> None:
    """A shortened wrapped blob is refused with DecryptionError."""
    pair = KeyPair.generate()
    wrapped = wrap_for(pair.public_bytes, bytes(32), b"ctx")

    with pytest.raises(DecryptionError):
        unwrap(pair.private_bytes, wrapped[:cut], b"ctx")


def test_wrap_refuses_low_order_public_key() -> None:
    """Wrapping for an all-zero (low-order) public key is refused instead of leaking."""
    with pytest.raises(CryptoError):
        wrap_for(bytes(32), b"secret", b"ctx")


def test_wrap_refuses_bad_public_key_length() -> None:
    """A recipient public key that is not 32 bytes is refused."""
    with pytest.raises(CryptoError):
        wrap_for(bytes(31), b"secret", b"ctx")


def test_fixed_wrap_vector_opens() -> None:
    """The frozen wrapped blob still unwraps: the wrap format has not changed silently."""
    assert KeyPair.from_private_bytes(VECTOR_RECIPIENT_PRIVATE).public_bytes.hex() == (
        VECTOR_RECIPIENT_PUBLIC
    )

    opened = unwrap(VECTOR_RECIPIENT_PRIVATE, VECTOR_WRAPPED, VECTOR_CONTEXT)

    assert opened == VECTOR_SECRET


def test_fixed_wrap_vector_reproduced() -> None:
    """Wrapping with the vector's ephemeral key and nonce reproduces the frozen bytes."""
    ephemeral = X25519PrivateKey.from_private_bytes(VECTOR_EPHEMERAL_PRIVATE)

    wrapped = wrap_with(
        ephemeral, bytes(12), bytes.fromhex(VECTOR_RECIPIENT_PUBLIC), VECTOR_SECRET, VECTOR_CONTEXT
    )

    assert wrapped == VECTOR_WRAPPED


def test_recovery_key_round_trip() -> None:
    """import_recovery_key(export_recovery_key(p)) is p."""
    pair = KeyPair.generate()

    text = export_recovery_key(pair)

    assert import_recovery_key(text).private_bytes == pair.private_bytes
    assert text.isascii()
    assert "-----BEGIN PORTAL RECOVERY KEY-----\n" in text
    assert text.endswith("-----END PORTAL RECOVERY KEY-----\n")


def test_recovery_key_tolerates_surrounding_text_and_spacing() -> None:
    """Indentation, CRLF line ends and text around the markers do not matter."""
    pair = KeyPair.generate()
    lines = export_recovery_key(pair).splitlines()
    body = lines[-2]
    mangled = "\r\n".join(["> forwarded", "  " + lines[-3], body[:20], " " + body[20:], lines[-1]])

    assert import_recovery_key(mangled + "\r\nbye").public_bytes == pair.public_bytes


def test_recovery_key_every_body_typo_detected() -> None:
    """Replacing any single base64 character of the body is caught."""
    text = export_recovery_key(KeyPair.generate())
    body = text.splitlines()[-2]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    for index, char in enumerate(body):
        for other in alphabet[(alphabet.index(char) + 1) :: 7]:
            typo = body[:index] + other + body[index + 1 :]
            with pytest.raises(CryptoError):
                import_recovery_key(text.replace(body, typo))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "just some text",
        "-----BEGIN PORTAL RECOVERY KEY-----\n-----END PORTAL RECOVERY KEY-----\n",
        "-----BEGIN PORTAL RECOVERY KEY-----\nnot base64!\n-----END PORTAL RECOVERY KEY-----\n",
        "-----BEGIN PORTAL RECOVERY KEY-----\nAAAA\n-----END PORTAL RECOVERY KEY-----\n",
        "-----END PORTAL RECOVERY KEY-----\n-----BEGIN PORTAL RECOVERY KEY-----\n",
    ],
)
def test_recovery_key_malformed(text: str) -> None:
    """Malformed recovery key files raise CryptoError."""
    with pytest.raises(CryptoError):
        import_recovery_key(text)


def test_memoryview_inputs_accepted() -> None:
    """Keys and blobs read back from a database driver as memoryview still work."""
    pair = KeyPair.generate()

    wrapped = wrap_for(memoryview(pair.public_bytes), b"secret", b"ctx")  # type: ignore[arg-type]
    opened = unwrap(memoryview(pair.private_bytes), memoryview(wrapped), b"ctx")  # type: ignore[arg-type]

    rebuilt = KeyPair.from_private_bytes(bytearray(pair.private_bytes))  # type: ignore[arg-type]

    assert opened == b"secret"
    assert rebuilt.public_bytes == pair.public_bytes
