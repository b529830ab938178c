"""Removal of metadata that could identify a reporter, before encryption.

Images are cleaned as they stream: each filter walks the file's segment or chunk
structure and copies only the kinds on a keep list (picture data, colour and size
information), holding at most one incoming block plus a few header bytes; no image is
ever decoded. PDF and Office files are cleaned whole, in memory and never on disk: up to
``max_document_bytes`` they are held, and the PDF document information dictionary and
every XMP stream, or Office's ``docProps/core.xml``, ``app.xml`` and ``custom.xml`` (with
zip timestamps and extra fields) are removed; larger ones pass through unchanged and are
reported as not cleaned. Videos, voice recordings, HEIC/AVIF and WebP photos keep their
size and every byte offset: their metadata is zeroed in place as they stream
(`cleaning_media`). The type is told by magic bytes, never by the file's name. Files of
other types pass through unchanged and are reported as not cleaned.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any, Protocol

from cases.reports.cleaning_media import IsoMediaFilter, WebpFilter, is_webp, iso_content_type

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Enough for an ISO media file's first box and brand, and for RIFF....WEBP.
SNIFF_BYTES = 12

# JPEG segments kept (a keep list: anything else, such as APP1 EXIF/XMP, APP13 IPTC/XMP,
# APP2 ICC, comments or markers not yet defined, is dropped): frame and Huffman/arithmetic
# tables (C0-CF), quantisation tables (DB), restart interval (DD), line count (DC) and the
# scan (DA). APP14 (Adobe colour transform) is kept only at its fixed 14-byte length, and
# APP0 is replaced by a plain JFIF header, since its JFXX form can hold a thumbnail.
_JPEG_KEEP = {*range(0xC0, 0xD0), 0xDA, 0xDB, 0xDC, 0xDD}
_JPEG_APP0 = 0xE0
_JPEG_ADOBE = 0xEE
_JPEG_ADOBE_LENGTH = 14
_JFIF = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
_JPEG_SOS = 0xDA
_JPEG_EOI = 0xD9
_JPEG_STANDALONE = {0x01, 0xD8, *range(0xD0, 0xD8)}
# PNG chunks kept (a keep list: text, EXIF, time, C2PA "caBX", private and unknown chunks
# are dropped): the image itself, its palette and transparency, colour space and size
# information, and the APNG animation chunks.
_PNG_KEEP = {
    b"IHDR",
    b"PLTE",
    b"IDAT",
    b"IEND",
    b"tRNS",
    b"cHRM",
    b"gAMA",
    b"iCCP",
    b"sBIT",
    b"sRGB",
    b"cICP",
    b"mDCV",
    b"cLLI",
    b"bKGD",
    b"hIST",
    b"pHYs",
    b"acTL",
    b"fcTL",
    b"fdAT",
}

_KNOWN_TYPES = (
    (JPEG_MAGIC, "image/jpeg"),
    (PNG_MAGIC, "image/png"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"GIF8", "image/gif"),
)


_ISO_MEDIA_TYPES = frozenset(
    {"video/mp4", "video/quicktime", "audio/mp4", "image/heic", "image/avif"}
)


def sniff_type(head: bytes) -> str:
    """The content type the first bytes show; a generic type when they show none we know."""
    for magic, kind in _KNOWN_TYPES:
        if head.startswith(magic):
            return kind
    if is_webp(head):
        return "image/webp"
    return iso_content_type(head) or "application/octet-stream"


class _Filter(Protocol):
    def feed(self, data: bytes) -> bytes: ...

    def finish(self) -> bytes: ...


class _PassThrough:
    def feed(self, data: bytes) -> bytes:
        return data

    def finish(self) -> bytes:
        return b""


class _SegmentFilter:
    """Buffers what arrives and lets `_step` move whole segments to the output."""

    _buf: bytearray

    def feed(self, data: bytes) -> bytes:
        self._buf += data
        out = bytearray()
        while self._buf and self._step(out):
            pass
        return bytes(out)

    def _step(self, out: bytearray) -> bool:
        raise NotImplementedError


class _JpegFilter(_SegmentFilter):
    """Copies JPEG segments except metadata ones; scan data is copied up to the next marker."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._state = "marker"
        self._left = 0
        self._keep = True
        self._then = "marker"
        self._jfif_done = False

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
        self._keep = marker in _JPEG_KEEP or (
            marker == _JPEG_ADOBE and length == _JPEG_ADOBE_LENGTH
        )
        if marker == _JPEG_APP0 and not self._jfif_done:
            out += _JFIF
            self._jfif_done = True
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


