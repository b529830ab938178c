"""Phone-style media files carrying identifying metadata, and an oracle that reads them back.

The builders make what a phone writes: an M4A/MP4 tagged by mutagen (recording date,
encoder naming the iPhone, GPS), a QuickTime MOV with Apple's keys/ilst metadata, a HEIC
whose Exif item lies in mdat, and WebP saved by Pillow with EXIF and XMP. The oracle is a
plain box walker written apart from the cleaner: it checks that boxes keep their offsets
and sizes, that media bytes are untouched, that no canary is left and that times are 0.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable
from typing import NamedTuple
from xml.etree import ElementTree

from mutagen.mp4 import MP4, MP4FreeForm
from PIL import Image

MODEL = "iPhone 15 Pro"
ENCODER = "com.apple.VoiceMemos (iPhone Version 17.1)"
GPS = "+31.2304+121.4737+004.000/"
WHEN = "2026-11-28T14:03:00+0800"
EXIF_WHEN = "2026:11:28 14:03:00"
XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Model="iPhone 15 Pro"/>'
    "</rdf:RDF></x:xmpmeta>"
)
CANARIES = (MODEL, ENCODER, GPS, WHEN, EXIF_WHEN, "tiff:Model", "Apple", "31.2304")
# 2026-11-28 as seconds since 1904, the epoch of mvhd/tkhd/mdhd.
RECORDED = 3_847_327_380
MEDIA = bytes(range(256)) * 8

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"dinf", b"udta", b"iprp", b"ipco"}


def box(kind: bytes, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return box(kind, struct.pack(">I", version << 24 | flags), *parts)


def _moov(chunk_offset: int, handler: bytes, extra: bytes = b"", entry: bytes = b"") -> bytes:
    times = struct.pack(">II", RECORDED, RECORDED + 60)
    mvhd = full(b"mvhd", 0, 0, times, struct.pack(">II", 1000, 2000), bytes(80))
    tkhd = full(b"tkhd", 0, 3, times, struct.pack(">IIII", 1, 0, 2000, 0), bytes(60))
    mdhd = full(b"mdhd", 0, 0, times, struct.pack(">IIHH", 44100, 88200, 0x55C4, 0))
    hdlr = full(b"hdlr", 0, 0, bytes(4), handler, bytes(12), b"Core Media Audio\x00")
    esds = full(b"esds", 0, 0, bytes.fromhex("03190000000411401500000000000000000000000502121006"))
    mp4a = box(
        b"mp4a",
        bytes(6),
        struct.pack(">H", 1),  # data reference index
        bytes(8),
        struct.pack(">HHHHI", 2, 16, 0, 0, 44100 << 16),  # channels, bits, rate
        esds,
    )
    stbl = box(
        b"stbl",
        full(b"stsd", 0, 0, struct.pack(">I", 1), entry or mp4a),
        full(b"stts", 0, 0, struct.pack(">III", 1, 2, 1024)),
        full(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, 2, 1)),
        full(b"stsz", 0, 0, struct.pack(">IIII", 0, 2, len(MEDIA) // 2, len(MEDIA) // 2)),
        full(b"stco", 0, 0, struct.pack(">II", 1, chunk_offset)),
    )
    dinf = box(b"dinf", full(b"dref", 0, 0, struct.pack(">I", 1), full(b"url ", 0, 1)))
    minf = box(b"minf", full(b"smhd", 0, 0, bytes(4)), dinf, stbl)
    trak = box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, minf))
    return box(b"moov", mvhd, trak, extra)


def plain_mp4(
    brand: bytes = b"M4A ",
    extra: bytes = b"",
    media: bytes = MEDIA,
    handler: bytes = b"soun",
    entry: bytes = b"",
) -> bytes:
    """ftyp, moov (mvhd, one trak, sound unless told, with its sample table) and mdat,
    times set; `entry` replaces the mp4a sample entry."""
    ftyp = box(b"ftyp", brand, struct.pack(">I", 0), brand, b"isom")
    size = len(ftyp) + len(_moov(0, handler, extra, entry))
    return ftyp + _moov(size + 8, handler, extra, entry) + box(b"mdat", media)


def mebx(*keys: str) -> bytes:
    """Apple's timed metadata sample entry naming its keys."""
    named = b"".join(
        box(struct.pack(">I", i), box(b"keyd", b"mdta", key.encode()))
        for i, key in enumerate(keys, start=1)
    )
    return box(b"mebx", bytes(6), struct.pack(">H", 1), box(b"keys", named))


