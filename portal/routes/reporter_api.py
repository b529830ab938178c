"""The reporter's JSON API (CONTRACT.md, "Reporter"): file, log in with a receipt, talk, add files.

Domain work (Argon2, database, encryption) runs in the thread pool so one slow request
never stalls the event loop. Authentication is by bearer token only.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from cases.db import unit_of_work
from cases.errors import Invalid, NotFound
from cases.org.models import Channel
from cases.org.service import OrgService
from cases.reports.attachments import delete_files
from cases.reports.intake import Draft, IdentityInput, Submission
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
    subjects_from_json,
    upload_target,
    write,
)
from portal.uploads import UploadLimits, read_upload

TAGS = ("reporter",)
# Messages the domain writes in English for this area, listed so the catalogues carry them.
DOMAIN_MESSAGES = (
    N_("Please check the highlighted fields."),
    N_("This form was already sent. Your report was filed once."),
    N_("Please write a message."),
    N_("The message is too long."),
    N_("The upload was removed while it was being received."),
    N_("Send exactly one file in the field `file`."),
    N_("Your session has ended. Enter your receipt again."),
)
ERROR_STATUSES = (400, 401, 404, 409, 413, 415, 422, 429)
STRING = {"type": "string"}
NAMED = {"type": "object", "properties": {"id": STRING, "name": STRING}}
FILE = {
    "type": "object",
    "properties": {
        "id": STRING,
        "name": STRING,
        "size": {"type": "integer"},
        "sha256": STRING,
        "metadata_removed": {"type": "boolean"},
    },
}


def channel_json(channel: Channel, locale: str) -> dict[str, Any]:
    categories = [{"id": c.id, "name": c.name(locale)} for c in channel.categories if c.active]
    return {"id": channel.id, "name": channel.name(locale), "categories": categories}


# --- channels ------------------------------------------------------------------------------


@api_operation(
    "listChannels",
    "Channels and their categories a reporter may choose",
    responses={200: {"type": "array", "items": {"type": "object"}}},
    tags=TAGS,
)
async def list_channels(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(_channels, request))


def _channels(request: Request) -> list[dict[str, Any]]:
    locale = request_locale(request)
    with unit_of_work(request.app.state.db) as db:
        return [channel_json(c, locale) for c in OrgService(db).active_channels()]


@api_operation(
    "listChannelRecipients",
    "The staff a reporter may exclude from a report in this channel",
    responses={200: {"type": "array", "items": NAMED}},
    errors=(404,),
    tags=TAGS,
)
async def list_recipients(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(_recipients, request))


def _recipients(request: Request) -> list[dict[str, str]]:
    with unit_of_work(request.app.state.db) as db:
        channel = OrgService(db).channel(request.path_params["channel_id"])
        if channel is None:
            raise NotFound
        people = intake_service(request, db)
        return [{"id": s.id, "name": s.name or s.email} for s in people.recipients(channel)]


# --- filing --------------------------------------------------------------------------------

REPORT_SCHEMA = {
    "type": "object",
    "required": ["channel", "category", "summary", "details"],
    "properties": {
        "channel": STRING,
        "category": STRING,
        "summary": STRING,
        "details": STRING,
        "loss_estimate": STRING,
        "subjects": {"type": "array", "items": {"type": "object"}},
        "exclude": {"type": "array", "items": STRING},
        "identity": {"type": ["object", "null"]},
    },
}


@api_operation(
    "fileReport",
    "File a report; the answer carries the receipt, shown once and never stored",
    request=REPORT_SCHEMA,
    responses={201: {"type": "object"}},
    errors=(400, 409, 422, 429),
    tags=TAGS,
)
async def file_report(request: Request) -> Response:
    submission = submission_from_json(await read_json(request))
    draft = await prepared_draft(request)
    return JSONResponse(await write(request, _file, submission, draft), status_code=201)


def _file(request: Request, submission: Submission, draft: Draft) -> dict[str, str]:
    with unit_of_work(request.app.state.db) as db:
        filed = reporter_service(request, db).file(submission, draft)
    return {
        "receipt": filed.receipt.formatted(),
        "acknowledge_by": filed.case.acknowledge_by.isoformat(),
        "feedback_by": filed.case.feedback_by.isoformat(),
    }


def submission_from_json(body: dict[str, Any]) -> Submission:
    """Shape checks only; every business rule is the intake service's."""
    errors: dict[str, str] = {}
    text = {name: _string(body, name, errors) for name in _TEXT_FIELDS}
    subjects = subjects_from_json(body.get("subjects") or [], errors)
    exclude = body.get("exclude") or []
    if not isinstance(exclude, list) or not all(isinstance(s, str) for s in exclude):
        errors["exclude"] = "invalid"
        exclude = []
    identity = _identity(body.get("identity"), errors)
    if errors:
        raise Invalid("Please check the highlighted fields.", fields=errors)
    return Submission(
        channel_id=text["channel"],
        category_id=text["category"],
        summary=text["summary"],
        details=text["details"],
        loss_estimate=text["loss_estimate"],
        subjects=subjects,
        exclude=list(exclude),
        identity=identity,
        intake="api",
    )


