"""An investigator who asks the reporter for "the Word file with the photos" learns nothing
about the reporter from what is inside it: a photo's EXIF and GPS, the names on comments and
tracked changes (and when they were made), the account a comment was written under. A part
the cleaner cannot clean makes the file "metadata not removed", never a false "removed"."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from PIL import Image
from sqlalchemy.orm import sessionmaker
from support import crafted
from support.arrivals import list_arrivals
from support.staff_http import app_world

CANARY = crafted.CANARY
WHEN = "2026-03-01T09:12:00Z"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W15 = "http://schemas.microsoft.com/office/word/2012/wordml"
DOC = "application/vnd.openxmlformats-officedocument."


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    """Hana, the investigator, and a case filed to her; the reporter's receipt."""
    with app_world(app, app_db) as made:
        hana = made.staff("hana@corp.example")
        filed = made.file()
    return {
        "clock": made.clock,
        "hana": hana,
        "case": filed.case.id,
        "receipt": filed.receipt.formatted(),
    }


def _package(parts: dict[str, bytes | str], main: str, main_type: str) -> bytes:
    """An OOXML package: the parts, a content-types part and the root relationship."""
    types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="jpeg" ContentType="image/jpeg"/>'
        f'<Override PartName="/{main}" ContentType="{DOC}{main_type}"/></Types>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships '
        'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'relationships/officeDocument" Target="{main}"/></Relationships>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", types)
        package.writestr("_rels/.rels", rels)
        for name, body in parts.items():
            package.writestr(name, body)
    return out.getvalue()


def _docx(**extra: bytes | str) -> bytes:
    document = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}"><w:body>'
        '<w:p w:rsidR="00A1B2C3"><w:r><w:t>Ledger attached.</w:t></w:r>'
        f'<w:ins w:id="1" w:author="{CANARY}" w:date="{WHEN}"><w:r><w:t>Q3</w:t></w:r></w:ins>'
        "</w:p></w:body></w:document>"
    )
    parts: dict[str, bytes | str] = {"word/document.xml": document, **extra}
    return _package(parts, "word/document.xml", "wordprocessingml.document.main+xml")


def _upload(client: Any, world: dict[str, Any], name: str, data: bytes) -> dict[str, Any]:
    """The reporter adds the file; at its hour the investigator reads its entry and bytes."""
    session = client.post("/api/v1/reporter/session", json={"receipt": world["receipt"]})
    auth = {"Authorization": f"Bearer {session.json()['token']}"}
    added = client.post("/api/v1/reporter/attachments", headers=auth, files={"file": (name, data)})
    assert added.status_code == 201, added.text
    list_arrivals(client.app.state.db, world["clock"])
    hana, clock = world["hana"], world["clock"]
    body = {"email": hana.account.email, "password": hana.password, "totp": hana.code(clock)}
    token = client.post("/api/v1/staff/session", json=body).json()["token"]
    clock.advance(seconds=30)  # the next login's TOTP code is a fresh one
    staff = {"Authorization": f"Bearer {token}"}
    case = client.get(f"/api/v1/cases/{world['case']}", headers=staff).json()
    [entry] = [f for f in case["attachments"] if f["id"] == added.json()["id"]]
    got = client.get(f"/api/v1/cases/{world['case']}/attachments/{entry['id']}", headers=staff)
    assert got.status_code == 200
    return {"entry": entry, "data": got.content}


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return {name: package.read(name) for name in package.namelist()}


def test_a_photo_inside_a_word_document_loses_its_exif_and_gps(
    client: Any, world: dict[str, Any]
) -> None:
    """A phone photo pasted into a .docx keeps no EXIF (GPS, artist), XMP or JFXX: the file
    said "metadata removed" while the photo inside still carried them (on the code before)."""
    photo = crafted.jpeg_with_exif_and_xmp()
    got = _upload(client, world, "ledger.docx", _docx(**{"word/media/image1.jpeg": photo}))

    parts = _parts(got["data"])
    image = Image.open(io.BytesIO(parts["word/media/image1.jpeg"]))
    image.load()

    assert got["entry"]["metadata_removed"] is True
    assert CANARY.encode() not in parts["word/media/image1.jpeg"]
    assert not image.getexif()
    assert image.size == (8, 8)