class _PngFilter(_SegmentFilter):
    """Copies the PNG chunks on the keep list; stops at IEND."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._state = "signature"
        self._left = 0
        self._keep = True
        self._last = False

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
            self._keep = kind in _PNG_KEEP
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


# Office Open XML parts that name the author, the company, editing time and custom fields.
_OFFICE_DROP = frozenset({"docProps/core.xml", "docProps/app.xml", "docProps/custom.xml"})
# Printer settings (a DEVMODE naming the printer, "\\PRN-3F-HR"): dropped with their references.
_PRINTER_PART = re.compile(r"(?:^|/)printerSettings/[^/]+\.bin$")
_PRINTER_REF = re.compile(rb"<Relationship\b[^>]*Target=\"[^\"]*printerSettings/[^\"]*\"[^>]*/>")
_PRINTER_OVERRIDE = re.compile(rb"<Override\b[^>]*PartName=\"[^\"]*printerSettings/[^\"]*\"[^>]*/>")
# Who wrote a comment or a tracked change, and under which account: emptied in every XML part
# (w:author, w:initials, w15:userId, w15:providerId, a threaded comment person's displayName).
_WHO = re.compile(
    rb"(\s(?:[\w.-]+:)?(?:author|initials|userId|providerId|displayName)=)(?:\"[^\"]*\"|'[^']*')"
)
_AUTHOR_ELEMENT = re.compile(rb"(<(?:[\w.-]+:)?author>)[^<]*(</(?:[\w.-]+:)?author>)")
_SLIDE_AUTHOR = re.compile(
    rb"(<(?:[\w.-]+:)?(?:cmAuthor|author)\b[^>]*?\sname=)(?:\"[^\"]*\"|'[^']*')"
)
# When: a tracked change's or comment's date (optional attributes, removed), a slide or
# threaded comment's time (required: `dt`, `dT`, a modern comment's `created`; set to 1980).
_WHEN = re.compile(rb"\s(?:[\w.-]+:)?(?:date|dateUtc)=(?:\"[^\"]*\"|'[^']*')")
_COMMENT_TIME = re.compile(rb"(\s(?:d[tT]|created)=)(?:\"[^\"]*\"|'[^']*')")
# Editing-session ids (w:rsidR…, <w:rsids>): the same ids in two files tie them to one computer.
_RSID = re.compile(rb"\s(?:[\w.-]+:)?rsid\w*=(?:\"[^\"]*\"|'[^']*')")
_RSIDS = re.compile(
    rb"<(?:[\w.-]+:)?rsids\b.*?</(?:[\w.-]+:)?rsids>|<(?:[\w.-]+:)?rsids\s*/>", re.S
)
# A link to a file on the author's computer (the template "file:///C:/Users/jsmith/…").
_LOCAL_TARGET = re.compile(rb"(\sTarget=)\"file:[^\"]*\"")
# Pictures and recordings inside a document are cleaned like files of their own, in memory: a
# part declared larger than this is not read, and the document is called not cleaned.
_PART_MEDIA = frozenset({"image/jpeg", "image/png", "image/webp"})
_PART_LIMIT = 64 * 1024 * 1024
_OFFICE_TYPES = "[Content_Types].xml"
_OFFICE_RELS = "_rels/.rels"
# The earliest time a zip entry can carry: the original times would show when it was saved.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# A zip whose entries claim to expand beyond this many times its size is not unpacked.
_ZIP_EXPANSION = 20
_XML_LIMIT = 1024 * 1024
DEFAULT_DOCUMENT_BYTES = 20 * 1024 * 1024


class _DocumentFilter:
    """Holds a PDF or zip up to a size, then cleans it whole; a larger one passes unchanged."""

    def __init__(self, kind: str, max_bytes: int) -> None:
        self._kind = kind
        self._max = max_bytes
        self._held: bytearray | None = bytearray()
        self.cleaned = False

    def feed(self, data: bytes) -> bytes:
        if self._held is None:
            return data
        self._held += data
        if len(self._held) <= self._max:
            return b""
        released, self._held = bytes(self._held), None
        return released

    def finish(self) -> bytes:
        if self._held is None:
            return b""
        data, self._held = bytes(self._held), None
        cleaned = _clean_pdf(data) if self._kind == "application/pdf" else _clean_office(data)
        self.cleaned = cleaned is not None
        return data if cleaned is None else cleaned


def _clean_pdf(data: bytes) -> bytes | None:
    """The PDF without its information dictionary or any XMP stream; None if unreadable."""
    # Imported on a process's first PDF (qpdf's library is 13 MiB resident), not at start.
    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if "/Info" in pdf.trailer:
                del pdf.trailer["/Info"]
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                    for key in ("/Metadata", "/PieceInfo"):
                        if key in obj:
                            del obj[key]
                if isinstance(obj, pikepdf.Stream) and not _clean_pdf_image(pikepdf, obj):
                    return None
            for page in pdf.pages:
                for annotation in page.obj.get("/Annots", pikepdf.Array()):
                    _clean_annotation(pikepdf, annotation)
            out = io.BytesIO()
            # A content-derived /ID: the original one could link this copy to the author's.
            pdf.save(out, deterministic_id=True)
            return out.getvalue()
    except (pikepdf.PdfError, ValueError, RuntimeError):
        return None


def _clean_pdf_image(pikepdf: Any, stream: Any) -> bool:
    """A photo inside a PDF (a JPEG stream, as "print to PDF" and scanning apps embed a phone
    photo whole) cleaned by the JPEG filter; False for a JPEG behind another filter, which is
    not read here (the file is then called not cleaned)."""
    if stream.get("/Subtype") != pikepdf.Name.Image:
        return True
    filters = stream.get("/Filter")
    chain = list(filters) if isinstance(filters, pikepdf.Array) else [filters]
    if pikepdf.Name.DCTDecode not in chain:
        return True
    if len(chain) != 1:
        return False
    cleaner = MetadataCleaner()
    cleaned = cleaner.feed(stream.read_raw_bytes()) + cleaner.finish()
    if cleaner.content_type != "image/jpeg":
        return False
    stream.write(cleaned, filter=pikepdf.Name.DCTDecode)
    return True


def _clean_annotation(pikepdf: Any, annotation: Any) -> None:
    """A comment's words stay; who wrote it (/T, except a form field's name) and when go."""
    if not isinstance(annotation, pikepdf.Dictionary):
        return
    keys = ["/M", "/CreationDate"]
    if annotation.get("/Subtype") != pikepdf.Name.Widget:
        keys.append("/T")
    for key in keys:
        if key in annotation:
            del annotation[key]


def _clean_office(data: bytes) -> bytes | None:
    """The Office file without its docProps parts, zip times and extras; None if not one."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as source:
            entries = source.infolist()
            names = {e.filename for e in entries}
            declared = sum(e.file_size for e in entries)
            if _OFFICE_TYPES not in names or declared > _ZIP_EXPANSION * max(len(data), 1):
                return None
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w") as target:
                for entry in entries:
                    if entry.filename in _OFFICE_DROP or _PRINTER_PART.search(entry.filename):
                        continue
                    _copy_entry(source, target, entry)
            return out.getvalue()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, ValueError, OSError):
        return None


