"""Metadata neutralised in place in ISO base media files (MP4, MOV, M4A, HEIC, AVIF) and WebP.

Nothing is removed: sample tables (``stco``/``co64``) and HEIF's ``iloc`` hold absolute
file offsets, so every box keeps its size and place. Metadata boxes (``udta``, ``meta``
with QuickTime keys and ``ilst``, ``uuid`` such as XMP, ``XMP_``) become ``free`` boxes of
zeros; ``mvhd``/``tkhd``/``mdhd`` creation and modification times become 0. A HEIF image's
``meta`` box stays (it describes the picture) but the bytes of its ``Exif`` and ``mime``
(XMP) items are zeroed where ``iloc`` puts them, in ``idat`` or as ``mdat`` streams past,
each starting with an empty EXIF or XMP so that readers find no tag rather than fail.
WebP's ``EXIF`` and ``XMP `` chunks become zeroed ``JUNK`` chunks (readers skip chunks
they do not know) and ``VP8X`` loses its EXIF and XMP flags.

Samples are never read: a track whose samples may hold the place or the time (GPS
telemetry, timed location keys, timecode, subtitles) makes the file "not cleaned".

Media data streams through: only ``moov``, ``moof`` and a top-level ``meta`` box are held
whole, up to ``BOX_CAP`` bytes (a larger one passes unchanged). A file is reported cleaned
only when every box or chunk was understood and every neutralisation was complete; a
malformed or truncated one passes on with nothing dropped, unchanged from where the fault
is found, and is reported not cleaned.
"""

from __future__ import annotations

import struct

BOX_CAP = 16 * 1024 * 1024
# Containers nest a handful deep in real files (moov/trak/mdia/minf/stbl/stsd); deeper
# nesting is a crafted file, refused rather than followed.
_MAX_DEPTH = 12

_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"mif2", b"msf1"}
)
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_AUDIO_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P ", b"F4A "})
# QuickTime files may start without ftyp; these are the boxes they start with.
_QUICKTIME_FIRST = frozenset({b"wide", b"mdat", b"moov", b"free", b"skip"})

# Track handlers whose samples may hold a place or a time: timed metadata, text,
# subtitles, closed captions and timecode.
_TIMED_DETAILS = frozenset({b"meta", b"text", b"sbtl", b"subt", b"clcp", b"tmcd"})
# More separate Exif/XMP ranges than this in one file is not a phone's: refused rather
# than checked against every block of mdat.
_MAX_RANGES = 1024

_HELD = frozenset({b"moov", b"moof", b"meta"})
# Top-level boxes that carry nothing about the reporter, copied as they are.
_TOP_KEEP = frozenset(
    {b"ftyp", b"styp", b"free", b"skip", b"wide", b"pdin", b"sidx", b"ssix", b"mfra", b"prft"}
)
_TOP_BLANK = frozenset({b"udta", b"uuid", b"XMP_"})
_FREE = b"free"

