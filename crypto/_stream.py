"""Chunked streaming AEAD (the STREAM construction) for attachments of any size."""

import hashlib
import os
import struct
from collections.abc import Iterable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._aead import KEY_SIZE, TAG_SIZE
from ._errors import CryptoError, DecryptionError

STREAM_VERSION = 1
PREFIX_SIZE = 7
HEADER = struct.Struct(">B7sI")  # version, nonce prefix, chunk size
HEADER_SIZE = HEADER.size
NONCE_TAIL = struct.Struct(">IB")  # chunk counter, last-chunk flag
MIN_CHUNK = 1
MAX_CHUNK = 1 << 24
MAX_CHUNKS = 1 << 32
DEFAULT_CHUNK = 65536


class StreamEncryptor:
    """Encrypt a stream chunk by chunk; keeps at most one chunk of plaintext."""

    header: bytes
    plaintext_size: int

    def __init__(
        self, key: bytes, aad: bytes, chunk_size: int = DEFAULT_CHUNK, *, digest: bool = True
    ) -> None:
        # digest=False skips the plaintext SHA-256 (8x slower than AES-GCM with AES-NI)
        # for callers that do not need it.
        self._start(key, aad, chunk_size, os.urandom(PREFIX_SIZE), digest=digest)

    @classmethod
    def _with_prefix(
        cls, key: bytes, aad: bytes, chunk_size: int, prefix: bytes
    ) -> "StreamEncryptor":
        """Start with a chosen nonce prefix; private hook for fixed test vectors only."""
        encryptor = cls.__new__(cls)
        encryptor._start(key, aad, chunk_size, prefix)
        return encryptor

    def _start(
        self, key: bytes, aad: bytes, chunk_size: int, prefix: bytes, *, digest: bool = True
    ) -> None:
        if len(key) != KEY_SIZE:
            raise CryptoError("a key must be 32 bytes")
        if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
            raise CryptoError(f"chunk size must be between {MIN_CHUNK} and {MAX_CHUNK}")
        if len(prefix) != PREFIX_SIZE:
            raise CryptoError("nonce prefix must be 7 bytes")
        self.header = HEADER.pack(STREAM_VERSION, prefix, chunk_size)
        self.plaintext_size = 0
        self._aead = AESGCM(key)
        # Every chunk authenticates the header, so a flipped chunk size or version fails.
        self._aad = self.header + bytes(aad)
        self._prefix = prefix
        self._chunk_size = chunk_size
        self._counter = 0
        # Plaintext not yet encrypted: a view of the caller's bytes (no copy) or our own copy.
        self._held: memoryview | bytearray = bytearray()
        self._hash = hashlib.sha256() if digest else None
        self._digest: str | None = None
        self._finished = False

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of all plaintext; only after finalize()."""
        if self._hash is None:
            raise CryptoError("this stream was made with digest=False")
        if self._digest is None:
            raise CryptoError("sha256 is known only after finalize()")
        return self._digest

    def update(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        """Add plaintext; return the chunks now known not to be the last one."""
        self._check_open()
        if self._hash is not None:
            self._hash.update(data)
        self.plaintext_size += len(data)
        size = self._chunk_size
        view = memoryview(data).cast("B")
        out: list[bytes] = []
        held = len(self._held)
        if held:
            if held + len(view) <= size:
                self._held = self._own_held()
                self._held += view
                return out
            # A chunk is emitted only once a byte beyond it exists: it cannot be the last.
            need = size - held
            # The chunk across the two pieces is copied once (a bytearray grown by the second
            # piece could be copied twice).
            chunk = b"".join((self._held, view[:need])) if need else self._held
            out.append(self._encrypt(chunk, last=False))
            view = view[need:]
        while len(view) > size:
            out.append(self._encrypt(view[:size], last=False))
            view = view[size:]
        # Holding a view of immutable bytes avoids a copy; anything mutable is copied.
        self._held = view if isinstance(data, bytes) else bytearray(view)
        return out

    def _own_held(self) -> bytearray:
        held = self._held
        return held if isinstance(held, bytearray) else bytearray(held)

    def finalize(self) -> bytes:
        """Return the last chunk (0 to chunk_size bytes of plaintext, last flag set)."""
        self._check_open()
        last = self._encrypt(self._held, last=True)
        self._held = bytearray()
        self._finished = True
        if self._hash is not None:
            self._digest = self._hash.hexdigest()
        return last

    def _check_open(self) -> None:
        if self._finished:
            raise CryptoError("stream already finalized")

    def _encrypt(self, chunk: bytes | memoryview | bytearray, *, last: bool) -> bytes:
        if self._counter >= MAX_CHUNKS:
            raise CryptoError("stream too long for a 32-bit chunk counter")
        nonce = self._prefix + NONCE_TAIL.pack(self._counter, last)
        self._counter += 1
        return self._aead.encrypt(nonce, chunk, self._aad)


def decrypt_stream(
    key: bytes, aad: bytes, header: bytes, chunks: Iterable[bytes]
) -> Iterator[bytes]:
    """Yield plaintext chunk by chunk; DecryptionError on any tampering, loss or addition.

    Plaintext is authentic chunk by chunk but the stream is complete only when the
    iterator ends without error: callers must discard what they got if it raises.
    """
    if len(key) != KEY_SIZE:
        raise DecryptionError("a key must be 32 bytes")
    header = bytes(header)
    if len(header) != HEADER_SIZE:
        raise DecryptionError("stream header has the wrong length")
    version, prefix, chunk_size = HEADER.unpack(header)
    if version != STREAM_VERSION or not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        raise DecryptionError("stream header of an unknown version or chunk size")
    return _decrypt_chunks(AESGCM(key), header + bytes(aad), prefix, chunk_size, chunks)


def _decrypt_chunks(
    aead: AESGCM, aad: bytes, prefix: bytes, chunk_size: int, chunks: Iterable[bytes]
) -> Iterator[bytes]:
    full = chunk_size + TAG_SIZE
    pack = NONCE_TAIL.pack
    counter = 0
    # One chunk of look-ahead tells a middle chunk from the last one without trial decryption.
    pending: bytes | None = None
    try:
        for chunk in chunks:
            if pending is not None:
                if len(pending) != full or counter >= MAX_CHUNKS:
                    raise DecryptionError("stream chunk of the wrong size")
                yield aead.decrypt(prefix + pack(counter, 0), pending, aad)
                counter += 1
            pending = chunk
        if pending is None or not TAG_SIZE <= len(pending) <= full:
            raise DecryptionError("stream has no valid last chunk")
        yield aead.decrypt(prefix + pack(counter, 1), pending, aad)
    except InvalidTag:
        raise DecryptionError(f"stream chunk {counter} did not open") from None