_TEXT_FIELDS = ("channel", "category", "summary", "details", "loss_estimate")


def _string(body: dict[str, Any], name: str, errors: dict[str, str]) -> str:
    value = body.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[name] = "invalid"
        return ""
    return value


def _identity(raw: Any, errors: dict[str, str]) -> IdentityInput | None:
    if raw is None:
        return None
    name, contact = (raw.get(k) if isinstance(raw, dict) else None for k in ("name", "contact"))
    if not isinstance(name, str) or not isinstance(contact, str):
        errors["identity"] = "invalid"
        return None
    return IdentityInput(name, contact)


# --- the reporter session ------------------------------------------------------------------


@api_operation(
    "openReporterSession",
    "Log in with a receipt; a mistyped receipt is 422 with a hint, a wrong one 401",
    method="POST",
    request={"type": "object", "required": ["receipt"], "properties": {"receipt": STRING}},
    responses={200: {"type": "object", "properties": {"token": STRING, "new_receipt": STRING}}},
    errors=(400, 401, 422, 429),
    tags=TAGS,
)
@api_operation("closeReporterSession", "Log out", method="DELETE", responses={204: None}, tags=TAGS)
async def reporter_session(request: Request) -> Response:
    if request.method == "DELETE":
        await write(request, _logout)
        return Response(status_code=204)
    body = await read_json(request)
    receipt = body.get("receipt")
    text = receipt if isinstance(receipt, str) else ""
    login = await check_receipt(request, text, open_session=True)
    # Raised after the commit, so the failure counters of a wrong receipt are kept.
    answer = {"token": login.token_or_raise()}
    if login.new_receipt is not None:
        # A receipt staff handed over was replaced: the reporter must keep this one instead.
        answer["new_receipt"] = login.new_receipt
    return JSONResponse(answer)


def _logout(request: Request) -> None:
    token = bearer_token(request)
    if token:
        with unit_of_work(request.app.state.db) as db:
            reporter_service(request, db).logout(token)


@api_operation(
    "getReporterReport",
    "The reporter's case: status, deadlines, conversation, files",
    responses={200: {"type": "object"}},
    errors=(401, 404),
    bearer=True,
    tags=TAGS,
)
async def get_report(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(_view, request))


def _view(request: Request) -> dict[str, Any]:
    with unit_of_work(request.app.state.db) as db:
        principal = require_reporter(request, db)
        return reporter_service(request, db).view(principal).as_json()


@api_operation(
    "postReporterMessage",
    "Send a message to the case team",
    request={"type": "object", "required": ["body"], "properties": {"body": STRING}},
    responses={201: {"type": "object"}},
    errors=(400, 401, 404, 422),
    bearer=True,
    tags=TAGS,
)
async def post_message(request: Request) -> Response:
    body = (await read_json(request)).get("body")
    await write(request, _reply, body if isinstance(body, str) else "")
    return JSONResponse({}, status_code=201)


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
    responses={201: FILE},
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
    return JSONResponse(parsed.files[0].as_json(), status_code=201)


routes: list[BaseRoute] = [
    Route("/api/v1/channels", list_channels, methods=["GET"]),
    Route("/api/v1/channels/{channel_id}/recipients", list_recipients, methods=["GET"]),
    Route("/api/v1/reports", file_report, methods=["POST"]),
    Route("/api/v1/reporter/session", reporter_session, methods=["POST", "DELETE"]),
    Route("/api/v1/reporter/report", get_report, methods=["GET"]),
    Route("/api/v1/reporter/messages", post_message, methods=["POST"]),
    Route("/api/v1/reporter/attachments", post_attachment, methods=["POST"]),
]