# Inside moov and moof: which boxes are walked into, blanked, or kept as they are.
_CONTAINERS = frozenset(
    {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"dinf", b"edts", b"mvex", b"moof", b"traf"}
    | {b"gmhd", b"tapt"}
)
_TIMES = frozenset({b"mvhd", b"tkhd", b"mdhd"})
_BLANK = frozenset({b"udta", b"meta", b"uuid", b"XMP_", b"keys", b"ilst", b"xml ", b"bxml"})
_LEAVES = frozenset(
    {b"stsd", b"stts", b"ctts", b"cslg", b"stss", b"stps", b"stsc", b"stsz", b"stz2"}
    | {b"stco", b"co64", b"sdtp", b"sbgp", b"sgpd", b"subs", b"saiz", b"saio", b"stsh"}
    | {b"padb", b"stdp", b"elst", b"dref", b"hdlr", b"vmhd", b"smhd", b"hmhd", b"nmhd"}
    | {b"sthd", b"gmin", b"text", b"iods", b"mehd", b"trex", b"trep", b"leva", b"pssh"}
    | {b"mfhd", b"tfhd", b"tfdt", b"trun", b"senc", b"tref", b"free", b"skip", b"wide"}
    | {b"load", b"clef", b"prof", b"enof", b"kind", b"elng", b"txas", b"imap", b"clip"}
    | {b"matt", b"ctab"}
)
# A HEIF image's meta box: what it may hold, and what its item properties may be.
_HEIF_KEEP = frozenset(
    {b"hdlr", b"pitm", b"iinf", b"iloc", b"iref", b"idat", b"dinf", b"grpl", b"free"} | {b"skip"}
)
_HEIF_BLANK = frozenset({b"xml ", b"bxml", b"uuid", b"udta", b"XMP_"})
_HEIF_PROPERTIES = frozenset(
    {b"hvcC", b"ispe", b"colr", b"pixi", b"irot", b"imir", b"clap", b"pasp", b"av1C"}
    | {b"auxC", b"lsel", b"a1op", b"a1lx", b"rloc", b"clli", b"mdcv", b"cclv", b"amve"}
    | {b"lhvC", b"oinf", b"tols", b"altt", b"uncC", b"cmpd", b"free", b"skip"}
)
_HEIF_METADATA_ITEMS = frozenset({b"Exif", b"mime"})
# What a zeroed Exif item starts with, so readers find an empty EXIF rather than bytes
# they cannot parse: no offset to the TIFF header, a big-endian header, one IFD with no
# entries and no next IFD.
_EMPTY_EXIF = b"\x00\x00\x00\x00MM\x00\x2a\x00\x00\x00\x08" + bytes(6)
# And a zeroed XMP item: an empty XMP document, then spaces (XML allows them after it).
_EMPTY_XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>'
_XMP_TYPES = frozenset({b"application/rdf+xml", b"application/xmp+xml"})
_HEIF_IMAGE_ITEMS = frozenset(
    {b"hvc1", b"av01", b"grid", b"iden", b"iovl", b"hvt1", b"jpeg", b"tmap", b"unci"}
)
# An emptied item: (absolute start, length, what it starts with, the byte after that).
_Fill = tuple[int, int, bytes, int]


class _Malformed(Exception):
    """A box that cannot be what it says (sizes out of bounds, nesting too deep)."""


def iso_content_type(head: bytes) -> str | None:
    """The content type of an ISO base media file by its first box; None if not one."""
    if len(head) < 12:
        return None
    size, kind = struct.unpack(">I4s", head[:8])
    if kind == b"ftyp" and size >= 12:
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return "image/heic"
        if brand in _AVIF_BRANDS:
            return "image/avif"
        if brand in _AUDIO_BRANDS:
            return "audio/mp4"
        return "video/quicktime" if brand == b"qt  " else "video/mp4"
    if kind in _QUICKTIME_FIRST and (size in {0, 1} or size >= 8):
        return "video/quicktime"
    return None


def is_webp(head: bytes) -> bool:
    """Whether the first bytes are a WebP's RIFF header."""
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def _box_at(data: bytes | bytearray, at: int, end: int) -> tuple[bytes, int, int]:
    """The type, payload start and end of the box at `at`; it must end by `end`."""
    if end - at < 8:
        raise _Malformed("box header cut short")
    size, kind = struct.unpack_from(">I4s", data, at)
    header = 8
    if size == 1:
        if end - at < 16:
            raise _Malformed("large box header cut short")
        (size,) = struct.unpack_from(">Q", data, at + 8)
        header = 16
    if size < header or at + size > end:
        raise _Malformed("box size out of bounds")
    return kind, at + header, at + size