def voice_memo() -> bytes:
    """An M4A as a phone's recorder leaves it: mutagen writes date, encoder, GPS, model."""
    data = io.BytesIO(plain_mp4())
    tags = MP4(data)
    data.seek(0)
    tags["\xa9day"] = [WHEN]
    tags["\xa9too"] = [ENCODER]
    tags["\xa9xyz"] = [GPS]
    tags["----:com.apple.quicktime:model"] = [MP4FreeForm(MODEL.encode())]
    tags.save(data)
    return data.getvalue()


def _keys_meta(entries: dict[str, str]) -> bytes:
    keys = b"".join(box(b"mdta", name.encode()) for name in entries)
    ilst = b"".join(
        box(
            struct.pack(">I", index),
            box(b"data", struct.pack(">II", 1, 0), value.encode()),
        )
        for index, value in enumerate(entries.values(), start=1)
    )
    return box(
        b"meta",
        full(b"hdlr", 0, 0, bytes(4), b"mdta", bytes(12), b"\x00"),
        full(b"keys", 0, 0, struct.pack(">I", len(entries)), keys),
        box(b"ilst", ilst),
    )


def iphone_mov() -> bytes:
    """A QuickTime MOV with Apple's moov/meta keys (place, make, model, software, date),
    a udta with ©xyz, and an XMP uuid box at the top level; moov after a large mdat."""
    apple = _keys_meta(
        {
            "com.apple.quicktime.location.ISO6709": GPS,
            "com.apple.quicktime.make": "Apple",
            "com.apple.quicktime.model": MODEL,
            "com.apple.quicktime.software": "17.1",
            "com.apple.quicktime.creationdate": WHEN,
        }
    )
    udta = box(b"udta", box(b"\xa9xyz", struct.pack(">HH", len(GPS), 0x15C7), GPS.encode()))
    ftyp = box(b"ftyp", b"qt  ", struct.pack(">I", 0), b"qt  ")
    mdat = box(b"mdat", MEDIA)
    xmp = box(b"uuid", bytes.fromhex("be7acfcb97a942e89c71999491e3afac"), XMP.encode())
    moov = _moov(len(ftyp) + 8, b"soun", apple + udta)
    return ftyp + mdat + moov + xmp


def exif_payload() -> bytes:
    """An Exif item's bytes: the 4-byte TIFF header offset, then EXIF naming the phone."""
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    exif[0x0110] = MODEL
    exif[0x0132] = EXIF_WHEN
    exif.get_ifd(0x8825).update({1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)})
    exif.get_ifd(0x8825)[0x1B] = b"ASCII\x00\x00\x0031.2304 121.4737"
    return struct.pack(">I", 6) + exif.tobytes()


class Heic(NamedTuple):
    data: bytes
    exif: tuple[int, int]  # the Exif item's absolute range
    xmp: tuple[int, int]  # the XMP (mime) item's


