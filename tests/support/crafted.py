"""Real files carrying identifying metadata, built byte by byte (or with pikepdf and zipfile)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pikepdf
from PIL import Image

CANARY = "jsmith-canary-4711"


def png_with_private_chunks() -> bytes:
    """A PNG with a private ancillary chunk and a C2PA (caBX) chunk, both naming CANARY."""
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(out, "PNG")
    data = out.getvalue()
    iend = data.rindex(b"IEND") - 4
    extra = _png_chunk(b"prVt", CANARY.encode()) + _png_chunk(b"caBX", b"c2pa " + CANARY.encode())
    return data[:iend] + extra + data[iend:]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def jpeg_with_exif_and_xmp() -> bytes:
    """A JPEG with APP1 EXIF (with GPS), APP13 XMP and a JFXX APP0, each naming CANARY."""
    out = io.BytesIO()
    image = Image.new("RGB", (8, 8), (10, 200, 10))
    exif = Image.Exif()
    exif[0x013B] = CANARY  # Artist
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}  # GPS
    image.save(out, "JPEG", exif=exif.tobytes())
    data = out.getvalue()
    app13 = b"Photoshop 3.0\x00<x:xmpmeta>" + CANARY.encode() + b"</x:xmpmeta>"
    app0 = b"JFXX\x00\x10" + CANARY.encode()
    extra = _jpeg_segment(0xED, app13) + _jpeg_segment(0xE0, app0)
    return data[:2] + extra + data[2:]


def _jpeg_segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def pdf_with_author_and_xmp() -> bytes:
    """A one-page PDF whose /Info has /Author and /Creator and whose catalogue has XMP."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Author"] = CANARY
    pdf.docinfo["/Creator"] = f"Word for {CANARY}"
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [CANARY]
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


_OOXML = "http://schemas.openxmlformats.org"
_REL = f"{_OOXML}/officeDocument/2006/relationships"
_TYPE = "application/vnd.openxmlformats-"
_WORD = "officedocument.wordprocessingml.document.main+xml"
_EXTENDED = "officedocument.extended-properties+xml"
_CORE = "package.core-properties+xml"


def docx_with_creator() -> bytes:
    """A minimal DOCX whose core.xml names CANARY as creator (app.xml and custom.xml too)."""
    core = (
        '<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties '
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:creator>{CANARY}</dc:creator></cp:coreProperties>"
    )
    types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<Types xmlns="{_OOXML}/package/2006/content-types">'
        f'<Default Extension="rels" ContentType="{_TYPE}package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/word/document.xml" ContentType="{_TYPE}{_WORD}"/>'
        f'<Override PartName="/docProps/core.xml" ContentType="{_TYPE}{_CORE}"/>'
        f'<Override PartName="/docProps/app.xml" ContentType="{_TYPE}{_EXTENDED}"/>'
        "</Types>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<Relationships xmlns="{_OOXML}/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="word/document.xml"/>'
        f'<Relationship Id="rId2" Type="{_OOXML}/package/2006/relationships/metadata/'
        'core-properties" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
        "</Relationships>"
    )
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>Ledger attached.</w:t></w:r></w:p></w:body></w:document>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as docx:
        docx.writestr("[Content_Types].xml", types)
        docx.writestr("_rels/.rels", rels)
        docx.writestr("word/document.xml", document)
        docx.writestr("docProps/core.xml", core)
        docx.writestr("docProps/app.xml", f"<Properties><Company>{CANARY}</Company></Properties>")
        docx.writestr("docProps/custom.xml", f"<Properties><p>{CANARY}</p></Properties>")
    return out.getvalue()
