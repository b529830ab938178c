"""The reporter's JSON API (CONTRACT.md, "Reporter"): file, log in with a receipt, talk, add files.

Domain work (Argon2, database, encryption) runs in the thread pool so one slow request
never stalls the event loop. Authentication is by bearer token only.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio
from anyio import CapacityLimiter
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

import crypto
from cases.db import is_sqlite, unit_of_work
from cases.errors import CaseError, Invalid, NotFound
from cases.org.service import OrgService
from cases.principals import ReporterPrincipal
from cases.questionnaires.service import QuestionnaireService
from cases.reports.attachments import (
    AttachmentWriter,
    UploadTarget,
    delete_files,
    evidence_name,
    next_evidence_number,
)
from cases.reports.intake import (
    Draft,
    IntakeService,
    PreparedReceipt,
    Submission,
)
from cases.reports.reporter import (
    Attempt,
    EvidenceQuota,
    Login,
    ReporterConfig,
    ReporterService,
)
from portal.auth import bearer_token, require_reporter
from portal.deps import (
    clock_of,
    intake_config,
    kdf_profile,
    receipt_kdf,
    receipt_rule,
    reporter_session_policy,
    settings_of,
)
from portal.errors import read_json
from portal.i18n import N_, request_locale
from portal.openapi import api_operation
from portal.shapes import answer, parse
from portal.shapes.common import BodyIn, Empty, Named
from portal.shapes.reporter import (
    ChannelOut,
    Channels,
    Filed,
    FileOut,
    ReceiptIn,
    Recipients,
    ReporterReport,
    ReporterToken,
    ReportIn,
)
from portal.uploads import FileOpener, ParsedUpload, UploadLimits, read_upload

T = TypeVar("T")
TAGS = ("reporter",)
ERROR_STATUSES = (400, 401, 404, 409, 413, 415, 422, 429)


def writer(request: Request) -> CapacityLimiter | None:
    """SQLite takes one writer at a time: writes queue here in order, not in its busy-wait.

    SQLite's busy handler retries with growing sleeps, so under load a few requests starve
    for seconds; a one-token limiter hands the lock over first come, first served. Other
    databases get the default thread pool.
    """
    state = request.app.state
    if not is_sqlite(state.engine):
        return None
    limiter: CapacityLimiter | None = getattr(state, "reporter_writer", None)
    if limiter is None:
        limiter = state.reporter_writer = CapacityLimiter(1)
    return limiter


async def write(request: Request, work: Callable[..., T], *args: Any) -> T:
    """Run a writing unit of work in a worker thread, behind the writer queue."""
    return await anyio.to_thread.run_sync(partial(work, request, *args), limiter=writer(request))


def kdf_slots(request: Request) -> CapacityLimiter:
    """Argon2 runs at once: one per core.

    Twenty Argon2 runs in parallel on two cores would each take ten times longer and starve
    the writer thread of CPU; queueing them keeps each request's latency close to its work.
    """
    state = request.app.state
    limiter: CapacityLimiter | None = getattr(state, "reporter_kdf", None)
    if limiter is None:
        limiter = state.reporter_kdf = CapacityLimiter(os.cpu_count() or 2)
    return limiter


async def prepared_draft(request: Request) -> Draft:
    """A draft whose receipt's Argon2 run happens now, outside the writer queue."""
    profile = kdf_profile(settings_of(request))
    new = partial(PreparedReceipt.new, profile)
    receipt = await anyio.to_thread.run_sync(new, limiter=kdf_slots(request))
    return Draft.new(receipt)


def reporter_config(request: Request) -> ReporterConfig:
    settings = settings_of(request)
    return ReporterConfig(
        intake=intake_config(settings),
        session=reporter_session_policy(settings),
        per_selector=receipt_rule(settings),
        evidence=EvidenceQuota(
            settings.limits.evidence_max_case, settings.limits.evidence_files_per_day
        ),
    )


def reporter_service(request: Request, db: Session) -> ReporterService:
    return ReporterService(db, clock_of(request), reporter_config(request), receipt_kdf(request))


def upload_target(request: Request, case_id: str, case_key: bytes) -> UploadTarget:
    settings = settings_of(request)
    return UploadTarget(
        case_id=case_id,
        case_key=case_key,
        author="reporter",
        grace_seconds=settings.limits.unlinked_upload_grace_seconds,
        chunk_size=settings.limits.chunk_size,
        zone=settings.timezone,
        clean_max_bytes=settings.limits.clean_max_bytes,
    )


# The multipart field (before the files) by which a reporter keeps their own file names.
KEEP_NAMES = "keep_names"