def heic(where: str = "mdat", method: int | None = None) -> Heic:
    """A HEIC: meta (hdlr pict, pitm, iinf with an hvc1, an Exif and an XMP mime item,
    iloc, iprp) and mdat; the Exif and XMP items in "mdat", "idat" or "mdat before meta";
    `method` overrides their iloc construction method."""
    picture = b"\x00\x00\x00\x10" + MEDIA[:200]
    exif, xmp = exif_payload(), XMP.encode()

    def layout(exif_at: int, picture_at: int) -> bytes:
        in_idat = where == "idat"
        construction = (1 if in_idat else 0) if method is None else method
        iloc = full(
            b"iloc",
            1,
            0,
            struct.pack(">BBH", 0x44, 0x00, 3),
            struct.pack(">HHHHII", 1, 0, 0, 1, picture_at, len(picture)),
            struct.pack(">HHHHII", 2, construction, 0, 1, exif_at, len(exif)),
            struct.pack(">HHHHII", 3, construction, 0, 1, exif_at + len(exif), len(xmp)),
        )
        iinf = full(
            b"iinf",
            0,
            0,
            struct.pack(">H", 3),
            full(b"infe", 2, 0, struct.pack(">HH", 1, 0), b"hvc1", b"\x00"),
            full(b"infe", 2, 0, struct.pack(">HH", 2, 0), b"Exif", b"\x00"),
            full(b"infe", 2, 0, struct.pack(">HH", 3, 0), b"mime", b"\x00application/rdf+xml\x00"),
        )
        ipco = box(b"ipco", full(b"ispe", 0, 0, struct.pack(">II", 64, 48)))
        ipma = full(b"ipma", 0, 0, struct.pack(">IHBB", 1, 1, 1, 0x81))
        parts = [
            full(b"hdlr", 0, 0, bytes(4), b"pict", bytes(12), b"\x00"),
            full(b"pitm", 0, 0, struct.pack(">H", 1)),
            iinf,
            full(b"iref", 0, 0, box(b"cdsc", struct.pack(">HHHH", 2, 2, 1, 3))),
            iloc,
            box(b"iprp", ipco, ipma),
        ]
        if in_idat:
            parts.append(box(b"idat", exif, xmp))
        return full(b"meta", 0, 0, *parts)

    def made(data: bytes, start: int) -> Heic:
        middle = start + len(exif)
        return Heic(data, (start, middle), (middle, middle + len(xmp)))

    ftyp = box(b"ftyp", b"heic", struct.pack(">I", 0), b"mif1heic")
    meta_size = len(layout(0, 0))
    mdat_payload = len(ftyp) + meta_size + 8
    if where == "idat":
        meta = layout(0, mdat_payload)
        return made(ftyp + meta + box(b"mdat", picture), mdat_payload - 8 - len(exif + xmp))
    if where == "mdat before meta":
        start = len(ftyp) + 8 + len(picture)
        meta = layout(start, len(ftyp) + 8)
        return made(ftyp + box(b"mdat", picture, exif, xmp) + meta, start)
    start = mdat_payload + len(picture)
    return made(ftyp + layout(start, mdat_payload) + box(b"mdat", picture, exif, xmp), start)


def webp_with_exif_and_xmp() -> tuple[bytes, Image.Image]:
    """A WebP saved by Pillow with EXIF (model, GPS, date) and XMP; and its image."""
    image = Image.new("RGB", (16, 12), (30, 90, 200))
    exif = Image.Exif()
    exif[0x0110] = MODEL
    exif[0x0132] = EXIF_WHEN
    exif.get_ifd(0x8825).update({1: "N", 2: (31.0, 14.0, 0.0)})
    out = io.BytesIO()
    image.save(out, "WEBP", lossless=True, exif=exif.tobytes(), xmp=XMP.encode())
    return out.getvalue(), image


def boxes(data: bytes, start: int = 0, end: int | None = None) -> dict[int, tuple[int, bytes]]:
    """Offset to (size, type) of every box, walking into containers and meta boxes."""
    end = len(data) if end is None else end
    found: dict[int, tuple[int, bytes]] = {}
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, at + 8)[0], 16
        elif size == 0:
            size = end - at
        assert size >= header, f"box {kind!r} at {at} smaller than its header"
        assert at + size <= end, f"box {kind!r} at {at} past its parent"
        found[at] = (size, kind)
        inner = at + header
        if kind == b"meta":
            inner += 4 if data[inner : inner + 4] == b"\x00\x00\x00\x00" else 0
            found.update(boxes(data, inner, at + size))
        elif kind in CONTAINERS:
            found.update(boxes(data, inner, at + size))
        at += size
    assert at == end, "boxes do not fill their parent"
    return found


