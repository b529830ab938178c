"""Legal holds on the case page and in the JSON API (rules in cases/retention)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cases.db import unit_of_work
from cases.errors import Invalid
from cases.reports.models import Case
from cases.retention import PendingRelease, RetentionService
from portal.auth import require_staff
from portal.csrf import form_with_csrf
from portal.deps import retention_service
from portal.errors import read_json
from portal.notices import with_notice
from portal.openapi import api_operation
from portal.routes.staff import render_case
from portal.shapes import parse, schema
from portal.shapes.retention import (
    AdminHoldIn,
    AdminReleaseIn,
    HoldIn,
    HoldList,
    HoldOut,
    ReleaseIn,
    ReleaseOut,
)

TAGS = ("retention",)


def hold_out(service: RetentionService, case: Case) -> HoldOut:
    plan = service.schedule(case)
    return HoldOut(
        reference=case.reference,
        held=plan.held,
        reason=plan.hold_reason,
        held_since=plan.hold_at.isoformat() + "Z" if plan.hold_at else None,
        retention_months=plan.months,
        deletes_on=plan.deletes_on.isoformat() if plan.deletes_on else None,
        release=release_out(plan.release),
    )


def release_out(release: PendingRelease | None) -> ReleaseOut | None:
    if release is None:
        return None
    return ReleaseOut(
        reason=release.reason,
        proposed_by=release.proposed_by,
        proposed_at=release.proposed_at.isoformat() + "Z",
        expires_at=release.expires_at.isoformat() + "Z",
    )


async def optional_json(request: Request) -> dict[str, Any]:
    """The body of an endpoint that took none before: an empty body is an empty object."""
    if not await request.body():
        return {}
    return await read_json(request)


# --- the case page ---------------------------------------------------------------------------


async def hold_form(request: Request) -> Response:
    form = await form_with_csrf(request)
    reason = form.get("reason", "")
    return await run_in_threadpool(_hold_form, request, reason if isinstance(reason, str) else "")


def _hold_form(request: Request, reason: str) -> Response:
    case_id = request.path_params["case_id"]
    try:
        with unit_of_work(request.app.state.db) as db:
            retention_service(request, db).hold(require_staff(request, db), case_id, reason)
    except Invalid as problem:
        with unit_of_work(request.app.state.db) as db:
            return render_case(request, db, require_staff(request, db), problem.fields, 422)
    return RedirectResponse(f"/staff/cases/{case_id}#retention-heading", status_code=303)


async def release_form(request: Request) -> Response:
    """Propose to end the hold: a second person approves it on this page."""
    form = await form_with_csrf(request)
    reason = form.get("release_reason", "")
    text = reason if isinstance(reason, str) else ""
    return await run_in_threadpool(_release_form, request, text)


def _release_form(request: Request, reason: str) -> Response:
    case_id = request.path_params["case_id"]
    try:
        with unit_of_work(request.app.state.db) as db:
            staff = require_staff(request, db)
            retention_service(request, db).propose_release(staff, case_id, reason)
    except Invalid as problem:
        with unit_of_work(request.app.state.db) as db:
            errors = {"release_" + k: v for k, v in problem.fields.items()}
            return render_case(request, db, require_staff(request, db), errors, 422)
    return _back_to_case(request, case_id)


async def approve_form(request: Request) -> Response:
    await form_with_csrf(request)
    return await run_in_threadpool(_decide_form, request, "approve")


async def refuse_form(request: Request) -> Response:
    await form_with_csrf(request)
    return await run_in_threadpool(_decide_form, request, "refuse")


def _decide_form(request: Request, decision: str) -> Response:
    case_id = request.path_params["case_id"]
    with unit_of_work(request.app.state.db) as db:
        service, staff = retention_service(request, db), require_staff(request, db)
        if decision == "approve":
            service.approve_release(staff, case_id)
        else:
            service.refuse_release(staff, case_id)
    return _back_to_case(request, case_id)


def _back_to_case(request: Request, case_id: str) -> Response:
    target = with_notice(request, f"/staff/cases/{case_id}#retention-heading")
    return RedirectResponse(target, status_code=303)


# --- the JSON API ----------------------------------------------------------------------------


@api_operation(
    "holdCase",
    "Put a case on legal hold (an investigator who may open it): it is not deleted while held",
    method="POST",
    request=schema(HoldIn),
    responses={200: schema(HoldOut)},
    errors=(400, 401, 403, 404, 409, 422),
    bearer=True,
    tags=TAGS,
)
async def hold_api(request: Request) -> Response:
    body = parse(HoldIn, await read_json(request))
    return JSONResponse(await run_in_threadpool(_hold_api, request, body.reason))


def _hold_api(request: Request, reason: str) -> dict[str, Any]:
    with unit_of_work(request.app.state.db) as db:
        service = retention_service(request, db)
        case = service.hold(require_staff(request, db), request.path_params["case_id"], reason)
        return hold_out(service, case).model_dump()


@api_operation(
    "releaseCaseHold",
    "Propose to end a case's legal hold (an investigator who may open it): 202, the hold "
    "stays until a second person approves (approveCaseHoldRelease) within 7 days",
    method="POST",
    request=schema(ReleaseIn),
    responses={202: schema(HoldOut)},
    errors=(400, 401, 403, 404, 409, 415, 422),
    bearer=True,
    tags=TAGS,
)
async def release_api(request: Request) -> Response:
    body = parse(ReleaseIn, await optional_json(request))
    answer = await run_in_threadpool(_release_api, request, body.reason)
    return JSONResponse(answer, status_code=202)


def _release_api(request: Request, reason: str) -> dict[str, Any]:
    with unit_of_work(request.app.state.db) as db:
        service = retention_service(request, db)
        staff, case_id = require_staff(request, db), request.path_params["case_id"]
        case = service.propose_release(staff, case_id, reason)
        return hold_out(service, case).model_dump()


@api_operation(
    "approveCaseHoldRelease",
    "A second person approves the proposed end of a case's hold (an investigator who holds "
    "its key; never the proposer nor an account they made or vouched for, 403): the hold ends",
    method="POST",
    responses={200: schema(HoldOut)},
    errors=(401, 403, 404, 409),
    bearer=True,
    tags=TAGS,
)
async def approve_api(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(_decide_api, request, "approve"))


@api_operation(
    "refuseCaseHoldRelease",
    "Refuse the proposed end of a case's hold (the proposer cancels it): the hold stays",
    method="POST",
    responses={200: schema(HoldOut)},
    errors=(401, 403, 404, 409),
    bearer=True,
    tags=TAGS,
)
async def refuse_api(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(_decide_api, request, "refuse"))


def _decide_api(request: Request, decision: str) -> dict[str, Any]:
    with unit_of_work(request.app.state.db) as db:
        service = retention_service(request, db)
        staff, case_id = require_staff(request, db), request.path_params["case_id"]
        if decision == "approve":
            case = service.approve_release(staff, case_id)
        else:
            case = service.refuse_release(staff, case_id)
        return hold_out(service, case).model_dump()


@api_operation(
    "listHolds",
    "Admins: every case on legal hold, by reference, with the reason",
    method="GET",
    responses={200: schema(HoldList)},
    errors=(401, 403),
    bearer=True,
    tags=TAGS,
)
@api_operation(
    "holdCaseByReference",
    "Admins: put a case on legal hold by its reference (an unknown reference is 422)",
    method="POST",
    request=schema(AdminHoldIn),
    responses={200: schema(HoldOut)},
    errors=(400, 401, 403, 409, 422),
    bearer=True,
    tags=TAGS,
)
async def admin_holds_api(request: Request) -> Response:
    if request.method == "GET":
        return JSONResponse(await run_in_threadpool(_list_holds, request))
    body = parse(AdminHoldIn, await read_json(request))
    answer = await run_in_threadpool(_admin_hold, request, body.reference, body.reason)
    return JSONResponse(answer)


def _list_holds(request: Request) -> dict[str, Any]:
    with unit_of_work(request.app.state.db) as db:
        service = retention_service(request, db)
        cases = service.held_cases(require_staff(request, db))
        return HoldList(items=[hold_out(service, c) for c in cases]).model_dump()


def _admin_hold(request: Request, reference: str, reason: str) -> dict[str, Any]:
    with unit_of_work(request.app.state.db) as db:
        service = retention_service(request, db)
        case = service.hold_by_reference(require_staff(request, db), reference, reason)
        return hold_out(service, case).model_dump()


@api_operation(
    "releaseHoldByReference",
    "Admins: propose to end a case's legal hold by its reference: 202, the hold stays until a "
    "second person approves (approveHoldReleaseByReference) within 7 days",
    method="POST",
    request=schema(AdminReleaseIn),
    responses={202: schema(HoldOut)},
    errors=(400, 401, 403, 409, 415, 422),
    bearer=True,
    tags=TAGS,
)
async def admin_release_api(request: Request) -> Response:
    body = parse(AdminReleaseIn, await read_json(request))
    answer = await run_in_threadpool(_admin_release, request, body.reference, body.reason)
    return JSONResponse(answer, status_code=202)


def _admin_release(request: Request, reference: str, reason: str) -> dict[str, Any]:
    with unit_of_work(request.app.state.db) as db:
        service = retention_service(request, db)
        staff = require_staff(request, db)
        case = service.propose_release_by_reference(staff, reference, reason)
        return hold_out(service, case).model_dump()


@api_operation(
    "approveHoldReleaseByReference",
    "Admins: approve the proposed end of a case's hold by its reference, only if the same "
    "account holds the case's key (otherwise, and for the proposer, an account they made or "
    "vouched for, or an admin the case names, 403): the hold ends",
    method="POST",
    request=schema(AdminReleaseIn),
    responses={200: schema(HoldOut)},
    errors=(400, 401, 403, 409, 415, 422),
    bearer=True,
    tags=TAGS,
)
async def admin_approve_api(request: Request) -> Response:
    body = parse(AdminReleaseIn, await read_json(request))
    answer = await run_in_threadpool(_admin_decide, request, body.reference, "approve")
    return JSONResponse(answer)


@api_operation(
    "refuseHoldReleaseByReference",
    "Admins: refuse (or, as its proposer, cancel) the proposed end of a case's hold",
    method="POST",
    request=schema(AdminReleaseIn),
    responses={200: schema(HoldOut)},
    errors=(400, 401, 403, 409, 415, 422),
    bearer=True,
    tags=TAGS,
)
async def admin_refuse_api(request: Request) -> Response:
    body = parse(AdminReleaseIn, await read_json(request))
    answer = await run_in_threadpool(_admin_decide, request, body.reference, "refuse")
    return JSONResponse(answer)


def _admin_decide(request: Request, reference: str, decision: str) -> dict[str, Any]:
    with unit_of_work(request.app.state.db) as db:
        service = retention_service(request, db)
        staff = require_staff(request, db)
        if decision == "approve":
            case = service.approve_release_by_reference(staff, reference)
        else:
            case = service.refuse_release_by_reference(staff, reference)
        return hold_out(service, case).model_dump()


routes: list[BaseRoute] = [
    Route("/staff/cases/{case_id}/hold", hold_form, methods=["POST"]),
    Route("/staff/cases/{case_id}/hold/release/approve", approve_form, methods=["POST"]),
    Route("/staff/cases/{case_id}/hold/release/refuse", refuse_form, methods=["POST"]),
    Route("/staff/cases/{case_id}/hold/release", release_form, methods=["POST"]),
    Route("/api/v1/cases/{case_id}/hold", hold_api, methods=["POST"]),
    Route("/api/v1/cases/{case_id}/hold/release/approve", approve_api, methods=["POST"]),
    Route("/api/v1/cases/{case_id}/hold/release/refuse", refuse_api, methods=["POST"]),
    Route("/api/v1/cases/{case_id}/hold/release", release_api, methods=["POST"]),
    Route("/api/v1/admin/holds", admin_holds_api, methods=["GET", "POST"]),
    Route("/api/v1/admin/holds/release/approve", admin_approve_api, methods=["POST"]),
    Route("/api/v1/admin/holds/release/refuse", admin_refuse_api, methods=["POST"]),
    Route("/api/v1/admin/holds/release", admin_release_api, methods=["POST"]),
]
