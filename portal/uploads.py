"""A streaming multipart/form-data reader: file parts go straight to a sink, never to disk.

Starlette's ``request.form()`` spools large files to temporary files in the clear, which
the portal must never do; this reader hands each file's bytes to a sink (the encrypting
attachment writer) as they arrive. For HTML forms the ``csrf`` field must be the first
part and is verified before any file byte is accepted. Size and count limits apply while
streaming, so an oversized upload stops at the limit, not after it has been stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import anyio
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from cases.errors import Invalid
from cases.reports.attachments import StoredFile
from portal.csrf import CSRF_FIELD, UnsupportedForm, verify_csrf
from portal.errors import BadRequest, TooLarge
from portal.held_log import hold_logger
from portal.i18n import N_
from portal.settings import Settings

# The parser warns about each malformed body as it reads it: a reporter's dropped upload
# would be dated by that line (portal/held_log.py).
hold_logger("python_multipart.multipart")

# Bytes gathered from the socket before one hop to the worker thread that parses them.
BLOCK = 1024 * 1024
MAX_FIELDS = 200


class FileSink(Protocol):
    def write(self, data: bytes) -> None: ...

    def finish(self) -> StoredFile: ...

    def abort(self) -> None: ...


# (field name, file name as sent, the form's fields read so far) -> where the bytes go.
FileOpener = Callable[[str, str, "ParsedUpload"], FileSink]


@dataclass(frozen=True)
class UploadLimits:
    max_file: int
    max_total: int
    max_files: int
    max_field: int = 64 * 1024

    @classmethod
    def of(cls, settings: Settings) -> UploadLimits:
        limits = settings.limits
        return cls(
            limits.upload_max_file,
            limits.upload_max_report,
            limits.upload_max_files,
            limits.max_form_field,
        )


@dataclass
class ParsedUpload:
    """The form's text fields (every value of each name) and the files stored from it."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[StoredFile] = field(default_factory=list)
    # With ``keep_fields``: why the files were refused ("file_too_large", "too_large",
    # "too_many_files", "empty_file"); every file is then dropped but the text fields kept.
    refused: str | None = None

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        return list(self.fields.get(name, []))

    @property
    def file_ids(self) -> list[str]:
        return [f.id for f in self.files]


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)
    sink: FileSink | None = None
    size: int = 0


