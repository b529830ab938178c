"""StreamEncryptor/decrypt_stream: round trips at every boundary and every kind of tampering."""

import hashlib
import random
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto import CryptoError, DecryptionError, StreamEncryptor, decrypt_stream, random_key
from crypto._stream import StreamEncryptor as _Encryptor

CHUNK = 16
AAD = b"file|case-1|f-1"
VECTOR_KEY = bytes(range(32))
VECTOR_HEADER = bytes.fromhex("010102030405060700000010")
VECTOR_CHUNKS = [
    bytes.fromhex("165ac3aea700439908d88da1c8edd896472d7821417e577f6d4d3e3c1cedad3c"),
    bytes.fromhex("520bf01007a2938ab7f473f7679c58809b993aa717ce5092bd9f4ba18698c064"),
    bytes.fromhex("fa8f4861fb492f0a6c3a865c5cf604a8bad41233335bb164"),
]
SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 5]


def encrypt(
    key: bytes, data: bytes, *, aad: bytes = AAD, chunk: int = CHUNK, piece: int = 7
) -> tuple[bytes, list[bytes]]:
    """Encrypt data fed in pieces of the given size; return the header and all chunks."""
    encryptor = StreamEncryptor(key, aad, chunk)
    chunks: list[bytes] = []
    for start in range(0, len(data), piece):
        chunks += encryptor.update(data[start : start + piece])
    chunks.append(encryptor.finalize())
    return encryptor.header, chunks


