"""File answers shared by the pages and the API: decrypted attachments and CSV exports."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from cases.db import unit_of_work
from cases.reports.attachments import AttachmentReader, FileTicket


def file_response(request: Request, ticket: FileTicket) -> Response:
    """Stream the plaintext from a session of its own; always a download, never rendered."""
    factory = request.app.state.db

    def chunks() -> Iterator[bytes]:
        with unit_of_work(factory) as db:
            yield from AttachmentReader(db).stream(ticket)

    name = quote(ticket.info.name or "file", safe="")
    headers = {
        "Content-Disposition": f"attachment; filename=\"download\"; filename*=UTF-8''{name}",
        "Content-Length": str(ticket.info.size),
        "X-Content-SHA256": ticket.info.sha256,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(chunks(), media_type="application/octet-stream", headers=headers)


def csv_response(body: str, filename: str = "reward-ledger.csv") -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
