"""Phone videos, voice memos, HEIC and WebP photos lose recording time, place and device.

Every file is checked by the oracle in tests/support/media.py, written apart from the
cleaner: same boxes at the same offsets, media bytes untouched, no canary, times 0, and
mutagen or Pillow reading the result back finds no tags.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable

import pytest
from PIL import Image
from support import media

from cases.reports.cleaning import MetadataCleaner
from cases.reports.cleaning_media import IsoMediaFilter


def clean(data: bytes, block: int = 4096) -> tuple[bytes, MetadataCleaner]:
    cleaner = MetadataCleaner()
    out = b"".join(cleaner.feed(data[i : i + block]) for i in range(0, len(data), block))
    return out + cleaner.finish(), cleaner


def test_voice_memo_loses_date_encoder_place_model_and_times() -> None:
    """An M4A tagged with ©day, ©too (the iPhone), ©xyz and a model keeps its layout and
    audio bytes, and mutagen finds no tag in what comes out."""
    original = media.voice_memo()
    assert media.MODEL.encode() in original
    assert media.GPS.encode() in original

    cleaned, cleaner = clean(original)

    media.assert_same_layout(original, cleaned)
    media.assert_media_untouched(original, cleaned)
    media.assert_no_canary(cleaned)
    assert set(media.header_times(cleaned)) == {0}
    media.assert_no_mp4_tags(cleaned)
    assert (cleaner.content_type, cleaner.cleaned) == ("audio/mp4", True)


def test_iphone_mov_loses_apple_keys_udta_and_xmp_with_moov_after_mdat() -> None:
    """A MOV's moov/meta keys (ISO6709 place, make, model, software, creation date), its
    udta ©xyz and a top-level XMP uuid become free boxes of zeros; sizes are kept."""
    original = media.iphone_mov()

    cleaned, cleaner = clean(original)

    media.assert_same_layout(original, cleaned)
    media.assert_media_untouched(original, cleaned)
    media.assert_no_canary(cleaned)
    assert set(media.header_times(cleaned)) == {0}
    media.assert_no_mp4_tags(cleaned)
    assert (cleaner.content_type, cleaner.cleaned) == ("video/quicktime", True)


@pytest.mark.parametrize("where", ["mdat", "idat"])
def test_heic_exif_item_is_zeroed_where_iloc_puts_it(where: str) -> None:
    """A HEIC's Exif item (model, GPS, date) and XMP item are zeroed in mdat or idat, an
    empty EXIF or XMP at their start so readers find nothing rather than fail; the meta box
    that describes the picture, and the picture's bytes, stay as they were."""
    original, exif, xmp = media.heic(where)

    cleaned, cleaner = clean(original, 13)

    media.assert_same_layout(original, cleaned)
    media.assert_media_untouched(original, cleaned, [exif, xmp])
    media.assert_exif_item_empty(cleaned, exif)
    media.assert_xmp_item_empty(cleaned, xmp)
    media.assert_no_canary(cleaned)
    assert cleaned[: exif[0]] + cleaned[xmp[1] :] == original[: exif[0]] + original[xmp[1] :]
    assert (cleaner.content_type, cleaner.cleaned) == ("image/heic", True)


def test_heic_exif_item_it_cannot_locate_is_not_called_cleaned() -> None:
    """An Exif item built by construction method 2 (from other items) cannot be resolved:
    the file passes and is reported not cleaned."""
    original = media.heic("mdat", method=2).data

    cleaned, cleaner = clean(original)

    assert len(cleaned) == len(original)
    assert not cleaner.cleaned


def test_heic_exif_item_sent_on_before_its_meta_is_not_called_cleaned() -> None:
    """An Exif item in an mdat that comes before the meta box naming it has gone by when it
    is found: the file is stored with the same length and reported not cleaned."""
    original = media.heic("mdat before meta").data

    cleaned, cleaner = clean(original)

    assert len(cleaned) == len(original)
    assert not cleaner.cleaned


def test_version_1_times_and_a_large_size_mdat_are_handled() -> None:
    """mvhd with 64-bit times (version 1) is zeroed, and an mdat with a 64-bit size
    streams through untouched; the file is called cleaned."""
    times = struct.pack(">QQ", media.RECORDED, media.RECORDED)
    mvhd = media.full(b"mvhd", 1, 0, times, struct.pack(">IQ", 1000, 2000), bytes(80))
    ftyp = media.box(b"ftyp", b"isom", bytes(4), b"isom")
    mdat = struct.pack(">I4sQ", 1, b"mdat", 16 + len(media.MEDIA)) + media.MEDIA
    original = ftyp + media.box(b"moov", mvhd) + mdat

    cleaned, cleaner = clean(original, 11)

    assert media.header_times(original) == [media.RECORDED, media.RECORDED]
    assert media.header_times(cleaned) == [0, 0]
    assert cleaned[-len(mdat) :] == mdat
    assert cleaner.cleaned