def test_comment_and_revision_authors_and_times_do_not_reach_staff(
    client: Any, world: dict[str, Any]
) -> None:
    """The reporter's name on a tracked change and a comment, the comment's initials, the
    account in people.xml, revision times, editing-session ids and the template's path under
    their Windows user folder: none reaches staff, and the text does (on the code before, all
    of them did, under "metadata removed")."""
    comments = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:comments xmlns:w="{W}">'
        f'<w:comment w:id="0" w:author="{CANARY}" w:initials="JS" w:date="{WHEN}">'
        "<w:p><w:r><w:t>check the totals</w:t></w:r></w:p></w:comment></w:comments>"
    )
    people = (
        f'<?xml version="1.0" encoding="UTF-8"?><w15:people xmlns:w15="{W15}">'
        f'<w15:person w15:author="{CANARY}"><w15:presenceInfo w15:providerId="AD" '
        f'w15:userId="S::{CANARY}@corp.example::0f1e"/></w15:person></w15:people>'
    )
    settings = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:settings xmlns:w="{W}">'
        '<w:rsids><w:rsidRoot w:val="00A1B2C3"/><w:rsid w:val="00A1B2C3"/></w:rsids>'
        "</w:settings>"
    )
    template = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships '
        'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'relationships/attachedTemplate" Target="file:///C:/Users/{CANARY}/AppData/Roaming/'
        'Microsoft/Templates/Normal.dotm" TargetMode="External"/></Relationships>'
    )
    data = _docx(
        **{
            "word/comments.xml": comments,
            "word/people.xml": people,
            "word/settings.xml": settings,
            "word/_rels/settings.xml.rels": template,
        }
    )

    got = _upload(client, world, "ledger.docx", data)
    parts = _parts(got["data"])
    everything = b"".join(parts.values())

    assert got["entry"]["metadata_removed"] is True
    assert CANARY.encode() not in everything
    assert WHEN.encode() not in everything
    assert b"00A1B2C3" not in everything
    assert b"Ledger attached." in parts["word/document.xml"]
    assert b"check the totals" in parts["word/comments.xml"]


def test_spreadsheet_and_slide_comment_authors_do_not_reach_staff(
    client: Any, world: dict[str, Any]
) -> None:
    """An Excel comment's author list, its printer settings (naming the printer) and a
    PowerPoint comment author's name and initials (classic and modern comments, with the
    modern comment's time)."""
    sheet = _package(
        {
            "xl/workbook.xml": "<workbook/>",
            "xl/worksheets/_rels/sheet1.xml.rels": (
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                'officeDocument/2006/relationships/printerSettings" '
                'Target="../printerSettings/printerSettings1.bin"/></Relationships>'
            ),
            "xl/printerSettings/printerSettings1.bin": f"\\\\PRN-{CANARY}".encode("utf-16-le"),
            "xl/comments1.xml": (
                '<comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                f"<authors><author>{CANARY}</author></authors><commentList/></comments>"
            ),
        },
        "xl/workbook.xml",
        "spreadsheetml.sheet.main+xml",
    )
    slides = _package(
        {
            "ppt/presentation.xml": "<presentation/>",
            "ppt/commentAuthors.xml": (
                '<p:cmAuthorLst xmlns:p="http://schemas.openxmlformats.org/presentationml/'
                f'2006/main"><p:cmAuthor id="1" name="{CANARY}" initials="JS" lastIdx="1" '
                'clrIdx="0"/></p:cmAuthorLst>'
            ),
            "ppt/authors.xml": (
                '<p188:authorLst xmlns:p188="http://schemas.microsoft.com/office/powerpoint/'
                f'2018/8/main"><p188:author id="{{0B1}}" name="{CANARY}" initials="JS" '
                f'userId="{CANARY}@corp.example" providerId="AD"/></p188:authorLst>'
            ),
            "ppt/comments/modernComment_1.xml": (
                '<p188:cmLst xmlns:p188="http://schemas.microsoft.com/office/powerpoint/'
                f'2018/8/main"><p188:cm id="{{0C1}}" authorId="{{0B1}}" created="{WHEN}">'
                "<p188:txBody/></p188:cm></p188:cmLst>"
            ),
        },
        "ppt/presentation.xml",
        "presentationml.presentation.main+xml",
    )

    xlsx = _upload(client, world, "totals.xlsx", sheet)
    pptx = _upload(client, world, "deck.pptx", slides)

    for got in (xlsx, pptx):
        assert got["entry"]["metadata_removed"] is True
        assert CANARY.encode() not in b"".join(_parts(got["data"]).values())
    assert WHEN.encode() not in b"".join(_parts(pptx["data"]).values())
    sheet_parts = _parts(xlsx["data"])
    assert "xl/printerSettings/printerSettings1.bin" not in sheet_parts
    assert b"printerSettings" not in sheet_parts["xl/worksheets/_rels/sheet1.xml.rels"]


