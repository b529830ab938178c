"""Streaming removal of image metadata (EXIF, GPS, XMP, IPTC, comments) before encryption.

Each filter walks the file's segment or chunk structure as bytes arrive and drops the
metadata ones, holding at most one incoming block plus a few header bytes: no image is
ever decoded. The type is told by magic bytes, never by the file's name. Files of other
types pass through unchanged and are reported as not cleaned.
"""

from __future__ import annotations

from typing import Protocol

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SNIFF_BYTES = len(PNG_MAGIC)

# JPEG APPn markers kept: APP0 (JFIF) and APP14 (Adobe colour transform) carry no metadata
# about the person or place; APP1 (EXIF/XMP), APP13 (IPTC) and the rest are dropped.
_JPEG_KEEP_APP = {0xE0, 0xEE}
_JPEG_COMMENT = 0xFE
_JPEG_SOS = 0xDA
_JPEG_EOI = 0xD9
_JPEG_STANDALONE = {0x01, 0xD8, *range(0xD0, 0xD8)}
# PNG chunks that hold text, EXIF or a modification time.
_PNG_DROP = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"}

_KNOWN_TYPES = (
    (JPEG_MAGIC, "image/jpeg"),
    (PNG_MAGIC, "image/png"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"GIF8", "image/gif"),
)


def sniff_type(head: bytes) -> str:
    """The content type the first bytes show; a generic type when they show none we know."""
    for magic, kind in _KNOWN_TYPES:
        if head.startswith(magic):
            return kind
    return "application/octet-stream"


class _Filter(Protocol):
    def feed(self, data: bytes) -> bytes: ...

    def finish(self) -> bytes: ...


class _PassThrough:
    def feed(self, data: bytes) -> bytes:
        return data

    def finish(self) -> bytes:
        return b""


class _JpegFilter:
    """Copies JPEG segments except metadata ones; scan data is copied up to the next marker."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._state = "marker"
        self._left = 0
        self._keep = True
        self._then = "marker"

    def feed(self, data: bytes) -> bytes:
        self._buf += data
        out = bytearray()
        while self._buf and self._step(out):
            pass
        return bytes(out)

    def finish(self) -> bytes:
        # A truncated segment is kept as it came only where its bytes are image data.
        rest = bytes(self._buf) if self._state in {"scan", "copy"} and self._keep else b""
        self._buf.clear()
        return rest

    def _step(self, out: bytearray) -> bool:
        if self._state == "marker":
            return self._marker(out)
        if self._state == "scan":
            return self._scan(out)
        if self._state == "trailer":
            # Bytes after the end-of-image marker are not part of the picture.
            self._buf.clear()
            return False
        return self._span(out)

    def _marker(self, out: bytearray) -> bool:
        buf = self._buf
        if len(buf) < 2:
            return False
        if buf[0] != 0xFF:
            self._state, self._keep = "scan", True
            return True
        marker = buf[1]
        if marker == 0xFF:
            del buf[:1]  # fill byte before a marker
            return True
        if marker in _JPEG_STANDALONE or marker == _JPEG_EOI:
            out += buf[:2]
            del buf[:2]
            self._state = "trailer" if marker == _JPEG_EOI else "marker"
            return True
        if len(buf) < 4:
            return False
        length = int.from_bytes(buf[2:4], "big")
        self._keep = not (
            marker == _JPEG_COMMENT or (0xE0 <= marker <= 0xEF and marker not in _JPEG_KEEP_APP)
        )
        self._left = length + 2
        self._then = "scan" if marker == _JPEG_SOS else "marker"
        self._state = "copy"
        return True

    def _span(self, out: bytearray) -> bool:
        take = min(self._left, len(self._buf))
        if self._keep:
            out += self._buf[:take]
        del self._buf[:take]
        self._left -= take
        if self._left:
            return False
        self._state = self._then
        return True

    def _scan(self, out: bytearray) -> bool:
        buf = self._buf
        at = buf.find(b"\xff")
        while at != -1 and at + 1 < len(buf) and (buf[at + 1] == 0 or 0xD0 <= buf[at + 1] <= 0xD7):
            at = buf.find(b"\xff", at + 2)
        if at == -1:
            out += buf
            buf.clear()
            return False
        out += buf[:at]
        del buf[:at]
        if len(buf) < 2:
            return False
        self._state = "marker"
        return True


class _PngFilter:
    """Copies PNG chunks except text, EXIF and time ones; stops at IEND."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._state = "signature"
        self._left = 0
        self._keep = True
        self._last = False

    def feed(self, data: bytes) -> bytes:
        self._buf += data
        out = bytearray()
        while self._buf and self._step(out):
            pass
        return bytes(out)

    def finish(self) -> bytes:
        self._buf.clear()
        return b""

    def _step(self, out: bytearray) -> bool:
        buf = self._buf
        if self._state == "signature":
            if len(buf) < len(PNG_MAGIC):
                return False
            out += buf[: len(PNG_MAGIC)]
            del buf[: len(PNG_MAGIC)]
            self._state = "header"
            return True
        if self._state == "trailer":
            buf.clear()
            return False
        if self._state == "header":
            if len(buf) < 8:
                return False
            kind = bytes(buf[4:8])
            self._keep = kind not in _PNG_DROP
            self._last = kind == b"IEND"
            self._left = int.from_bytes(buf[:4], "big") + 12
            self._state = "chunk"
            return True
        take = min(self._left, len(buf))
        if self._keep:
            out += buf[:take]
        del buf[:take]
        self._left -= take
        if self._left:
            return False
        self._state = "trailer" if self._last else "header"
        return True


class MetadataCleaner:
    """Feed a file's bytes in order; what comes out is the file without its metadata."""

    def __init__(self) -> None:
        self._head = bytearray()
        self._filter: _Filter | None = None
        self.content_type = "application/octet-stream"

    @property
    def cleaned(self) -> bool:
        """Whether the file was of a type whose metadata this cleaner removes."""
        return self.content_type in {"image/jpeg", "image/png"}

    def feed(self, data: bytes) -> bytes:
        if self._filter is not None:
            return self._filter.feed(data)
        self._head += data
        if len(self._head) < SNIFF_BYTES:
            return b""
        return self._start()

    def finish(self) -> bytes:
        start = self._start() if self._filter is None else b""
        assert self._filter is not None
        return start + self._filter.finish()

    def _start(self) -> bytes:
        head = bytes(self._head)
        self._head.clear()
        self.content_type = sniff_type(head)
        if self.content_type == "image/jpeg":
            self._filter = _JpegFilter()
        elif self.content_type == "image/png":
            self._filter = _PngFilter()
        else:
            self._filter = _PassThrough()
        return self._filter.feed(head)