def test_webp_loses_exif_and_xmp_and_decodes_to_the_same_pixels() -> None:
    """WebP's EXIF and XMP chunks become zeroed JUNK chunks and VP8X loses their flags;
    Pillow finds no EXIF and decodes the same pixels."""
    original, image = media.webp_with_exif_and_xmp()

    cleaned, cleaner = clean(original, 5)

    assert len(cleaned) == len(original)
    media.assert_no_canary(cleaned)
    assert b"EXIF" not in cleaned
    assert b"XMP " not in cleaned
    assert cleaned[20] & 0x0C == 0  # VP8X flags: no EXIF, no XMP
    decoded = Image.open(io.BytesIO(cleaned))
    decoded.load()
    assert not decoded.getexif()
    assert "xmp" not in decoded.info
    assert decoded.convert("RGB").tobytes() == image.tobytes()
    assert (cleaner.content_type, cleaner.cleaned) == ("image/webp", True)


def _all_files() -> list[bytes]:
    return [
        media.voice_memo(),
        media.iphone_mov(),
        media.heic("mdat")[0],
        media.heic("idat")[0],
        media.webp_with_exif_and_xmp()[0],
    ]


def test_every_block_size_gives_the_same_output() -> None:
    """Fed in blocks of 1 to 300 bytes or in one block, each file comes out the same."""
    for original in _all_files():
        whole, _ = clean(original, len(original))
        for block in range(1, 301):
            out, cleaner = clean(original, block)

            assert out == whole, block
            assert cleaner.cleaned


def test_moov_after_a_large_mdat_streams_within_a_bounded_buffer() -> None:
    """With 4 MiB of mdat before moov, nothing but the moov box is ever held."""
    original = media.plain_mp4(b"qt  ", media=bytes(4 * 1024 * 1024))
    ftyp_end = struct.unpack(">I", original[:4])[0]
    moov_size = struct.unpack(">I", original[ftyp_end : ftyp_end + 4])[0]
    moov = original[ftyp_end : ftyp_end + moov_size]
    moved = original[:ftyp_end] + original[ftyp_end + moov_size :] + moov
    cleaner = IsoMediaFilter()

    out = b"".join(cleaner.feed(moved[i : i + 65536]) for i in range(0, len(moved), 65536))
    out += cleaner.finish()

    assert len(out) == len(moved)
    assert out[: -len(moov)] == moved[: -len(moov)]
    assert cleaner.peak_buffer <= len(moov)
    assert cleaner.cleaned


def test_moov_over_the_cap_passes_unchanged_and_is_not_called_cleaned() -> None:
    """A moov larger than the cap is never held: it passes as sent, not cleaned."""
    original = media.voice_memo()
    cleaner = IsoMediaFilter(box_cap=64)

    out = b"".join(cleaner.feed(original[i : i + 7]) for i in range(0, len(original), 7))
    out += cleaner.finish()

    assert out == original
    assert cleaner.peak_buffer <= 16
    assert not cleaner.cleaned


def _top_boxes(data: bytes) -> list[int]:
    ends, at = [], 0
    while at < len(data):
        at += struct.unpack(">I", data[at : at + 4])[0]
        ends.append(at)
    return ends


@pytest.mark.parametrize("build", [media.voice_memo, lambda: media.heic()[0]], ids=["m4a", "heic"])
def test_truncated_files_never_raise_lose_no_byte_and_are_not_called_cleaned(
    build: Callable[[], bytes],
) -> None:
    """A file cut anywhere comes out at the same length, never called cleaned (unless cut
    between boxes); cut inside its first held box, it comes out exactly as sent."""
    original = build()
    ends = _top_boxes(original)
    first_held = ends[1]  # ftyp, then moov or meta
    for cut in range(len(original)):
        part = original[:cut]

        out, cleaner = clean(part, 97)

        assert len(out) == cut
        if cut not in ends:
            assert not cleaner.cleaned, cut
        if cut < first_held:
            assert out == part, cut


def test_truncated_webp_never_raises_loses_no_byte_and_is_not_called_cleaned() -> None:
    """A WebP cut anywhere comes out at the same length and is not called cleaned."""
    original, _ = media.webp_with_exif_and_xmp()
    for cut in range(len(original)):
        out, cleaner = clean(original[:cut], 7)

        assert len(out) == cut
        assert not cleaner.cleaned, cut