def assert_same_layout(original: bytes, cleaned: bytes) -> None:
    """Same length; every box of the cleaned file sits where it was, with its size; boxes
    gone from the walk are inside one that became free; no new type appears but free."""
    assert len(cleaned) == len(original)
    before, after = boxes(original), boxes(cleaned)
    for offset, (size, kind) in after.items():
        assert before[offset][0] == size
        assert kind in {before[offset][1], b"free"}
    freed = [(o, o + s) for o, (s, k) in after.items() if k == b"free" and before[o][1] != k]
    for offset in before.keys() - after.keys():
        assert any(low < offset < high for low, high in freed)
    assert {k for _, k in after.values()} <= {k for _, k in before.values()} | {b"free"}


def mdat_payloads(data: bytes) -> list[tuple[int, bytes]]:
    return [
        (offset + 8, data[offset + 8 : offset + size])
        for offset, (size, kind) in boxes(data).items()
        if kind == b"mdat"
    ]


def assert_media_untouched(
    original: bytes, cleaned: bytes, cleared: Iterable[tuple[int, int]] = ()
) -> None:
    """mdat bytes are identical outside the given absolute ranges (checked elsewhere)."""
    ranges = list(cleared)
    for (offset, before), (_, after) in zip(
        mdat_payloads(original), mdat_payloads(cleaned), strict=True
    ):
        keep, got = bytearray(before), bytearray(after)
        for low, high in ranges:
            a, b = max(low, offset), min(high, offset + len(before))
            if a < b:
                keep[a - offset : b - offset] = got[a - offset : b - offset] = bytes(b - a)
        assert got == keep


def assert_exif_item_empty(data: bytes, where: tuple[int, int]) -> None:
    """The Exif item's bytes read as an EXIF with no tag, and nothing else is left in them:
    past the TIFF header and its empty first IFD, every byte is zero."""
    low, high = where
    offset = int.from_bytes(data[low : low + 4], "big")
    tiff = data[low + 4 + offset : high]
    exif = Image.Exif()
    exif.load(tiff)
    assert not dict(exif)
    first_ifd = int.from_bytes(tiff[4:8], "big" if tiff[:2] == b"MM" else "little")
    assert tiff[first_ifd : first_ifd + 2] == b"\x00\x00"  # no entries
    assert not any(tiff[first_ifd + 6 :])
    assert not any(data[low : low + 4 + offset])


def assert_xmp_item_empty(data: bytes, where: tuple[int, int]) -> None:
    """The XMP item's bytes are nothing but zeros, spaces and an XMP root with nothing in it."""
    text = data[where[0] : where[1]].rstrip(b"\x00 ")
    if text:
        root = ElementTree.fromstring(text)  # noqa: S314 - our own cleaner's output
        assert (len(root), root.attrib, root.text) == (0, {}, None)


def assert_no_canary(data: bytes) -> None:
    for canary in (*CANARIES, XMP):
        assert canary.encode() not in data, canary
    assert b"rdf:RDF" not in data  # an empty XMP root may stay, never its content


def header_times(data: bytes) -> list[int]:
    """Creation and modification times of every mvhd, tkhd and mdhd."""
    times: list[int] = []
    for offset, (_, kind) in boxes(data).items():
        if kind in {b"mvhd", b"tkhd", b"mdhd"}:
            version = data[offset + 8]
            fmt = ">QQ" if version == 1 else ">II"
            times += struct.unpack_from(fmt, data, offset + 12)
    return times


def assert_no_mp4_tags(data: bytes) -> None:
    """mutagen, reading the file back, finds no tags (and still reads it as MP4)."""
    tags = MP4(io.BytesIO(data)).tags
    assert not tags, tags