def _children(data: bytes | bytearray, start: int, end: int) -> list[tuple[bytes, int, int, int]]:
    """(type, box start, payload start, end) of every box from start to end."""
    boxes = []
    at = start
    while at < end:
        kind, payload, stop = _box_at(data, at, end)
        boxes.append((kind, at, payload, stop))
        at = stop
    return boxes


def _blank(data: bytearray, at: int, payload: int, end: int) -> None:
    """Turns the box at `at` into a free box of the same size, its payload zeroed."""
    data[at + 4 : at + 8] = _FREE
    data[payload:end] = bytes(end - payload)


def _zero_times(data: bytearray, payload: int, end: int) -> None:
    """Creation and modification times of mvhd, tkhd or mdhd set to 0."""
    if payload >= end:
        raise _Malformed("empty header box")
    width = 16 if data[payload] == 1 else 8
    if payload + 4 + width > end:
        raise _Malformed("header box too short for its times")
    data[payload + 4 : payload + 4 + width] = bytes(width)


class _Reader:
    """Big-endian fields read in order from a box payload, never past its end."""

    def __init__(self, data: bytes | bytearray, at: int, end: int) -> None:
        self.data, self.at, self.end = data, at, end

    def take(self, n: int) -> bytes:
        if self.at + n > self.end:
            raise _Malformed("field past the end of its box")
        out = bytes(self.data[self.at : self.at + n])
        self.at += n
        return out

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big") if n else 0

    def string(self) -> bytes:
        stop = self.data.find(b"\x00", self.at, self.end)
        if stop == -1:
            raise _Malformed("string without its terminator")
        out = bytes(self.data[self.at : stop])
        self.at = stop + 1
        return out


def _item_types(data: bytearray, payload: int, end: int) -> dict[int, tuple[bytes, bytes]]:
    """Item id to item type and (for mime items) content type, from iinf; infe versions
    before 2 carry no type and are refused."""
    read = _Reader(data, payload, end)
    version = read.uint(1)
    read.take(3)
    read.uint(2 if version == 0 else 4)
    types: dict[int, tuple[bytes, bytes]] = {}
    for kind, _, entry, stop in _children(data, read.at, end):
        if kind != b"infe":
            raise _Malformed("iinf holds something other than infe")
        item = _Reader(data, entry, stop)
        infe_version = item.uint(1)
        item.take(3)
        if infe_version < 2:
            raise _Malformed("infe without an item type")
        item_id = item.uint(2 if infe_version == 2 else 4)
        item.take(2)
        item_type = item.take(4)
        content = b""
        if item_type == b"mime":
            item.string()
            content = item.string().lower()
        types[item_id] = (item_type, content)
    return types


def _item_extents(
    data: bytearray, payload: int, end: int
) -> dict[int, tuple[int, int, list[tuple[int, int]]]]:
    """Item id to (construction method, data reference, [(offset, length)]) from iloc."""
    read = _Reader(data, payload, end)
    version = read.uint(1)
    read.take(3)
    if version > 2:
        raise _Malformed("iloc version unknown")
    sizes = read.uint(2)
    offset_size, length_size = sizes >> 12, (sizes >> 8) & 0xF
    base_size, index_size = (sizes >> 4) & 0xF, sizes & 0xF
    if version == 0:
        index_size = 0
    count = read.uint(2 if version < 2 else 4)
    items: dict[int, tuple[int, int, list[tuple[int, int]]]] = {}
    for _ in range(count):
        item_id = read.uint(2 if version < 2 else 4)
        method = read.uint(2) & 0xF if version else 0
        reference = read.uint(2)
        base = read.uint(base_size)
        extents = []
        for _ in range(read.uint(2)):
            read.uint(index_size)
            offset = read.uint(offset_size)
            extents.append((base + offset, read.uint(length_size)))
        items[item_id] = (method, reference, extents)
    return items


