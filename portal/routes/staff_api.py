"""The staff JSON API (CONTRACT.md, "Staff"): log in, list and read cases, reply, note, move.

Authentication is by bearer token only. Domain work runs in the thread pool; every rule
(who may see, who may act, which transition) is decided in cases/.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cases.db import unit_of_work
from cases.errors import Invalid
from cases.reports.attachments import FileTicket
from portal.auth import require_staff, staff_session
from portal.deps import casework, login_service
from portal.downloads import file_response
from portal.errors import read_json
from portal.openapi import api_operation
from portal.shapes import answer, parse
from portal.shapes.common import BodyIn, Created
from portal.shapes.staff import (
    CaseOut,
    StaffLoginIn,
    StaffToken,
    TransitionIn,
    TransitionOut,
)

TAGS = ("staff",)


# --- session -------------------------------------------------------------------------------


@api_operation(
    "openStaffSession",
    "Log in with e-mail, password and a TOTP code; answers a bearer token",
    request=StaffLoginIn,
    responses={200: StaffToken},
    errors=(400, 401, 422, 429),
    tags=TAGS,
)
async def open_session(request: Request) -> Response:
    body = await read_json(request)
    try:
        login: StaffLoginIn | None = parse(StaffLoginIn, body)
    except Invalid:
        login = None
    if login is None or not all((login.email, login.password, login.totp)):
        raise Invalid("E-mail, password and code are all needed.", fields={"login": "required"})
    token = await run_in_threadpool(_open_session, request, login)
    return answer(StaffToken(token=token))


def _open_session(request: Request, login: StaffLoginIn) -> str:
    with unit_of_work(request.app.state.db) as db:
        step = login_service(request, db).api_login(login.email, login.password, login.totp)
    step.raise_failure()
    return step.token or ""


@api_operation(
    "closeStaffSession",
    "Log out this token",
    responses={204: None},
    errors=(401,),
    bearer=True,
    tags=TAGS,
)
async def close_session(request: Request) -> Response:
    await run_in_threadpool(_close_session, request)
    return Response(status_code=204)


def _close_session(request: Request) -> None:
    with unit_of_work(request.app.state.db) as db:
        require_staff(request, db)
        active = staff_session(request, db)
        if active is not None:
            login_service(request, db).logout(active)


# --- cases ---------------------------------------------------------------------------------


@api_operation(
    "getCase",
    "One case, decrypted, with notes and assignees",
    responses={200: CaseOut},
    errors=(401, 403, 404),
    bearer=True,
    tags=TAGS,
)
async def get_case(request: Request) -> Response:
    return answer(await run_in_threadpool(_get_case, request))


def _get_case(request: Request) -> CaseOut:
    with unit_of_work(request.app.state.db) as db:
        principal = require_staff(request, db)
        return CaseOut.of(casework(request, db).view(principal, request.path_params["case_id"]))


@api_operation(
    "postCaseMessage",
    "Reply to the reporter",
    request=BodyIn,
    responses={201: Created},
    errors=(400, 401, 403, 404, 422),
    bearer=True,
    tags=TAGS,
)
async def post_message(request: Request) -> Response:
    body = parse(BodyIn, await read_json(request)).body
    item_id = await run_in_threadpool(_add_item, request, "message", body)
    return answer(Created(id=item_id), status_code=201)


@api_operation(
    "postCaseNote",
    "Add an internal note (never shown to the reporter)",
    request=BodyIn,
    responses={201: Created},
    errors=(400, 401, 403, 404, 422),
    bearer=True,
    tags=TAGS,
)
async def post_note(request: Request) -> Response:
    body = parse(BodyIn, await read_json(request)).body
    item_id = await run_in_threadpool(_add_item, request, "note", body)
    return answer(Created(id=item_id), status_code=201)


def _add_item(request: Request, kind: str, text: str) -> str:
    with unit_of_work(request.app.state.db) as db:
        principal = require_staff(request, db)
        work = casework(request, db)
        add = work.add_message if kind == "message" else work.add_note
        return add(principal, request.path_params["case_id"], text).id


@api_operation(
    "transitionCase",
    "Move a case to another status (CONTRACT.md table); reason required, outcome on concluded",
    request=TransitionIn,
    responses={200: TransitionOut},
    errors=(400, 401, 403, 404, 409, 422),
    bearer=True,
    tags=TAGS,
)
async def transition(request: Request) -> Response:
    move = parse(TransitionIn, await read_json(request))
    return answer(await run_in_threadpool(_transition, request, move))


def _transition(request: Request, move: TransitionIn) -> TransitionOut:
    with unit_of_work(request.app.state.db) as db:
        principal = require_staff(request, db)
        case_id = request.path_params["case_id"]
        work = casework(request, db)
        work.transition(principal, case_id, move.status, move.reason, move.outcome)
        return TransitionOut.of(work.visible_case(principal, case_id))


@api_operation(
    "downloadCaseAttachment",
    "A file of the case, decrypted as it streams; its SHA-256 in X-Content-SHA256",
    responses={200: None},
    errors=(401, 403, 404),
    bearer=True,
    tags=TAGS,
)
async def download(request: Request) -> Response:
    ticket = await run_in_threadpool(_ticket, request)
    return file_response(request, ticket)


def _ticket(request: Request) -> FileTicket:
    with unit_of_work(request.app.state.db) as db:
        principal = require_staff(request, db)
        params = request.path_params
        return casework(request, db).download(principal, params["case_id"], params["file_id"])


routes: list[BaseRoute] = [
    Route("/api/v1/staff/session", open_session, methods=["POST"]),
    Route("/api/v1/staff/session", close_session, methods=["DELETE"]),
    Route("/api/v1/cases/{case_id}", get_case, methods=["GET"]),
    Route("/api/v1/cases/{case_id}/messages", post_message, methods=["POST"]),
    Route("/api/v1/cases/{case_id}/notes", post_note, methods=["POST"]),
    Route("/api/v1/cases/{case_id}/transition", transition, methods=["POST"]),
    Route("/api/v1/cases/{case_id}/attachments/{file_id}", download, methods=["GET"]),
]