def _malformed() -> dict[str, bytes]:
    ftyp = media.box(b"ftyp", b"mp42", bytes(4), b"mp42")
    udta = media.box(b"udta", media.box(b"\xa9xyz", media.GPS.encode()))
    deep = udta
    for _ in range(20):
        deep = media.box(b"trak", deep)
    return {
        "size past the end": ftyp + struct.pack(">I4s", 4096, b"moov") + udta,
        "size 0 inside moov": ftyp + media.box(b"moov", struct.pack(">I4s", 0, b"udta"), udta),
        "size 1 with a short large size": ftyp + struct.pack(">I4sQ", 1, b"moov", 8) + udta,
        "size below a header": ftyp + struct.pack(">I4s", 3, b"moov") + udta,
        "size 0 at the top, not mdat": ftyp + struct.pack(">I4s", 0, b"moov") + udta,
        "nested past the limit": ftyp + media.box(b"moov", deep),
        "child past its parent": ftyp + media.box(b"moov", udta[:-3]),
    }


@pytest.mark.parametrize("name", list(_malformed()))
def test_malformed_files_pass_unchanged_and_are_not_called_cleaned(name: str) -> None:
    """Impossible sizes or too deep nesting: no error, the bytes as sent, not cleaned."""
    original = _malformed()[name]

    for block in (1, 5, len(original)):
        out, cleaner = clean(original, block)

        assert out == original
        assert not cleaner.cleaned


def test_webp_with_a_chunk_past_the_riff_end_passes_unchanged() -> None:
    """A WebP whose chunk claims more bytes than the file has passes as sent, not cleaned."""
    original, _ = media.webp_with_exif_and_xmp()
    broken = original[:12] + b"EXIF" + struct.pack("<I", 1 << 20) + original[20:]

    out, cleaner = clean(broken, 3)

    assert out == broken
    assert not cleaner.cleaned


def test_unknown_box_in_moov_is_still_neutralised_but_not_called_cleaned() -> None:
    """A box the cleaner does not know makes it say "not cleaned", while the metadata it
    knows is still zeroed."""
    original = media.plain_mp4(
        extra=media.box(b"udta", media.box(b"\xa9xyz", media.GPS.encode()))
        + media.box(b"Xyzw", b"who knows")
    )

    out, cleaner = clean(original)

    assert media.GPS.encode() not in out
    assert not cleaner.cleaned


@pytest.mark.parametrize(
    ("handler", "entry", "cleaned"),
    [
        (b"meta", media.box(b"gpmd", bytes(6), struct.pack(">H", 1)), False),
        (b"meta", media.mebx("com.apple.quicktime.location.ISO6709"), False),
        (b"tmcd", media.box(b"tmcd", bytes(6), struct.pack(">H", 1)), False),
        (b"sbtl", media.box(b"tx3g", bytes(6), struct.pack(">H", 1)), False),
        (b"meta", media.mebx("com.apple.quicktime.video-orientation"), True),
    ],
    ids=["gps telemetry", "timed location", "timecode", "subtitles", "apple orientation"],
)
def test_tracks_whose_samples_may_hold_place_or_time_are_not_called_cleaned(
    handler: bytes, entry: bytes, cleaned: bool
) -> None:
    """A GPS telemetry track (gpmd), timed location keys, timecode or subtitles keep their
    samples in mdat, which is not read: such a file is not called cleaned. Apple's
    orientation track carries nothing of the kind."""
    original = media.plain_mp4(b"qt  ", handler=handler, entry=entry)

    out, cleaner = clean(original)

    assert set(media.header_times(out)) == {0}
    assert cleaner.cleaned is cleaned


@pytest.mark.parametrize(
    ("build", "kind"),
    [
        (lambda: media.plain_mp4(b"isom"), "video/mp4"),
        (lambda: media.plain_mp4(b"M4A "), "audio/mp4"),
        (lambda: media.plain_mp4(b"qt  "), "video/quicktime"),
        (lambda: media.heic()[0], "image/heic"),
        (lambda: media.heic()[0].replace(b"heic", b"avif", 1), "image/avif"),
        (lambda: media.webp_with_exif_and_xmp()[0], "image/webp"),
        (lambda: media.iphone_mov()[20:], "video/quicktime"),
    ],
    ids=["mp4", "m4a", "mov", "heic", "avif", "webp", "mov without ftyp"],
)
def test_media_types_are_told_by_their_bytes(build: Callable[[], bytes], kind: str) -> None:
    """The type comes from the first box or the RIFF header, as a file name is not seen."""
    _, cleaner = clean(build())

    assert cleaner.content_type == kind
