"""The reporter's JSON API (CONTRACT.md, "Reporter"): file, log in with a receipt, talk, add files.

Domain work (Argon2, database, encryption) runs in the thread pool so one slow request
never stalls the event loop. Authentication is by bearer token only.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from cases.db import unit_of_work
from cases.errors import Invalid, NotFound
from cases.org.service import OrgService
from cases.questionnaires.service import QuestionnaireService
from cases.reports.attachments import (
    delete_files,
)
from cases.reports.intake import (
    Draft,
    Submission,
)
from portal.auth import bearer_token, require_reporter
from portal.deps import intake_service, reporter_service, settings_of
from portal.errors import read_json
from portal.i18n import N_, request_locale
from portal.openapi import api_operation
from portal.reporter_flow import (
    KEEP_NAMES,
    check_receipt,
    file_opener,
    link_evidence,
    prepared_draft,
    reporter_case,
    upload_target,
    write,
)
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
from portal.uploads import UploadLimits, read_upload

TAGS = ("reporter",)
ERROR_STATUSES = (400, 401, 404, 409, 413, 415, 422, 429)


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
        people = intake_service(request, db)
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


routes: list[BaseRoute] = [
    Route("/api/v1/channels", list_channels, methods=["GET"]),
    Route("/api/v1/channels/{channel_id}/recipients", list_recipients, methods=["GET"]),
    Route("/api/v1/reports", file_report, methods=["POST"]),
    Route("/api/v1/reporter/session", reporter_session, methods=["POST", "DELETE"]),
    Route("/api/v1/reporter/report", get_report, methods=["GET"]),
    Route("/api/v1/reporter/messages", post_message, methods=["POST"]),
    Route("/api/v1/reporter/attachments", post_attachment, methods=["POST"]),
]