def test_a_part_the_cleaner_cannot_clean_makes_the_document_not_cleaned(
    client: Any, world: dict[str, Any]
) -> None:
    """An embedded object (an OLE binary, which may carry its own author) or a picture of a
    kind the cleaner does not read: the file is kept whole and marked "metadata not removed"
    (on the code before, "removed")."""
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + CANARY.encode()
    tiff = b"II*\x00" + CANARY.encode()
    for extra in ({"word/embeddings/oleObject1.bin": ole}, {"word/media/image2.tiff": tiff}):
        got = _upload(client, world, "ledger.docx", _docx(**extra))

        assert got["entry"]["metadata_removed"] is False


def test_a_real_workbook_with_a_comment_still_opens_without_its_author(
    client: Any, world: dict[str, Any]
) -> None:
    """A workbook openpyxl writes (a value, a comment by the reporter, document properties)
    comes back to staff without the author anywhere and opens with its value and comment
    text: the scrubbing keeps the XML well formed."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.properties.creator = CANARY
    sheet = book.active
    sheet["A1"] = "Q3 transfer 1,200,000"
    sheet["A1"].comment = openpyxl.comments.Comment("moved to Rival Ltd", CANARY)
    out = io.BytesIO()
    book.save(out)

    got = _upload(client, world, "totals.xlsx", out.getvalue())
    back = openpyxl.load_workbook(io.BytesIO(got["data"]))

    assert got["entry"]["metadata_removed"] is True
    assert CANARY.encode() not in b"".join(_parts(got["data"]).values())
    assert back.active["A1"].value == "Q3 transfer 1,200,000"
    assert "moved to Rival Ltd" in back.active["A1"].comment.text


def _pdf_with_photo_and_note() -> bytes:
    """A one-page PDF showing a phone photo (its JPEG bytes, EXIF and GPS and all, as "print
    to PDF" and scanning apps embed them) and carrying a sticky note by the reporter."""
    pikepdf = pytest.importorskip("pikepdf")
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    photo = pikepdf.Stream(pdf, crafted.jpeg_with_exif_and_xmp())
    photo.Type, photo.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    photo.Width, photo.Height, photo.BitsPerComponent = 8, 8, 8
    photo.ColorSpace, photo.Filter = pikepdf.Name.DeviceRGB, pikepdf.Name.DCTDecode
    page = pdf.pages[0]
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=photo))
    page.Contents = pdf.make_stream(b"q 100 0 0 100 50 50 cm /Im0 Do Q")
    note = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Text,
        Rect=[10, 10, 30, 30],
        Contents=pikepdf.String("the totals do not add up"),
        T=pikepdf.String(CANARY),
        M=pikepdf.String("D:20260301091200+08'00'"),
        CreationDate=pikepdf.String("D:20260301091200+08'00'"),
    )
    page.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(note)]))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_a_photo_and_a_sticky_note_inside_a_pdf_do_not_name_the_reporter(
    client: Any, world: dict[str, Any]
) -> None:
    """The photo inside the PDF loses its EXIF, GPS and XMP and still decodes; the note keeps
    its words but not its author or its times (on the code before, all of them reached
    staff under "metadata removed")."""
    pikepdf = pytest.importorskip("pikepdf")
    got = _upload(client, world, "scan.pdf", _pdf_with_photo_and_note())

    with pikepdf.open(io.BytesIO(got["data"])) as pdf:
        page = pdf.pages[0]
        photo = page.Resources.XObject.Im0
        raw = photo.read_raw_bytes()
        image = pikepdf.PdfImage(photo).as_pil_image()
        [note] = list(page.Annots)
        words, author = str(note.Contents), note.get("/T")
        times = [key for key in ("/M", "/CreationDate") if key in note]

    assert got["entry"]["metadata_removed"] is True
    assert CANARY.encode() not in raw
    assert CANARY.encode() not in got["data"]
    assert image.size == (8, 8)
    assert words == "the totals do not add up"
    assert author is None
    assert times == []