def _copy_entry(source: zipfile.ZipFile, target: zipfile.ZipFile, entry: zipfile.ZipInfo) -> None:
    """One part, cleaned: package XML and every XML part scrubbed, pictures and recordings
    cleaned as files of their own. A part that cannot be cleaned (an embedded object, a picture
    of a kind not read here, XML that is not UTF-8) raises: the whole file is then kept as
    sent and called not cleaned, never "cleaned" with a part that still names the author."""
    fresh = zipfile.ZipInfo(entry.filename, date_time=_ZIP_EPOCH)
    fresh.compress_type = entry.compress_type
    if entry.filename in {_OFFICE_TYPES, _OFFICE_RELS}:
        if entry.file_size > _XML_LIMIT:
            raise ValueError("package part too large")
        target.writestr(fresh, _scrub_xml(_without_dropped_parts(source.read(entry))))
        return
    if entry.filename.endswith("/"):
        target.writestr(fresh, b"")
        return
    if entry.file_size > _PART_LIMIT:
        raise ValueError("package part too large")
    data = source.read(entry)
    if entry.filename.endswith((".xml", ".rels", ".vml")):
        target.writestr(fresh, _scrub_xml(data))
        return
    target.writestr(fresh, _clean_part(data))


def _scrub_xml(xml: bytes) -> bytes:
    """An XML part without who wrote its comments and changes, when, or on which computer."""
    try:
        xml.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("package part is not UTF-8") from None
    xml = _PRINTER_OVERRIDE.sub(b"", _PRINTER_REF.sub(b"", xml))
    xml = _WHO.sub(rb'\1""', xml)
    xml = _AUTHOR_ELEMENT.sub(rb"\1\2", xml)
    xml = _SLIDE_AUTHOR.sub(rb'\1""', xml)
    xml = _WHEN.sub(b"", xml)
    xml = _COMMENT_TIME.sub(rb'\1"1980-01-01T00:00:00"', xml)
    xml = _RSIDS.sub(b"", _RSID.sub(b"", xml))
    return _LOCAL_TARGET.sub(rb'\1"file:///"', xml)


