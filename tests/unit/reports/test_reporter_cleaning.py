"""Streaming metadata removal: JPEG and PNG lose EXIF, GPS and text, and still open."""

from __future__ import annotations

import io
import zlib

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from cases.reports.cleaning import MetadataCleaner

GPS_IFD = 0x8825


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (32, 24), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "CanaryCam"  # Make
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=b"secret comment")
    return out.getvalue()


def png_with_text() -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Canary Person")
    info.add_itxt("Comment", "秘密", lang="zh")
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 128, 0)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def clean(data: bytes, block: int) -> tuple[bytes, MetadataCleaner]:
    cleaner = MetadataCleaner()
    out = b"".join(cleaner.feed(data[i : i + block]) for i in range(0, len(data), block))
    return out + cleaner.finish(), cleaner


def test_jpeg_loses_exif_gps_and_comment_and_still_opens() -> None:
    """A JPEG with GPS EXIF and a comment comes out without them, and Pillow still reads it."""
    original = jpeg_with_gps()

    cleaned, cleaner = clean(original, 7)

    assert b"CanaryCam" in original
    assert b"CanaryCam" not in cleaned
    assert b"Exif" not in cleaned
    assert b"secret comment" not in cleaned
    image = Image.open(io.BytesIO(cleaned))
    image.load()
    assert image.size == (32, 24)
    assert not image.getexif()
    assert cleaner.cleaned


def test_png_loses_text_chunks_and_still_opens() -> None:
    """A PNG with tEXt and iTXt chunks comes out without them and still decodes."""
    original = png_with_text()

    cleaned, cleaner = clean(original, 5)

    assert b"Canary Person" in original
    assert b"tEXt" not in cleaned
    assert b"iTXt" not in cleaned
    image = Image.open(io.BytesIO(cleaned))
    image.load()
    assert image.size == (8, 8)
    assert cleaner.content_type == "image/png"


def test_other_types_pass_unchanged_and_are_not_called_cleaned() -> None:
    """A PDF is stored byte for byte as sent, and the cleaner says it did not clean it."""
    pdf = b"%PDF-1.7\n/Author (Canary)\n" + bytes(range(256)) * 4

    out, cleaner = clean(pdf, 3)

    assert out == pdf
    assert cleaner.content_type == "application/pdf"
    assert not cleaner.cleaned


def test_type_is_told_by_bytes_not_name() -> None:
    """Fewer bytes than a signature still come out intact, typed as generic."""
    out, cleaner = clean(b"\xff\xd8", 1)

    assert out == b"\xff\xd8"
    assert cleaner.content_type == "application/octet-stream"


def test_png_chunk_crc_is_kept_intact() -> None:
    """Kept PNG chunks are copied whole, CRC included."""
    original = png_with_text()

    cleaned, _ = clean(original, 4096)

    idat = cleaned.index(b"IDAT")
    length = int.from_bytes(cleaned[idat - 4 : idat], "big")
    body = cleaned[idat : idat + 4 + length]
    crc = int.from_bytes(cleaned[idat + 4 + length : idat + 8 + length], "big")
    assert zlib.crc32(body) == crc


@settings(max_examples=50, deadline=None)
@given(block=st.integers(min_value=1, max_value=4096))
def test_any_block_size_gives_the_same_output(block: int) -> None:
    """How the bytes are split into blocks never changes the cleaned file."""
    original = jpeg_with_gps()

    whole, _ = clean(original, len(original))
    pieces, _ = clean(original, block)

    assert pieces == whole