def decrypt(key: bytes, header: bytes, chunks: list[bytes], aad: bytes = AAD) -> bytes:
    """Join what decrypt_stream yields."""
    return b"".join(decrypt_stream(key, aad, header, chunks))


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("piece", [1, 5, CHUNK, CHUNK + 3, 1000])
def test_round_trip_every_boundary(size: int, piece: int) -> None:
    """Every size around the chunk boundary round-trips, however the input is split."""
    key = random_key()
    data = bytes(random.randrange(256) for _ in range(size))

    header, chunks = encrypt(key, data, piece=piece)

    assert decrypt(key, header, chunks) == data
    assert len(chunks) == max(1, -(-size // CHUNK))
    assert all(len(chunk) == CHUNK + 16 for chunk in chunks[:-1])


@given(
    data=st.binary(max_size=200),
    pieces=st.lists(st.integers(min_value=0, max_value=50), max_size=20),
    chunk=st.integers(min_value=1, max_value=40),
)
def test_round_trip_any_split(data: bytes, pieces: list[int], chunk: int) -> None:
    """Any data, any chunk size and any split of the input round-trips with bounded chunks."""
    key = random_key()
    encryptor = StreamEncryptor(key, AAD, chunk)
    chunks: list[bytes] = []
    start = 0
    for piece in [*pieces, len(data)]:
        chunks += encryptor.update(bytearray(data[start : start + piece]))
        start += piece
    chunks.append(encryptor.finalize())

    assert decrypt(key, encryptor.header, chunks) == data
    assert all(len(item) == chunk + 16 for item in chunks[:-1])
    assert 16 <= len(chunks[-1]) <= chunk + 16


def test_mutable_input_is_copied() -> None:
    """Changing a bytearray after passing it to update does not change the ciphertext."""
    key = random_key()
    buffer = bytearray(b"a" * 10)
    encryptor = StreamEncryptor(key, AAD, CHUNK)

    chunks = encryptor.update(buffer)
    buffer[:] = b"b" * 10
    chunks.append(encryptor.finalize())

    assert decrypt(key, encryptor.header, chunks) == b"a" * 10


def test_size_and_sha256_after_finalize() -> None:
    """plaintext_size and sha256 describe all plaintext once finalized."""
    data = b"evidence " * 20
    encryptor = StreamEncryptor(random_key(), AAD, CHUNK)

    encryptor.update(data)
    with pytest.raises(CryptoError):
        _ = encryptor.sha256
    encryptor.finalize()

    assert encryptor.plaintext_size == len(data)
    assert encryptor.sha256 == hashlib.sha256(data).hexdigest()


def test_without_digest_round_trips_and_has_no_sha256() -> None:
    """digest=False encrypts the same format and refuses to report a digest."""
    key, data = random_key(), b"evidence " * 20
    encryptor = StreamEncryptor(key, AAD, CHUNK, digest=False)

    chunks = [*encryptor.update(data), encryptor.finalize()]

    assert decrypt(key, encryptor.header, chunks) == data
    assert encryptor.plaintext_size == len(data)
    with pytest.raises(CryptoError):
        _ = encryptor.sha256


def test_use_after_finalize_fails() -> None:
    """update or finalize after finalize raise CryptoError."""
    encryptor = StreamEncryptor(random_key(), AAD, CHUNK)
    encryptor.finalize()

    with pytest.raises(CryptoError):
        encryptor.update(b"more")
    with pytest.raises(CryptoError):
        encryptor.finalize()


@pytest.mark.parametrize("chunk_size", [0, -1, (1 << 24) + 1])
def test_bad_chunk_size_refused(chunk_size: int) -> None:
    """Chunk sizes outside 1..16 MiB are refused."""
    with pytest.raises(CryptoError):
        StreamEncryptor(random_key(), AAD, chunk_size)


def test_bad_key_refused() -> None:
    """A key that is not 32 bytes is refused on both sides."""
    header, chunks = encrypt(random_key(), b"data")

    with pytest.raises(CryptoError):
        StreamEncryptor(bytes(16), AAD)
    with pytest.raises(DecryptionError):
        decrypt(bytes(16), header, chunks)


def test_header_layout() -> None:
    """The header is version 1, a 7-byte random prefix and the chunk size, 12 bytes."""
    first = StreamEncryptor(random_key(), AAD, 1000)
    second = StreamEncryptor(random_key(), AAD, 1000)

    assert len(first.header) == 12
    assert first.header[0] == 1
    assert int.from_bytes(first.header[8:], "big") == 1000
    assert first.header[1:8] != second.header[1:8]


@pytest.mark.parametrize("size", [0, 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5])
def test_every_bit_flip_fails(size: int) -> None:
    """Flipping any single bit of the header or of any chunk is detected."""
    key = random_key()
    header, chunks = encrypt(key, bytes(size))

    for bit in range(len(header) * 8):
        bad_header = bytearray(header)
        bad_header[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(DecryptionError):
            decrypt(key, bytes(bad_header), chunks)
    for index, chunk in enumerate(chunks):
        for bit in range(len(chunk) * 8):
            bad_chunk = bytearray(chunk)
            bad_chunk[bit // 8] ^= 1 << (bit % 8)
            tampered = [*chunks[:index], bytes(bad_chunk), *chunks[index + 1 :]]
            with pytest.raises(DecryptionError):
                decrypt(key, header, tampered)


@pytest.mark.slow
def test_sampled_bit_flips_of_large_stream_fail() -> None:
    """Sampled bit flips anywhere in a 1 MiB stream of 64 KiB chunks are detected."""
    key = random_key()
    header, chunks = encrypt(key, random.randbytes(1 << 20), chunk=65536, piece=10_000)
    rng = random.Random(1234)

    for _ in range(150):
        index = rng.randrange(len(chunks))
        bit = rng.randrange(len(chunks[index]) * 8)
        bad_chunk = bytearray(chunks[index])
        bad_chunk[bit // 8] ^= 1 << (bit % 8)
        tampered = [*chunks[:index], bytes(bad_chunk), *chunks[index + 1 :]]
        with pytest.raises(DecryptionError):
            decrypt(key, header, tampered)


@pytest.mark.parametrize("size", [0, 1, CHUNK, 3 * CHUNK + 5])
def test_truncation_fails(size: int) -> None:
    """Dropping the last chunks, or all of them, is detected."""
    key = random_key()
    header, chunks = encrypt(key, bytes(size))

    for keep in range(len(chunks)):
        with pytest.raises(DecryptionError):
            decrypt(key, header, chunks[:keep])


@pytest.mark.parametrize("size", [CHUNK, 2 * CHUNK, 3 * CHUNK + 5])
def test_truncated_chunk_fails(size: int) -> None:
    """Cutting bytes off any chunk is detected."""
    key = random_key()
    header, chunks = encrypt(key, bytes(size))

    for index, chunk in enumerate(chunks):
        for cut in (1, 16, len(chunk)):
            tampered = [*chunks[:index], chunk[:-cut], *chunks[index + 1 :]]
            with pytest.raises(DecryptionError):
                decrypt(key, header, tampered)


@pytest.mark.parametrize("size", [0, CHUNK, 3 * CHUNK + 5])
def test_extension_fails(size: int) -> None:
    """Anything after the final chunk (a copy of a chunk, junk, an empty chunk) is detected."""
    key = random_key()
    header, chunks = encrypt(key, bytes(size))

    for extra in [chunks[0], chunks[-1], b"", bytes(CHUNK + 16)]:
        with pytest.raises(DecryptionError):
            decrypt(key, header, [*chunks, extra])


def test_reorder_fails() -> None:
    """Swapping or duplicating chunks is detected."""
    key = random_key()
    header, chunks = encrypt(key, bytes(range(4 * CHUNK)))

    for order in ([1, 0, 2, 3], [0, 2, 1, 3], [0, 1, 3, 2], [0, 0, 2, 3], [0, 1, 1, 3]):
        with pytest.raises(DecryptionError):
            decrypt(key, header, [chunks[i] for i in order])


def test_chunk_from_other_file_fails() -> None:
    """A chunk taken from another stream under the same key and aad is detected."""
    key = random_key()
    header, chunks = encrypt(key, bytes(3 * CHUNK))
    _, other = encrypt(key, bytes(3 * CHUNK))

    for index in range(3):
        mixed = [*chunks[:index], other[index], *chunks[index + 1 :]]
        with pytest.raises(DecryptionError):
            decrypt(key, header, mixed)
    with pytest.raises(DecryptionError):
        decrypt(key, header, other)


def test_wrong_key_or_aad_fails() -> None:
    """Another key or another aad does not decrypt."""
    key = random_key()
    header, chunks = encrypt(key, b"data")

    with pytest.raises(DecryptionError):
        decrypt(random_key(), header, chunks)
    with pytest.raises(DecryptionError):
        decrypt(key, header, chunks, aad=b"file|case-1|f-2")


@pytest.mark.parametrize("header", [b"", bytes(11), bytes(13), b"\x02" + bytes(11)])
def test_malformed_header_fails_at_once(header: bytes) -> None:
    """A header of the wrong size or version raises before any chunk is read."""
    with pytest.raises(DecryptionError):
        decrypt_stream(random_key(), AAD, header, iter(()))


def test_decryption_is_incremental() -> None:
    """decrypt_stream yields plaintext before it has consumed the whole input."""
    key = random_key()
    header, chunks = encrypt(key, bytes(10 * CHUNK))
    consumed = 0

    def counting() -> Iterator[bytes]:
        nonlocal consumed
        for chunk in chunks:
            consumed += 1
            yield chunk

    first = next(decrypt_stream(key, AAD, header, counting()))

    assert first == bytes(CHUNK)
    assert consumed == 2


def test_fixed_vector_decrypts() -> None:
    """The frozen stream still decrypts: header and chunk formats have not changed."""
    assert decrypt(VECTOR_KEY, VECTOR_HEADER, VECTOR_CHUNKS, b"file-aad") == bytes(range(40))


def test_fixed_vector_reproduced() -> None:
    """Encrypting with the vector's nonce prefix reproduces the frozen header and chunks."""
    encryptor = _Encryptor._with_prefix(VECTOR_KEY, b"file-aad", 16, bytes(range(1, 8)))

    chunks = [*encryptor.update(bytes(range(40))), encryptor.finalize()]

    assert encryptor.header == VECTOR_HEADER
    assert chunks == VECTOR_CHUNKS


def test_memoryview_inputs_accepted() -> None:
    """Header, aad and chunks read back from a database driver as memoryview still decrypt."""
    key = random_key()
    header, chunks = encrypt(key, bytes(range(50)))

    views = [memoryview(chunk) for chunk in chunks]
    opened = decrypt_stream(key, memoryview(AAD), memoryview(header), views)  # type: ignore[arg-type]

    assert b"".join(opened) == bytes(range(50))