def _image_meta_children(
    data: bytearray, payload: int, end: int
) -> list[tuple[bytes, int, int, int]] | None:
    """The boxes of a meta box whose handler is 'pict' (a HEIF image); None for any other.

    ISO's meta is a full box (4 bytes of version and flags first); QuickTime's is not.
    """
    try:
        children = _children(data, payload + 4, end)
    except _Malformed:
        return None
    for kind, _, p, stop in children:
        if kind == b"hdlr" and stop - p >= 12 and data[p + 8 : p + 12] == b"pict":
            return children
    return None


def _child(data: bytearray, start: int, end: int, *path: bytes) -> tuple[int, int] | None:
    """Payload start and end of the box at `path` below [start, end); None if absent."""
    for name in path:
        found = [(p, stop) for kind, _, p, stop in _children(data, start, end) if kind == name]
        if not found:
            return None
        start, end = found[0]
    return start, end


def _samples_plain(data: bytearray, start: int, end: int) -> bool:
    """Whether a track's samples are free of recording details we cannot reach.

    Picture and sound are; timed text, timecode (a time of day) and timed metadata such
    as GoPro's GPS track (``gpmd``) may carry the place or time in ``mdat``, which is not
    read. Apple's ``mebx`` metadata tracks (orientation, Live Photo) pass unless their
    keys name a location.
    """
    hdlr = _child(data, start, end, b"mdia", b"hdlr")
    handler = bytes(data[hdlr[0] + 8 : hdlr[0] + 12]) if hdlr else b""
    if handler not in _TIMED_DETAILS:
        return True
    stsd = _child(data, start, end, b"mdia", b"minf", b"stbl", b"stsd")
    if handler != b"meta" or stsd is None:
        return False
    entries = _children(data, stsd[0] + 8, stsd[1])
    described = bytes(data[stsd[0] : stsd[1]]).lower()
    return all(kind == b"mebx" for kind, *_ in entries) and b"location" not in described


def _overlay(buf: bytearray, buf_start: int, fill: _Fill) -> None:
    """Writes the part of `fill` that falls in `buf` (which starts at `buf_start`)."""
    at, length, template, pad = fill
    low, high = max(at, buf_start), min(at + length, buf_start + len(buf))
    split = min(max(at + len(template), low), high)
    if low < split:
        buf[low - buf_start : split - buf_start] = template[low - at : split - at]
    if split < high:
        buf[split - buf_start : high - buf_start] = bytes([pad]) * (high - split)


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted ranges with overlapping ones joined, so no byte is counted twice."""
    out: list[tuple[int, int]] = []
    for low, high in sorted(r for r in ranges if r[0] < r[1]):
        if out and low <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], high))
        else:
            out.append((low, high))
    return out


def _empty_item(item_type: bytes, content: bytes, spans: list[tuple[int, int]]) -> list[_Fill]:
    """What a zeroed Exif or XMP item's first extent starts with, if it has room for it."""
    if not spans:
        return []
    at, length = spans[0]
    if item_type == b"Exif" and length >= len(_EMPTY_EXIF):
        return [(at, length, _EMPTY_EXIF, 0)]
    if content in _XMP_TYPES and length >= len(_EMPTY_XMP):
        return [(at, length, _EMPTY_XMP, 0x20)]
    return []