def file_opener(request: Request, target: UploadTarget, field: str) -> FileOpener:
    """Each file part in the named field becomes an encrypting attachment writer.

    Files are renamed "evidence-1.pdf" and so on (numbered across the case) unless a
    ``keep_names`` field saying ``yes`` came before them (the form puts its checkbox above
    the file chooser).
    """

    def open_file(name: str, filename: str, form: ParsedUpload) -> AttachmentWriter:
        if name != field:
            message = N_("Files were sent in a field this form does not have.")
            raise Invalid(message, fields={field: "invalid"})
        factory = request.app.state.db
        with unit_of_work(factory) as db:
            number = next_evidence_number(db, target.case_id)
        keep = form.get(KEEP_NAMES, "no")
        if keep not in ("yes", "no"):
            message = N_("Please check the highlighted fields.")
            raise Invalid(message, fields={KEEP_NAMES: "invalid"})
        shown = evidence_name(filename, number, keep=keep == "yes")
        return AttachmentWriter(factory, clock_of(request), target, shown)

    return open_file


# --- channels ------------------------------------------------------------------------------


@api_operation(
    "listChannels",
    "Channels and their categories a reporter may choose",
    responses={200: Channels},
    tags=TAGS,
)
async def list_channels(request: Request) -> Response:
    return answer(await run_in_threadpool(_channels, request))


def _channels(request: Request) -> Channels:
    locale = request_locale(request)
    with unit_of_work(request.app.state.db) as db:
        questionnaires = QuestionnaireService(db)
        return Channels(
            [
                ChannelOut.of(c, locale, questionnaires.current(c.id))
                for c in OrgService(db).active_channels()
            ]
        )


@api_operation(
    "listChannelRecipients",
    "The staff a reporter may exclude from a report in this channel",
    responses={200: Recipients},
    errors=(404,),
    tags=TAGS,
)
async def list_recipients(request: Request) -> Response:
    return answer(await run_in_threadpool(_recipients, request))


def _recipients(request: Request) -> Recipients:
    with unit_of_work(request.app.state.db) as db:
        channel = OrgService(db).channel(request.path_params["channel_id"])
        if channel is None:
            raise NotFound
        people = IntakeService(db, clock_of(request), intake_config(settings_of(request)))
        return Recipients(
            [Named(id=s.id, name=s.name or s.email) for s in people.recipients(channel)]
        )


# --- filing --------------------------------------------------------------------------------


@api_operation(
    "fileReport",
    "File a report; the answer carries the receipt, shown once and never stored",
    request=ReportIn,
    responses={201: Filed},
    errors=(400, 409, 422, 429),
    tags=TAGS,
)
async def file_report(request: Request) -> Response:
    submission = parse(ReportIn, await read_json(request)).submission()
    draft = await prepared_draft(request)
    return answer(await write(request, _file, submission, draft), status_code=201)


def _file(request: Request, submission: Submission, draft: Draft) -> Filed:
    with unit_of_work(request.app.state.db) as db:
        filed = reporter_service(request, db).file(submission, draft)
    return Filed(
        receipt=filed.receipt.formatted(),
        acknowledge_by=filed.case.acknowledge_by,
        feedback_by=filed.case.feedback_by,
    )


# --- the reporter session ------------------------------------------------------------------


@api_operation(
    "openReporterSession",
    "Log in with a receipt; a mistyped receipt is 422 with a hint, a wrong one 401; "
    "410 when every case of the receipt was deleted under the retention policy",
    method="POST",
    request=ReceiptIn,
    responses={200: ReporterToken},
    errors=(400, 401, 410, 422, 429),
    tags=TAGS,
)
@api_operation("closeReporterSession", "Log out", method="DELETE", responses={204: None}, tags=TAGS)
async def reporter_session(request: Request) -> Response:
    if request.method == "DELETE":
        await write(request, _logout)
        return Response(status_code=204)
    text = parse(ReceiptIn, await read_json(request)).receipt
    login = await check_receipt(request, text, open_session=True)
    # Raised after the commit, so the failure counters of a wrong receipt are kept.
    token = ReporterToken(token=login.token_or_raise(), new_receipt=login.new_receipt)
    # new_receipt only when a receipt staff handed over was replaced: keep this one instead.
    return JSONResponse(token.model_dump(exclude_none=True))


async def check_receipt(request: Request, text: str, *, open_session: bool) -> Login:
    """Cheap checks, then Argon2 outside any lock (one per core), then compare and count.

    The derivation runs for known and unknown selectors alike, on the app's one ReceiptKdf.
    """
    attempt = await write(request, _attempt, text)
    run = partial(receipt_kdf(request).derive, attempt)
    derived = await anyio.to_thread.run_sync(run, limiter=kdf_slots(request))
    return await write(request, _conclude, attempt, derived, open_session)


def _attempt(request: Request, text: str) -> Attempt:
    with unit_of_work(request.app.state.db) as db:
        return reporter_service(request, db).attempt(text)


