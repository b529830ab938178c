"""The staff JSON API (CONTRACT.md, "Staff"): log in, list and read cases, reply, note, move.

Authentication is by bearer token only. Domain work runs in the thread pool; every rule
(who may see, who may act, which transition) is decided in cases/.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from cases.casework.evidence import EvidenceStore, OpenFile
from cases.casework.service import CaseView, CaseworkConfig, CaseworkService
from cases.db import unit_of_work
from cases.errors import Invalid
from cases.staff.login import LoginConfig, LoginService
from cases.workflow.listing import CasePage
from portal.auth import require_staff, staff_session
from portal.deps import (
    clock_of,
    kdf_profile,
    login_rule,
    server_secret,
    settings_of,
    staff_session_policy,
)
from portal.errors import read_json
from portal.openapi import api_operation

TAGS = ("staff",)
STRING = {"type": "string"}
OBJECT = {"type": "object"}
BODY = {"type": "object", "required": ["body"], "properties": {"body": STRING}}


def login_service(request: Request, db: Session) -> LoginService:
    settings = settings_of(request)
    config = LoginConfig(
        server_secret(settings),
        kdf_profile(settings),
        login_rule(settings),
        staff_session_policy(settings),
    )
    return LoginService(db, clock_of(request), config)


def casework(request: Request, db: Session) -> CaseworkService:
    settings = settings_of(request)
    config = CaseworkConfig(settings.timezone, server_secret(settings))
    return CaseworkService(db, clock_of(request), config)


def offset_from(params: Any) -> int:
    raw = str(params.get("cursor") or params.get("offset") or "0")
    return int(raw) if raw.isdigit() and len(raw) < 9 else 0


def _iso(value: date | datetime | None) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds") + "Z"
    return value.isoformat() if value else None


# --- session -------------------------------------------------------------------------------


@api_operation(
    "openStaffSession",
    "Log in with e-mail, password and a TOTP code; answers a bearer token",
    request={
        "type": "object",
        "required": ["email", "password", "totp"],
        "properties": {"email": STRING, "password": STRING, "totp": STRING},
    },
    responses={200: {"type": "object", "properties": {"token": STRING}}},
    errors=(400, 401, 422, 429),
    tags=TAGS,
)
async def open_session(request: Request) -> Response:
    body = await read_json(request)
    fields = {name: body.get(name) for name in ("email", "password", "totp")}
    if not all(isinstance(v, str) and v for v in fields.values()):
        raise Invalid("E-mail, password and code are all needed.", fields={"login": "required"})
    token = await run_in_threadpool(_open_session, request, fields)
    return JSONResponse({"token": token})


def _open_session(request: Request, fields: dict[str, Any]) -> str:
    with unit_of_work(request.app.state.db) as db:
        step = login_service(request, db).api_login(
            fields["email"], fields["password"], fields["totp"]
        )
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


def page_json(page: CasePage, summaries: dict[str, str] | None = None) -> dict[str, Any]:
    """A list page as JSON; `summary` is null where the caller holds no key (or no role) for it."""
    summaries = summaries or {}
    items = [
        {
            "id": row.id,
            "reference": row.reference,
            "status": row.status,
            "outcome": row.outcome,
            "category": row.category_id,
            "channel": row.channel_id,
            "submitted_on": _iso(row.submitted_on),
            "acknowledge_by": _iso(row.acknowledge_by),
            "feedback_by": _iso(row.feedback_by),
            "due_on": _iso(row.due_on),
            "overdue": row.overdue,
            "due_soon": row.due_soon,
            "awaiting_access": row.awaiting_access,
            "flood": row.flood,
            "related": row.related,
            "reward": row.reward,
            "assignees": list(row.assignee_ids),
            "summary": summaries.get(row.id),
        }
        for row in page.rows
    ]
    following = str(page.next_offset) if page.next_offset is not None else None
    return {"items": items, "next": following, "total": page.total}


@api_operation(
    "getCase",
    "One case, decrypted, with notes and assignees",
    responses={200: OBJECT},
    errors=(401, 403, 404),
    bearer=True,
    tags=TAGS,
)
async def get_case(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(_get_case, request))


def _get_case(request: Request) -> dict[str, Any]:
    with unit_of_work(request.app.state.db) as db:
        principal = require_staff(request, db)
        return case_json(casework(request, db).view(principal, request.path_params["case_id"]))


def case_json(view: CaseView) -> dict[str, Any]:
    case = view.case
    return {
        "id": case.id,
        "reference": case.reference,
        "status": case.status,
        "outcome": case.outcome,
        "category": case.category_id,
        "channel": case.channel_id,
        "intake": case.intake,
        "submitted_on": _iso(case.submitted_on),
        "acknowledge_by": _iso(case.acknowledge_by),
        "feedback_by": _iso(case.feedback_by),
        "awaiting_access": view.awaiting_access,
        "summary": view.report.get("summary"),
        "details": view.report.get("details"),
        "loss_estimate": view.report.get("loss_estimate"),
        "subjects": view.subjects,
        "messages": [{"author": m.author, "body": m.body, "at": _iso(m.at)} for m in view.messages],
        "notes": [{"author": n.staff_name, "body": n.body, "at": _iso(n.at)} for n in view.notes],
        "attachments": [
            {
                "id": f.id,
                "name": f.name,
                "size": f.size,
                "sha256": f.sha256,
                "author": f.author,
                "metadata_removed": f.cleaned,
            }
            for f in view.files
        ],
        "history": [
            {
                "from": h.from_status,
                "to": h.to_status,
                "outcome": h.outcome,
                "at": _iso(h.at),
                "reason": h.reason,
            }
            for h in view.history
        ],
        "assignees": [{"id": p.id, "name": p.name} for p in view.assignees],
        "related": [
            {
                "id": r.id,
                "reference": r.reference,
                "status": r.status,
                "submitted_on": _iso(r.submitted_on),
                "certain": r.certain,
            }
            for r in view.related
        ],
    }


@api_operation(
    "postCaseMessage",
    "Reply to the reporter",
    request=BODY,
    responses={201: OBJECT},
    errors=(400, 401, 403, 404, 422),
    bearer=True,
    tags=TAGS,
)
async def post_message(request: Request) -> Response:
    body = await read_json(request)
    item_id = await run_in_threadpool(_add_item, request, "message", body.get("body"))
    return JSONResponse({"id": item_id}, status_code=201)


@api_operation(
    "postCaseNote",
    "Add an internal note (never shown to the reporter)",
    request=BODY,
    responses={201: OBJECT},
    errors=(400, 401, 403, 404, 422),
    bearer=True,
    tags=TAGS,
)
async def post_note(request: Request) -> Response:
    body = await read_json(request)
    item_id = await run_in_threadpool(_add_item, request, "note", body.get("body"))
    return JSONResponse({"id": item_id}, status_code=201)


def _add_item(request: Request, kind: str, text: Any) -> str:
    if not isinstance(text, str):
        raise Invalid("Write something first.", fields={"body": "required"})
    with unit_of_work(request.app.state.db) as db:
        principal = require_staff(request, db)
        work = casework(request, db)
        add = work.add_message if kind == "message" else work.add_note
        return add(principal, request.path_params["case_id"], text).id


@api_operation(
    "transitionCase",
    "Move a case to another status (CONTRACT.md table); reason required, outcome on concluded",
    request={
        "type": "object",
        "required": ["status", "reason"],
        "properties": {"status": STRING, "outcome": STRING, "reason": STRING},
    },
    responses={200: OBJECT},
    errors=(400, 401, 403, 404, 409, 422),
    bearer=True,
    tags=TAGS,
)
async def transition(request: Request) -> Response:
    body = await read_json(request)
    return JSONResponse(await run_in_threadpool(_transition, request, body))


def _transition(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    status, reason, outcome = body.get("status"), body.get("reason", ""), body.get("outcome")
    if not isinstance(status, str) or not isinstance(reason, str):
        raise Invalid("Give a status and a reason.", fields={"reason": "required"})
    with unit_of_work(request.app.state.db) as db:
        principal = require_staff(request, db)
        case_id = request.path_params["case_id"]
        work = casework(request, db)
        work.transition(
            principal, case_id, status, reason, outcome if isinstance(outcome, str) else None
        )
        case = work.visible_case(principal, case_id)
        return {"status": case.status, "outcome": case.outcome, "due_on": _iso(case.due_on)}


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


def _ticket(request: Request) -> OpenFile:
    with unit_of_work(request.app.state.db) as db:
        principal = require_staff(request, db)
        params = request.path_params
        return casework(request, db).download(principal, params["case_id"], params["file_id"])


def file_response(request: Request, ticket: OpenFile) -> Response:
    """Stream the plaintext from a session of its own; always a download, never rendered."""
    factory = request.app.state.db

    def chunks() -> Iterator[bytes]:
        with unit_of_work(factory) as db:
            yield from EvidenceStore(db).stream(ticket)

    name = quote(ticket.info.name or "file", safe="")
    headers = {
        "Content-Disposition": f"attachment; filename=\"download\"; filename*=UTF-8''{name}",
        "Content-Length": str(ticket.info.size),
        "X-Content-SHA256": ticket.info.sha256,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(chunks(), media_type="application/octet-stream", headers=headers)


routes: list[BaseRoute] = [
    Route("/api/v1/staff/session", open_session, methods=["POST"]),
    Route("/api/v1/staff/session", close_session, methods=["DELETE"]),
    Route("/api/v1/cases/{case_id}", get_case, methods=["GET"]),
    Route("/api/v1/cases/{case_id}/messages", post_message, methods=["POST"]),
    Route("/api/v1/cases/{case_id}/notes", post_note, methods=["POST"]),
    Route("/api/v1/cases/{case_id}/transition", transition, methods=["POST"]),
    Route("/api/v1/cases/{case_id}/attachments/{file_id}", download, methods=["GET"]),
]