class IsoMediaFilter:
    """Streams an ISO base media file, neutralising its metadata in place."""

    def __init__(self, box_cap: int = BOX_CAP) -> None:
        self.cleaned = False
        # The most bytes held at once (a held box and a box header), for the memory tests.
        self.peak_buffer = 0
        self._cap = box_cap
        self._ok = True
        self._pos = 0
        self._state = "header"
        self._head = bytearray()
        self._left: int | None = 0
        self._box = bytearray()
        self._box_start = 0
        self._in_mdat = False
        # Absolute [start, end) ranges still to be zeroed as mdat streams past.
        self._ranges: list[tuple[int, int]] = []
        # Zeroed Exif and XMP items still to come, to be given empty EXIF or XMP there.
        self._fills: list[_Fill] = []
        self._to_cover = 0
        self._covered = 0

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        view = memoryview(data)
        while view:
            view = view[self._step(view, out) :]
        self.peak_buffer = max(self.peak_buffer, len(self._box) + len(self._head))
        return bytes(out)

    def finish(self) -> bytes:
        rest = bytes(self._head) + bytes(self._box)
        at_boundary = self._state == "header" and not self._head
        to_end = self._state == "copy" and self._left is None
        if not (at_boundary or to_end or self._state == "pass"):
            self._ok = False
        self._head.clear()
        self._box.clear()
        self.cleaned = self._ok and self._state != "pass" and self._covered == self._to_cover
        return rest

    def _step(self, view: memoryview, out: bytearray) -> int:
        if self._state == "pass":
            out += view
            return len(view)
        if self._state == "header":
            return self._read_header(view, out)
        take = len(view) if self._left is None else min(self._left, len(view))
        chunk = view[:take]
        if self._state == "copy":
            out += self._zero_ranges(chunk) if self._in_mdat and self._ranges else chunk
        elif self._state == "zero":
            out += bytes(take)
        else:
            self._box += chunk
        self._pos += take
        if self._left is not None:
            self._left -= take
            if not self._left:
                self._end_box(out)
        return take

    def _read_header(self, view: memoryview, out: bytearray) -> int:
        head = self._head
        need = 8 if len(head) < 8 or head[:4] != b"\x00\x00\x00\x01" else 16
        take = min(need - len(head), len(view))
        head += view[:take]
        self._pos += take
        if len(head) == 8 and head[:4] == b"\x00\x00\x00\x01":
            return take
        if len(head) == need:
            self._begin(out)
        return take

    def _begin(self, out: bytearray) -> None:
        head = bytes(self._head)
        self._head.clear()
        size, kind = struct.unpack(">I4s", head[:8])
        if len(head) == 16:
            (size,) = struct.unpack(">Q", head[8:])
        self._in_mdat = kind == b"mdat"
        if size == 0 and self._in_mdat:
            out += head
            self._state, self._left = "copy", None
            return
        if size < len(head):
            self._fail(out, head)
            return
        self._left = size - len(head)
        if kind in _HELD and size <= self._cap:
            self._state, self._box_start = "box", self._pos - len(head)
            self._box += head
        elif kind in _TOP_BLANK:
            out += head[:4] + _FREE + head[8:]
            self._state = "zero"
        else:
            if kind not in _TOP_KEEP and not self._in_mdat:
                self._ok = False  # unknown, or held box over the cap: passed as it is
            out += head
            self._state = "copy"
        if not self._left:
            self._end_box(out)

    def _end_box(self, out: bytearray) -> None:
        if self._state == "box":
            out += self._process(self._box, self._box_start)
            self._box.clear()
        self._state, self._in_mdat = "header", False

    def _fail(self, out: bytearray, pending: bytes) -> None:
        """From here on the file passes unchanged, and is not called cleaned."""
        out += pending
        self._state, self._ok = "pass", False

    def _zero_ranges(self, chunk: memoryview) -> bytes | memoryview:
        start, end = self._pos, self._pos + len(chunk)
        zeroed: bytearray | None = None
        for low, high in self._ranges:
            a, b = max(low, start), min(high, end)
            if a < b:
                zeroed = bytearray(chunk) if zeroed is None else zeroed
                zeroed[a - start : b - start] = bytes(b - a)
                self._covered += b - a
        if zeroed is not None:
            for fill in self._fills:
                _overlay(zeroed, start, fill)
        return chunk if zeroed is None else bytes(zeroed)

    def _process(self, box: bytearray, start: int) -> bytes:
        """The held box with its metadata neutralised; unchanged if it cannot be read."""
        work = bytearray(box)
        try:
            kind, payload, end = _box_at(work, 0, len(work))
            ranges: list[tuple[int, int]] = []
            fills: list[_Fill] = []
            if kind == b"meta":
                ranges, fills = self._top_meta(work, payload, end, start)
            else:
                self._walk(work, payload, end, 1)
        except _Malformed:
            self._ok = False
            return bytes(box)
        merged = _merged([*self._ranges, *ranges])
        if len(merged) > _MAX_RANGES:
            self._ok = False
        else:
            self._ranges = merged
            self._fills += fills
            self._to_cover = sum(high - low for low, high in merged)
        return bytes(work)

    def _walk(self, data: bytearray, start: int, end: int, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise _Malformed("boxes nested too deep")
        for kind, at, payload, stop in _children(data, start, end):
            if kind == b"trak" and not _samples_plain(data, payload, stop):
                self._ok = False
            if kind in _CONTAINERS:
                self._walk(data, payload, stop, depth + 1)
            elif kind in _TIMES:
                _zero_times(data, payload, stop)
            elif kind in _BLANK or kind[0] == 0xA9:  # ©xyz, ©day... outside udta
                _blank(data, at, payload, stop)
            elif kind not in _LEAVES:
                self._ok = False

    def _top_meta(
        self, data: bytearray, payload: int, end: int, start: int
    ) -> tuple[list[tuple[int, int]], list[_Fill]]:
        """A top-level meta box: an image's keeps its structure, any other is blanked.

        Returns the Exif/XMP ranges after this box, and the empty EXIF/XMP to write there.
        """
        children = _image_meta_children(data, payload, end)
        if children is None:
            _blank(data, 0, payload, end)
            return [], []
        boxes = {kind: (at, p, stop) for kind, at, p, stop in children}
        for kind, at, p, stop in children:
            if kind in _HEIF_BLANK:
                _blank(data, at, p, stop)
            elif kind == b"iprp":
                self._properties(data, p, stop)
            elif kind not in _HEIF_KEEP:
                self._ok = False
        return self._item_ranges(data, boxes, start)

    def _properties(self, data: bytearray, start: int, end: int) -> None:
        for kind, _, payload, stop in _children(data, start, end):
            if kind == b"ipco":
                for prop, at, p, prop_end in _children(data, payload, stop):
                    if prop == b"udes":
                        _blank(data, at, p, prop_end)  # a user's name and description
                    elif prop not in _HEIF_PROPERTIES:
                        self._ok = False
            elif kind != b"ipma":
                self._ok = False

    def _item_ranges(
        self, data: bytearray, boxes: dict[bytes, tuple[int, int, int]], start: int
    ) -> tuple[list[tuple[int, int]], list[_Fill]]:
        """Zeroes the Exif and XMP items held in this box; returns those still to come, and
        the empty EXIF/XMP to write at the start of each."""
        if b"iinf" not in boxes:
            return [], []
        types = _item_types(data, boxes[b"iinf"][1], boxes[b"iinf"][2])
        extents = _item_extents(data, *boxes[b"iloc"][1:]) if b"iloc" in boxes else {}
        idat = boxes.get(b"idat")
        later: list[tuple[int, int]] = []
        fills: list[_Fill] = []
        for item_id, (item_type, content) in types.items():
            if item_type not in _HEIF_METADATA_ITEMS:
                self._ok = self._ok and item_type in _HEIF_IMAGE_ITEMS
                continue
            method, reference, spans = extents.get(item_id, (2, 0, []))
            if reference or method == 2 or (method == 1 and idat is None):
                self._ok = False
                continue
            if method == 1 and idat is not None:
                spans = [(start + idat[1] + offset, length) for offset, length in spans]
            for low, length in spans:
                if not length:
                    self._ok = False  # "to the end of the data": not resolved here
                    continue
                if method == 1 and idat is not None and low + length > start + idat[2]:
                    raise _Malformed("idat extent past the end of idat")
                later += self._place(data, start, low, low + length)
            fills += _empty_item(item_type, content, spans)
        # Items in this box get their empty EXIF or XMP now, later ones as they stream
        # past; one that starts before this box stays plain zeros where it was reached.
        for fill in fills:
            if fill[0] >= start:
                _overlay(data, start, fill)
        return later, [fill for fill in fills if fill[0] >= start]

    def _place(self, data: bytearray, start: int, low: int, high: int) -> list[tuple[int, int]]:
        """Zeroes the part of [low, high) inside this held box; returns the part after it."""
        end = start + len(data)
        if low < start:
            self._ok = False  # already sent on: it cannot be zeroed any more
            low = min(start, high)
        inside_low, inside_high = low, min(high, end)
        if inside_low < inside_high:
            data[inside_low - start : inside_high - start] = bytes(inside_high - inside_low)
        return [(max(low, end), high)] if high > end else []


_WEBP_NEUTRAL = b"JUNK"
_WEBP_BLANK = frozenset({b"EXIF", b"XMP "})
_WEBP_KEEP = frozenset({b"VP8 ", b"VP8L", b"ALPH", b"ANIM", b"ANMF", b"ICCP"})
_VP8X_SIZE = 10
_VP8X_EXIF_XMP = 0x08 | 0x04


class WebpFilter:
    """Streams a WebP file: EXIF and XMP chunks zeroed and renamed, VP8X flags cleared."""

    def __init__(self) -> None:
        self.cleaned = False
        self._ok = True
        self._state = "riff"
        self._head = bytearray()
        self._left = 0
        self._left_in_riff = 0

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        view = memoryview(data)
        while view:
            view = view[self._step(view, out) :]
        return bytes(out)

    def finish(self) -> bytes:
        rest = bytes(self._head)
        self._head.clear()
        complete = self._state == "chunk" and not rest and not self._left_in_riff
        self.cleaned = self._ok and complete
        return rest

    def _step(self, view: memoryview, out: bytearray) -> int:
        if self._state == "pass":
            out += view
            return len(view)
        if self._state in {"riff", "chunk", "vp8x"}:
            need = {"riff": 12, "chunk": 8, "vp8x": _VP8X_SIZE}[self._state]
            take = min(need - len(self._head), len(view))
            self._head += view[:take]
            if len(self._head) == need:
                self._header(out)
            return take
        take = min(self._left, len(view))
        out += bytes(take) if self._state == "zero" else view[:take]
        self._left -= take
        if not self._left:
            self._state = "chunk"
        return take

    def _header(self, out: bytearray) -> None:
        head = bytes(self._head)
        self._head.clear()
        if self._state == "riff":
            self._left_in_riff = int.from_bytes(head[4:8], "little") - 4
            out += head
            self._state = "chunk" if self._left_in_riff >= 0 else "pass"
            self._ok = self._state == "chunk"
            return
        if self._state == "vp8x":
            out += bytes([head[0] & ~_VP8X_EXIF_XMP & 0xFF]) + head[1:]
            self._state = "chunk"
            return
        if not self._left_in_riff:
            out += head  # bytes after the RIFF data: not part of the picture, not known
            self._state, self._ok = "pass", False
            return
        kind, size = head[:4], int.from_bytes(head[4:8], "little")
        padded = size + (size & 1)
        if 8 + padded > self._left_in_riff:
            out += head
            self._state, self._ok = "pass", False
            return
        self._left_in_riff -= 8 + padded
        self._left = padded
        if kind in _WEBP_BLANK:
            out += _WEBP_NEUTRAL + head[4:]
            self._state = "zero"
        elif kind == b"VP8X" and size == _VP8X_SIZE:
            out += head
            self._state = "vp8x"
            return
        else:
            self._ok = self._ok and kind in _WEBP_KEEP
            out += head
            self._state = "copy"
        if not self._left:
            self._state = "chunk"