class StreamingForm:
    """Feeds a multipart body through python_multipart's callback parser (synchronous)."""

    def __init__(
        self,
        boundary: bytes,
        limits: UploadLimits,
        open_file: FileOpener,
        check_csrf: Callable[[str | None], None] | None = None,
        before_file: Callable[[ParsedUpload], None] | None = None,
        keep_fields: bool = False,
    ) -> None:
        self.limits = limits
        self.keep_fields = keep_fields
        self.open_file = open_file
        self.check_csrf = check_csrf
        self.before_file = before_file
        self.result = ParsedUpload()
        self.total = 0
        self.ended = False
        self._csrf_done = check_csrf is None
        self._part = _Part()
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._open: list[FileSink] = []
        self._field_count = 0
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value_data,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_end": self._end,
            },
        )

    def feed_pieces(self, pieces: list[bytes]) -> None:
        """Feed consecutive pieces of the body as one block (joined once: one copy)."""
        self.feed(pieces[0] if len(pieces) == 1 else b"".join(pieces))

    def feed(self, data: bytes) -> None:
        try:
            self._parser.write(data)
        except FormParserError:
            # Broken framing is the sender's mistake: a 400, never a 500.
            raise BadRequest(N_("The form could not be read.")) from None

    def close(self) -> ParsedUpload:
        if not self.ended:
            raise BadRequest(N_("The form arrived incomplete. Please send it again."))
        return self.result

    def abort(self) -> None:
        """Delete every file this form stored or was storing."""
        for sink in self._open:
            sink.abort()
        self._open.clear()

    def _part_begin(self) -> None:
        self._part = _Part()
        self._headers = {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[bytes(self._header_name).lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _kind, options = parse_options_header(self._headers.get(b"content-disposition"))
        self._part.name = options.get(b"name", b"").decode("utf-8", "replace")
        raw_filename = options.get(b"filename")
        self._part.filename = (
            None if raw_filename is None else raw_filename.decode("utf-8", "replace")
        )
        if not self._csrf_done and self._part.name != CSRF_FIELD:
            # The token must come first: nothing is accepted before it is checked.
            assert self.check_csrf is not None
            self.check_csrf(None)
        self._field_count += 1
        if self._field_count > MAX_FIELDS:
            raise TooLarge(N_("The form has too many fields."))

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        if part.filename is None:
            part.data += data[start:end]
            if len(part.data) > self.limits.max_field:
                raise TooLarge(N_("A field of the form is too long."))
            return
        # The bulk of a large file arrives as whole blocks: handed on as they are, not copied.
        self._file_data(part, data if start == 0 and end == len(data) else data[start:end])

    def _file_data(self, part: _Part, chunk: bytes) -> None:
        if not chunk or self.result.refused is not None:
            return
        part.size += len(chunk)
        self.total += len(chunk)
        try:
            self._within_limits(part)
        except TooLarge as exc:
            if not self.keep_fields:
                raise
            self._refuse(exc.code)
            return
        if part.sink is None:
            if self.before_file is not None:
                self.before_file(self.result)
            part.sink = self.open_file(part.name, part.filename or "", self.result)
            self._open.append(part.sink)
        part.sink.write(chunk)

    def _within_limits(self, part: _Part) -> None:
        if part.size > self.limits.max_file:
            raise TooLarge(N_("A file is larger than allowed."), code="file_too_large")
        if self.total > self.limits.max_total:
            raise TooLarge(N_("Together, the files are larger than allowed."), code="too_large")
        if part.sink is None and len(self.result.files) + 1 > self.limits.max_files:
            raise TooLarge(N_("Too many files. Send fewer files."), code="too_many_files")

    def _refuse(self, code: str) -> None:
        """Stop storing files: delete what was stored, read on for the text fields only."""
        self.result.refused = code
        self.abort()
        self.result.files.clear()

    def _part_end(self) -> None:
        part = self._part
        if part.filename is None:
            self._field_done(part)
        elif self.result.refused is not None:
            return
        elif part.sink is not None:
            self.result.files.append(part.sink.finish())
        elif part.filename and self.keep_fields:
            self._refuse("empty_file")
        elif part.filename:
            raise Invalid(
                N_("A file you chose is empty."), fields={"files": "empty_file"}, code="empty_file"
            )

    def _field_done(self, part: _Part) -> None:
        try:
            value = part.data.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(N_("The form could not be read.")) from None
        if not self._csrf_done and part.name == CSRF_FIELD:
            assert self.check_csrf is not None
            self.check_csrf(value)
            self._csrf_done = True
        self.result.fields.setdefault(part.name, []).append(value)

    def _end(self) -> None:
        self.ended = True


def boundary_of(request: Request) -> bytes:
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UnsupportedForm(N_("This page accepts only a form with files."))
    return boundary


async def read_upload(
    request: Request,
    limits: UploadLimits,
    open_file: FileOpener,
    *,
    csrf_purpose: str | None = "form",
    before_file: Callable[[ParsedUpload], None] | None = None,
    keep_fields: bool = False,
) -> ParsedUpload:
    """Parse the body as it arrives; on any error every file stored so far is deleted.

    With ``keep_fields`` a file limit does not end the request: the files are deleted, the
    rest of the body is read for its text fields, and the result's ``refused`` names the limit.
    """

    def check(token: str | None) -> None:
        verify_csrf(request, token, csrf_purpose or "form")

    form = StreamingForm(
        boundary_of(request),
        limits,
        open_file,
        check if csrf_purpose is not None else None,
        before_file,
        keep_fields,
    )
    # The socket's pieces are only collected here; the worker thread joins them (one copy,
    # off the event loop; a bytearray grown and emptied per block cost the loop about 0.8 s
    # of CPU per GiB). One block is parsed (and encrypted) in the worker while the next is
    # read: at most two blocks are held, and the feeds run one at a time, in order.
    feeding: asyncio.Future[None] | None = None
    try:
        pieces: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            pieces.append(chunk)
            size += len(chunk)
            if size >= BLOCK:
                if feeding is not None:
                    await feeding
                feeding = asyncio.ensure_future(run_in_threadpool(form.feed_pieces, pieces))
                pieces, size = [], 0
        if feeding is not None:
            await feeding
        await run_in_threadpool(form.feed_pieces, pieces)
        return form.close()
    except BaseException:
        # A worker thread cannot be stopped: let a block still being fed end before the
        # files are deleted, even when the request is being cancelled.
        with anyio.CancelScope(shield=True):
            if feeding is not None:
                await asyncio.wait([feeding])
                if not feeding.cancelled():
                    feeding.exception()  # retrieved: the error in flight is the one raised
            await run_in_threadpool(form.abort)
        raise