def _clean_part(data: bytes) -> bytes:
    """A picture or recording inside a document, cleaned; anything else cannot be."""
    kind = sniff_type(data[:SNIFF_BYTES])
    if kind not in _PART_MEDIA and kind not in _ISO_MEDIA_TYPES:
        raise ValueError("a part the cleaner cannot clean")
    cleaner = MetadataCleaner()
    cleaned = cleaner.feed(data) + cleaner.finish()
    if not cleaner.cleaned:
        raise ValueError("a part the cleaner cannot clean")
    return cleaned


def _without_dropped_parts(xml: bytes) -> bytes:
    """[Content_Types].xml and _rels/.rels without the entries naming the dropped parts."""
    text = xml.decode("utf-8")
    for part in _OFFICE_DROP:
        name = re.escape(part)
        text = re.sub(rf'<Override\b[^>]*PartName="/{name}"[^>]*/>', "", text)
        text = re.sub(rf'<Relationship\b[^>]*Target="/?{name}"[^>]*/>', "", text)
    return text.encode("utf-8")


class MetadataCleaner:
    """Feed a file's bytes in order; what comes out is the file without its metadata."""

    def __init__(self, max_document_bytes: int = DEFAULT_DOCUMENT_BYTES) -> None:
        self._head = bytearray()
        self._filter: _Filter | None = None
        self._max_document = max_document_bytes
        self.content_type = "application/octet-stream"

    @property
    def cleaned(self) -> bool:
        """Whether this file's metadata was removed: a known type, small enough if a
        document, and (media) every box or chunk understood and neutralised."""
        if isinstance(self._filter, _DocumentFilter | IsoMediaFilter | WebpFilter):
            return self._filter.cleaned
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
        elif self.content_type in {"application/pdf", "application/zip"}:
            self._filter = _DocumentFilter(self.content_type, self._max_document)
        elif self.content_type == "image/webp":
            self._filter = WebpFilter()
        elif self.content_type in _ISO_MEDIA_TYPES:
            self._filter = IsoMediaFilter()
        else:
            self._filter = _PassThrough()
        return self._filter.feed(head)