def _conclude(
    request: Request, attempt: Attempt, derived: crypto.DerivedKeys | None, open_session: bool
) -> Login:
    with unit_of_work(request.app.state.db) as db:
        return reporter_service(request, db).conclude(attempt, derived, open_session=open_session)


def _logout(request: Request) -> None:
    token = bearer_token(request)
    if token:
        with unit_of_work(request.app.state.db) as db:
            reporter_service(request, db).logout(token)


@api_operation(
    "getReporterReport",
    "The reporter's case: status, deadlines, conversation, files",
    responses={200: ReporterReport},
    errors=(401, 404),
    bearer=True,
    tags=TAGS,
)
async def get_report(request: Request) -> Response:
    return answer(await run_in_threadpool(_view, request))


def _view(request: Request) -> ReporterReport:
    with unit_of_work(request.app.state.db) as db:
        principal = require_reporter(request, db)
        return ReporterReport.of(reporter_service(request, db).view(principal))


@api_operation(
    "postReporterMessage",
    "Send a message to the case team",
    request=BodyIn,
    responses={201: Empty},
    errors=(400, 401, 404, 422),
    bearer=True,
    tags=TAGS,
)
async def post_message(request: Request) -> Response:
    body = parse(BodyIn, await read_json(request)).body
    await write(request, _reply, body)
    return answer(Empty(), status_code=201)


def _reply(request: Request, body: str) -> None:
    with unit_of_work(request.app.state.db) as db:
        principal = require_reporter(request, db)
        reporter_service(request, db).reply(principal, body)


@api_operation(
    "postReporterAttachment",
    "Add a file (multipart field `file`). JPEG and PNG images, and PDF and Office files up to "
    "PORTAL_CLEAN_MAX_MB, lose their identifying metadata before encryption; other files are "
    "stored as sent. The file is named evidence-1.<ext> unless `keep_names` is `yes` (send "
    "that field first).",
    request={
        "type": "object",
        "properties": {
            "keep_names": {"type": "string", "enum": ["yes", "no"]},
            "file": {"type": "string", "format": "binary"},
        },
    },
    request_media_type="multipart/form-data",
    responses={201: FileOut},
    errors=ERROR_STATUSES,
    bearer=True,
    tags=TAGS,
)
async def post_attachment(request: Request) -> Response:
    principal, case_id, key = await run_in_threadpool(reporter_case, request)
    target = upload_target(request, case_id, key)
    parsed = await read_upload(
        request,
        UploadLimits.of(settings_of(request)),
        file_opener(request, target, "file"),
        csrf_purpose=None,
    )
    if len(parsed.files) != 1 or set(parsed.fields.get("file", [])):
        await run_in_threadpool(delete_files, request.app.state.db, parsed.file_ids)
        raise Invalid("Send exactly one file in the field `file`.", fields={"file": "required"})
    if parsed.get(KEEP_NAMES, "no") not in ("yes", "no"):
        await run_in_threadpool(delete_files, request.app.state.db, parsed.file_ids)
        raise Invalid(N_("Please check the highlighted fields."), fields={KEEP_NAMES: "invalid"})
    await write(request, link_evidence, principal, parsed.file_ids)
    return answer(FileOut.of(parsed.files[0]), status_code=201)


def reporter_case(request: Request) -> tuple[ReporterPrincipal, str, bytes]:
    """The reporter's case and key, refused before any byte streams when the evidence quota
    of the case or today's file allowance is used up."""
    with unit_of_work(request.app.state.db) as db:
        principal = require_reporter(request, db)
        service = reporter_service(request, db)
        case, key = service.case_and_key(principal)
        service.check_evidence_room(principal, [])
        return principal, case.id, key


def link_evidence(request: Request, principal: ReporterPrincipal, ids: list[str]) -> None:
    try:
        with unit_of_work(request.app.state.db) as db:
            require_reporter(request, db)
            reporter_service(request, db).add_evidence(principal, ids)
    except CaseError:
        # Over the quota with these files: they go now rather than at the next sweep.
        delete_files(request.app.state.db, ids)
        raise


routes: list[BaseRoute] = [
    Route("/api/v1/channels", list_channels, methods=["GET"]),
    Route("/api/v1/channels/{channel_id}/recipients", list_recipients, methods=["GET"]),
    Route("/api/v1/reports", file_report, methods=["POST"]),
    Route("/api/v1/reporter/session", reporter_session, methods=["POST", "DELETE"]),
    Route("/api/v1/reporter/report", get_report, methods=["GET"]),
    Route("/api/v1/reporter/messages", post_message, methods=["POST"]),
    Route("/api/v1/reporter/attachments", post_attachment, methods=["POST"]),
]
