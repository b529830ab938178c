"""Metadata that identifies the reporter does not reach staff: files and names as staff get them.

Each crafted file is uploaded by a reporter through the API and downloaded back by the
investigator through the staff endpoint; the canary it carried must be gone.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from typing import Any

import pikepdf
import pytest
from PIL import Image
from sqlalchemy.orm import sessionmaker
from support import crafted, media
from support.arrivals import list_arrivals
from support.staff_http import app_world

from cases.reports.cleaning import MetadataCleaner

CANARY = crafted.CANARY.encode()


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    """An investigator and a case filed to them; the reporter's receipt."""
    with app_world(app, app_db) as made:
        clock = made.clock
        ana = made.staff("ana@example.com")
        filed = made.file()
    return {"clock": clock, "ana": ana, "case": filed.case.id, "receipt": filed.receipt.formatted()}


def staff_auth(client: Any, world: dict[str, Any]) -> dict[str, str]:
    ana, clock = world["ana"], world["clock"]
    body = {"email": ana.account.email, "password": ana.password, "totp": ana.code(clock)}
    answer = client.post("/api/v1/staff/session", json=body)
    assert answer.status_code == 200, answer.text
    clock.advance(seconds=30)
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def reporter_upload(
    client: Any, world: dict[str, Any], name: str, data: bytes, keep: str | None = None
) -> str:
    """Logs in with the receipt and adds one file; returns its id."""
    session = client.post("/api/v1/reporter/session", json={"receipt": world["receipt"]})
    auth = {"Authorization": f"Bearer {session.json()['token']}"}
    fields = {"keep_names": keep} if keep else None
    answer = client.post(
        "/api/v1/reporter/attachments", headers=auth, data=fields, files={"file": (name, data)}
    )
    assert answer.status_code == 201, answer.text
    assert isinstance(answer.json()["metadata_removed"], bool)
    # Staff see it once the jobs round has listed it at the next full hour (arrivals.py).
    list_arrivals(client.app.state.db, getattr(client.app.state, "clock", None))
    file_id: str = answer.json()["id"]
    return file_id


def staff_download(
    client: Any, world: dict[str, Any], file_id: str
) -> tuple[dict[str, Any], bytes]:
    """The file's entry in the case JSON and its bytes, as the investigator gets them."""
    auth = staff_auth(client, world)
    case = client.get(f"/api/v1/cases/{world['case']}", headers=auth).json()
    [entry] = [f for f in case["attachments"] if f["id"] == file_id]
    download = client.get(f"/api/v1/cases/{world['case']}/attachments/{file_id}", headers=auth)
    assert download.status_code == 200
    return entry, download.content


def test_png_private_and_c2pa_chunks_do_not_reach_staff(client: Any, world: dict[str, Any]) -> None:
    """A PNG's private chunk and its C2PA (caBX) chunk are dropped; the image still opens."""
    original = crafted.png_with_private_chunks()
    assert CANARY in original

    entry, data = staff_download(client, world, reporter_upload(client, world, "a.png", original))

    assert CANARY not in data
    assert Image.open(io.BytesIO(data)).size == (4, 4)
    assert entry["metadata_removed"] is True


def test_jpeg_exif_gps_and_app13_xmp_do_not_reach_staff(client: Any, world: dict[str, Any]) -> None:
    """A JPEG's APP1 EXIF with GPS, its APP13 XMP and a JFXX APP0 are dropped; it still opens."""
    original = crafted.jpeg_with_exif_and_xmp()
    assert CANARY in original

    entry, data = staff_download(client, world, reporter_upload(client, world, "b.jpg", original))

    assert CANARY not in data
    image = Image.open(io.BytesIO(data))
    image.load()
    assert not image.getexif()
    assert entry["metadata_removed"] is True


def test_pdf_author_creator_and_xmp_do_not_reach_staff(client: Any, world: dict[str, Any]) -> None:
    """A PDF's /Author, /Creator and XMP metadata are removed; the page is still there."""
    original = crafted.pdf_with_author_and_xmp()
    assert CANARY in original

    entry, data = staff_download(client, world, reporter_upload(client, world, "c.pdf", original))

    assert CANARY not in data
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) == 1
        assert "/Info" not in pdf.trailer
        assert "/Metadata" not in pdf.Root
    assert entry["metadata_removed"] is True


def test_docx_creator_in_core_xml_does_not_reach_staff(client: Any, world: dict[str, Any]) -> None:
    """A DOCX loses docProps core, app and custom parts (and their references); text stays."""
    original = crafted.docx_with_creator()

    entry, data = staff_download(client, world, reporter_upload(client, world, "d.docx", original))

    with zipfile.ZipFile(io.BytesIO(data)) as docx:
        parts = {name: docx.read(name) for name in docx.namelist()}
        times = {info.date_time for info in docx.infolist()}
    assert not any(CANARY in body for body in parts.values())
    assert not any(name.startswith("docProps/") for name in parts)
    assert b"docProps" not in parts["_rels/.rels"] + parts["[Content_Types].xml"]
    assert b"Ledger attached." in parts["word/document.xml"]
    assert times == {(1980, 1, 1, 0, 0, 0)}
    assert entry["metadata_removed"] is True


