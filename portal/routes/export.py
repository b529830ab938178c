"""Case files for lawyers, the police or a court: a PDF, or a ZIP with the evidence too.

`GET /staff/cases/{id}/export.pdf|zip` (the case page's buttons) and the same under
`/api/v1/cases/{id}/`. What goes in the file is the domain's (cases/casework/export.py:
checked, audited); this module draws and streams it (portal/export_pdf.py), in memory.
"""

from __future__ import annotations

from collections.abc import Iterator

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from cases.casework.export import CaseExport, CaseFile
from cases.db import unit_of_work
from cases.reports.attachments import AttachmentReader, FileTicket
from portal.auth import require_staff
from portal.deps import casework, clock_of, settings_of
from portal.export_font import find_font
from portal.i18n import request_locale
from portal.openapi import api_operation
from portal.routes.staff import OUTCOME_LABELS, STATUS_LABELS

TAGS = ("staff",)
PIECE = 64 * 1024

# portal/export_pdf.py (fpdf2 and fontTools, about 50 MiB resident) is imported on a
# process's first export, not at start: most processes serve reporters and never draw one.


def case_export(request: Request, fmt: str) -> CaseFile:
    """Check and audit the export in one unit of work; the drawing happens after it commits."""
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        exporter = CaseExport(db, clock_of(request), casework(request, db))
        return exporter.case_file(me, request.path_params["case_id"], fmt)


def _drawn(request: Request, fmt: str) -> tuple[CaseFile, bytes]:
    """The audited case file and its PDF (the font is found first: no export is audited
    that cannot be drawn)."""
    from portal.export_pdf import Labels, render_pdf

    labels = Labels(
        status={str(code): label for code, label in STATUS_LABELS.items()},
        outcome={str(code): label for code, label in OUTCOME_LABELS.items()},
    )
    font = find_font(settings_of(request).export_font)
    case_file = case_export(request, fmt)
    return case_file, render_pdf(case_file, request_locale(request), font, labels)


def _headers(name: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }


def _pieces(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), PIECE):
        yield data[start : start + PIECE]


@api_operation(
    "exportCasePdf",
    "The case file as PDF: report, conversation, notes, history, deadlines, people named, "
    "evidence list with SHA-256, audit excerpt; masks and redactions applied (audited)",
    responses={200: {"type": "string", "format": "binary"}},
    errors=(401, 403, 404),
    bearer=True,
    tags=TAGS,
    response_media_type="application/pdf",
)
async def export_pdf(request: Request) -> Response:
    from portal.export_pdf import export_name

    case_file, pdf = await run_in_threadpool(_drawn, request, "pdf")
    headers = _headers(export_name(case_file, "pdf"))
    headers["Content-Length"] = str(len(pdf))
    return StreamingResponse(_pieces(pdf), media_type="application/pdf", headers=headers)


@api_operation(
    "exportCaseZip",
    "The case file as ZIP: the PDF, each evidence file decrypted, and SHA256SUMS (audited)",
    responses={200: {"type": "string", "format": "binary"}},
    errors=(401, 403, 404),
    bearer=True,
    tags=TAGS,
    response_media_type="application/zip",
)
async def export_zip(request: Request) -> Response:
    from portal.export_pdf import export_name, zip_stream

    case_file, pdf = await run_in_threadpool(_drawn, request, "zip")
    factory = request.app.state.db

    def body() -> Iterator[bytes]:
        # The evidence is read from a session of its own, as the ZIP streams out.
        with unit_of_work(factory) as db:
            reader = AttachmentReader(db)

            def chunks(ticket: FileTicket) -> Iterator[bytes]:
                return reader.stream(ticket)

            yield from zip_stream(pdf, export_name(case_file, "pdf"), case_file.tickets, chunks)

    headers = _headers(export_name(case_file, "zip"))
    return StreamingResponse(body(), media_type="application/zip", headers=headers)


routes: list[BaseRoute] = [
    Route("/staff/cases/{case_id}/export.pdf", export_pdf, methods=["GET"]),
    Route("/staff/cases/{case_id}/export.zip", export_zip, methods=["GET"]),
    Route("/api/v1/cases/{case_id}/export.pdf", export_pdf, methods=["GET"]),
    Route("/api/v1/cases/{case_id}/export.zip", export_zip, methods=["GET"]),
]