@pytest.mark.parametrize(
    ("name", "build"),
    [("memo.m4a", media.voice_memo), ("clip.mov", media.iphone_mov)],
)
def test_voice_memo_and_video_recording_time_place_and_device_do_not_reach_staff(
    client: Any, world: dict[str, Any], name: str, build: Any
) -> None:
    """An M4A (©day, ©too naming the iPhone, ©xyz) and a MOV (Apple's location, model and
    creation date keys, XMP) reach staff with none of it, same size, times 0, no tags."""
    original = build()

    entry, data = staff_download(client, world, reporter_upload(client, world, name, original))

    media.assert_no_canary(data)
    media.assert_same_layout(original, data)
    media.assert_media_untouched(original, data)
    assert set(media.header_times(data)) == {0}
    media.assert_no_mp4_tags(data)
    assert entry["metadata_removed"] is True


def test_heic_and_webp_photo_exif_does_not_reach_staff(client: Any, world: dict[str, Any]) -> None:
    """A HEIC's Exif and XMP items are emptied in place (model, GPS, date gone, the picture
    intact) and a WebP's EXIF and XMP are gone while it still decodes; both marked cleaned."""
    heic, exif, xmp = media.heic()
    webp, image = media.webp_with_exif_and_xmp()

    heic_entry, heic_data = staff_download(
        client, world, reporter_upload(client, world, "IMG_0001.HEIC", heic)
    )
    webp_entry, webp_data = staff_download(
        client, world, reporter_upload(client, world, "photo.webp", webp)
    )

    media.assert_no_canary(heic_data)
    media.assert_exif_item_empty(heic_data, exif)
    media.assert_xmp_item_empty(heic_data, xmp)
    media.assert_media_untouched(heic, heic_data, [exif, xmp])
    media.assert_no_canary(webp_data)
    decoded = Image.open(io.BytesIO(webp_data))
    assert not decoded.getexif()
    assert decoded.convert("RGB").tobytes() == image.tobytes()
    assert heic_entry["metadata_removed"] is webp_entry["metadata_removed"] is True


def test_pdf_over_the_cleaning_limit_is_marked_metadata_not_removed(
    app: Any, client: Any, world: dict[str, Any]
) -> None:
    """A PDF larger than PORTAL_CLEAN_MAX_MB is stored as sent, and staff are told so."""
    settings = app.state.settings
    app.state.settings = replace(settings, limits=replace(settings.limits, clean_max_bytes=100))
    original = crafted.pdf_with_author_and_xmp()

    entry, data = staff_download(client, world, reporter_upload(client, world, "e.pdf", original))

    assert data == original
    assert entry["metadata_removed"] is False


def test_original_file_name_does_not_reach_staff(client: Any, world: dict[str, Any]) -> None:
    """A file name reaches staff as "evidence-<n>" (n across the case) unless the reporter
    keeps names: "jsmith_holiday.JPG" becomes "evidence-1.jpg"."""
    photo = crafted.jpeg_with_exif_and_xmp()

    first, _ = staff_download(
        client, world, reporter_upload(client, world, "jsmith_holiday.JPG", photo)
    )
    second, _ = staff_download(client, world, reporter_upload(client, world, "jsmith 2", photo))
    kept, _ = staff_download(
        client, world, reporter_upload(client, world, "jsmith_holiday.jpg", photo, keep="yes")
    )

    assert first["name"] == "evidence-1.jpg"
    assert second["name"] == "evidence-2"
    assert kept["name"] == "jsmith_holiday.jpg"


def _through_cleaner(data: bytes, max_document_bytes: int = 1024 * 1024) -> tuple[bytes, bool]:
    cleaner = MetadataCleaner(max_document_bytes)
    step = 4096
    out = b"".join(cleaner.feed(data[i : i + step]) for i in range(0, len(data), step))
    return out + cleaner.finish(), cleaner.cleaned


def test_unreadable_pdf_is_kept_as_sent_and_marked_not_cleaned() -> None:
    """A file that only looks like a PDF is stored byte for byte, never reported as cleaned."""
    data = b"%PDF-1.7 not really a pdf " + CANARY

    out, cleaned = _through_cleaner(data)

    assert (out, cleaned) == (data, False)


def test_zip_bomb_is_not_expanded_by_the_cleaner() -> None:
    """A zip claiming to expand more than 20-fold is not unpacked: kept as sent, not cleaned."""
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("docProps/core.xml", CANARY)
        archive.writestr("word/zeros.bin", bytes(32 * 1024 * 1024))
    data = bomb.getvalue()

    out, cleaned = _through_cleaner(data)

    assert (out == data, cleaned) == (True, False)


def test_plain_zip_is_not_reported_as_cleaned() -> None:
    """A zip that is not an Office file passes unchanged and is not called cleaned."""
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("notes/jsmith.txt", CANARY)

    out, cleaned = _through_cleaner(plain.getvalue())

    assert (out == plain.getvalue(), cleaned) == (True, False)
