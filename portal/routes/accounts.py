"""Accounts made on the web: the enrolment link, key-holder approvals and directory claims,
and their JSON API.

Handlers parse, call cases/ (cases/org/admin.py, cases/org/approvals.py, cases/org/claims.py,
cases/staff/enrolment.py) and render; every rule and audit entry lives there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

import crypto
from cases.db import unit_of_work
from cases.errors import CaseError, Invalid, Kind, NotFound
from cases.org.admin import require_admin
from cases.sessions.service import ActiveSession
from cases.staff.enrolment import key_code
from cases.staff.models import StaffAccount
from portal.auth import STAFF_COOKIE, require_staff, staff_session
from portal.csrf import form_with_csrf, set_host_cookie
from portal.deps import (
    admin_service,
    approval_service,
    claim_service,
    enrolment_service,
    login_service,
)
from portal.errors import read_json
from portal.i18n import N_
from portal.openapi import api_operation
from portal.qr import totp_qr_svg
from portal.routes.admin import ROLE_LABELS, enrolment_url
from portal.shapes import answer, parse
from portal.shapes.accounts import (
    AccountChangeIn,
    AccountIn,
    AccountMade,
    AccountOut,
    ApprovalDecided,
    ApprovalOut,
    Approvals,
    ClaimDecided,
    ClaimOut,
    Claims,
    Enrolled,
    EnrolmentIn,
)
from portal.signin import STAFF_LOGIN as TO_LOGIN
from portal.start_pages import start_page
from portal.templating import render

REASON_LABELS = {
    "new_account": N_("New account"),
    "role_added": N_("Role added"),
    "team_joined": N_("Added to a team"),
    "reactivated": N_("Reactivated"),
    "login_reset": N_("Password and authenticator reset"),
}
FIELD_MESSAGES = {
    "too_short": N_("Use at least 12 characters."),
    "too_long": N_("This is too long."),
    "common": N_("That password is too easy to guess; choose another."),
    "mismatch": N_("The two passwords are not the same."),
}


class NotJson(CaseError):
    """This address accepts only JSON."""

    kind = Kind.UNSUPPORTED
    code = "unsupported_media_type"


async def json_body(request: Request) -> dict[str, Any]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise NotJson(N_("This address does not accept data in that format."))
    return await read_json(request)


# --- enrolment page (no login: the link is the credential) ---------------------------------


def enrol_form(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        with unit_of_work(request.app.state.db) as db:
            email = enrolment_service(request, db).account_for(token).email
    except NotFound as problem:
        return render(request, "staff/enrol_invalid.html", {"error": problem.message}, 404)
    return render(request, "staff/enrol.html", {"email": email, "errors": {}})


async def enrol_submit(request: Request) -> Response:
    form = await form_with_csrf(request)
    password, again = str(form.get("password", ""))[:1024], str(form.get("password_again", ""))
    return await run_in_threadpool(_enrol, request, password, again)


def _enrol(request: Request, password: str, again: str) -> Response:
    token = request.path_params["token"]
    try:
        with unit_of_work(request.app.state.db) as db:
            service = enrolment_service(request, db)
            email = service.account_for(token).email
            if password != again:
                raise Invalid(fields={"password_again": "mismatch"})
            done = service.complete(token, password)
    except NotFound as problem:
        return render(request, "staff/enrol_invalid.html", {"error": problem.message}, 404)
    except Invalid as problem:
        again_context = {"email": email, "errors": problem.fields}
        return render(request, "staff/enrol.html", again_context, 422)
    context: dict[str, Any] = {
        "email": done.account.email,
        "qr": totp_qr_svg(done.totp_secret, done.account.email),
        "secret": crypto.totp_secret_b32(done.totp_secret),
        "key_code": key_code(done.account),
    }
    return render(request, "staff/enrolled.html", context)


# --- choosing one's own password after an admin chose it -------------------------------------


def own_password_form(request: Request) -> Response:
    with unit_of_work(request.app.state.db) as db:
        if _half_password(request, db) is None:
            return RedirectResponse(TO_LOGIN, status_code=303)
    return render(request, "staff/own_password.html", {"errors": {}})


async def own_password_submit(request: Request) -> Response:
    form = await form_with_csrf(request)
    password, again = str(form.get("password", ""))[:1024], str(form.get("password_again", ""))
    return await run_in_threadpool(_own_password, request, password, again)


def _own_password(request: Request, password: str, again: str) -> Response:
    try:
        with unit_of_work(request.app.state.db) as db:
            active = _half_password(request, db)
            if active is None:
                return RedirectResponse(TO_LOGIN, status_code=303)
            if password != again:
                raise Invalid(fields={"password_again": "mismatch"})
            step = login_service(request, db).own_password_step(active, password)
            account = db.get(StaffAccount, active.staff_id) if active.staff_id else None
            home = start_page(account.role_names if account is not None else ())
    except Invalid as problem:
        return render(request, "staff/own_password.html", {"errors": problem.fields}, 422)
    response = RedirectResponse(home, status_code=303)
    set_host_cookie(response, STAFF_COOKIE, step.token or "")
    return response


def _half_password(request: Request, db: Session) -> ActiveSession | None:
    active = staff_session(request, db)
    return active if active is not None and active.stage == "password" else None


# --- approvals page ---------------------------------------------------------------------------


def approvals_page(request: Request) -> Response:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        views = approval_service(request, db).pending(me)
        context = {
            "me": me,
            "approvals": views,
            "claims": claim_service(request, db).pending(me),
            "reason_labels": REASON_LABELS,
            "role_labels": ROLE_LABELS,
        }
        return render(request, "staff/approvals.html", context)


async def decide_page(request: Request) -> Response:
    form = await form_with_csrf(request)
    approve = form.get("do") == "approve"
    return await run_in_threadpool(_decide_page, request, approve)


def _decide_page(request: Request, approve: bool) -> Response:
    _decide(request, approve)
    return RedirectResponse("/staff/approvals?done=1", status_code=303)


def _decide(request: Request, approve: bool) -> ApprovalDecided:
    approval_id = request.path_params["approval_id"]
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        service = approval_service(request, db)
        if approve:
            granted = service.approve(me, approval_id)
            return ApprovalDecided(id=approval_id, status="approved", keys=granted)
        service.refuse(me, approval_id)
        return ApprovalDecided(id=approval_id, status="refused")


async def claim_page(request: Request) -> Response:
    form = await form_with_csrf(request)
    confirm = form.get("do") == "confirm"
    return await run_in_threadpool(_claim_page, request, confirm)


def _claim_page(request: Request, confirm: bool) -> Response:
    _decide_claim(request, confirm)
    return RedirectResponse("/staff/approvals?done=1", status_code=303)


def _decide_claim(request: Request, confirm: bool) -> ClaimDecided:
    claim_id = request.path_params["claim_id"]
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        service = claim_service(request, db)
        if confirm:
            service.confirm(me, claim_id)
            return ClaimDecided(id=claim_id, status="confirmed")
        queued = service.refuse(me, claim_id)
        return ClaimDecided(id=claim_id, status="refused", queued=queued)


# --- JSON API ------------------------------------------------------------------------------


@api_operation(
    "createStaffAccount",
    "Admins: a new staff account without a password; answers its one-time enrolment link",
    request=AccountIn,
    responses={201: AccountMade},
    errors=(400, 401, 403, 409, 415, 422),
    bearer=True,
    tags=("admin",),
)
async def create_account(request: Request) -> Response:
    body = await json_body(request)
    return answer(await run_in_threadpool(_create, request, body), status_code=201)


def _create(request: Request, raw: dict[str, Any]) -> AccountMade:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        require_admin(me)  # a role never allowed hears 403 whatever it sent
        body = parse(AccountIn, raw)
        made = admin_service(request, db).create_account(
            me, body.email, body.roles, name=body.name, employee_id=body.employee_id
        )
        return AccountMade.model_validate(
            {
                **AccountOut.fields_of(made.account),
                "enrolment_url": enrolment_url(request, made.enrolment_token),
            }
        )


@api_operation(
    "updateStaffAccount",
    "Admins: change roles or switch an account on or off; lost keys go at once, "
    "added roles and reactivation wait for a key holder's approval",
    method="PATCH",
    request=AccountChangeIn,
    responses={200: AccountOut},
    errors=(400, 401, 403, 404, 409, 415, 422),
    bearer=True,
    tags=("admin",),
)
async def update_account(request: Request) -> Response:
    change = parse(AccountChangeIn, await json_body(request))
    return answer(await run_in_threadpool(_update, request, change.roles, change.active))


def _update(request: Request, roles: list[str] | None, active: bool | None) -> AccountOut:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        require_admin(me)
        staff_id = request.path_params["staff_id"]
        account = admin_service(request, db).update_account(me, staff_id, roles, active)
        return AccountOut.of(account)


@api_operation(
    "completeStaffEnrolment",
    "With the token of an enrolment link: set your own password; answers the TOTP secret",
    request=EnrolmentIn,
    responses={201: Enrolled},
    errors=(400, 404, 415, 422),
    tags=("staff",),
)
async def complete_enrolment(request: Request) -> Response:
    body = parse(EnrolmentIn, await json_body(request))
    done = await run_in_threadpool(_complete, request, body.token, body.password)
    return answer(done, status_code=201)


def _complete(request: Request, token: str, password: str) -> Enrolled:
    with unit_of_work(request.app.state.db) as db:
        done = enrolment_service(request, db).complete(token, password)
        return Enrolled(
            totp_secret=crypto.totp_secret_b32(done.totp_secret), key_code=key_code(done.account)
        )


@api_operation(
    "listKeyApprovals",
    "Key holders: accounts an admin made or changed, waiting for your approval of their keys",
    responses={200: Approvals},
    errors=(401, 403),
    bearer=True,
    tags=("staff",),
)
async def list_approvals(request: Request) -> Response:
    return answer(await run_in_threadpool(_list, request))


def _list(request: Request) -> Approvals:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        return Approvals([ApprovalOut.of(v) for v in approval_service(request, db).pending(me)])


def _decision(approve: bool) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        if await request.body():
            await json_body(request)
        return answer(await run_in_threadpool(_decide, request, approve))

    return endpoint


approve_endpoint = api_operation(
    "approveKeyApproval",
    "Approve: the account gets the keys you hold that it may hold (never its admin or itself)",
    responses={200: ApprovalDecided},
    errors=(401, 403, 404, 409),
    bearer=True,
    tags=("staff",),
)(_decision(True))
# 409 not_enrolled: the person has not set their password yet, so there is no key code.
refuse_endpoint = api_operation(
    "refuseKeyApproval",
    "Refuse: the account keeps receiving no key; the refusal is recorded",
    responses={200: ApprovalDecided},
    errors=(401, 403, 404, 409),
    bearer=True,
    tags=("staff",),
)(_decision(False))


@api_operation(
    "listDirectoryClaims",
    "Key holders: directory changes an admin made that keep someone away from cases, waiting "
    "for your confirmation or refusal",
    responses={200: Claims},
    errors=(401, 403),
    bearer=True,
    tags=("staff",),
)
async def list_claims(request: Request) -> Response:
    return answer(await run_in_threadpool(_list_claims, request))


def _list_claims(request: Request) -> Claims:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        return Claims([ClaimOut.of(v) for v in claim_service(request, db).pending(me)])


def _claim_decision(confirm: bool) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        if await request.body():
            await json_body(request)
        return answer(await run_in_threadpool(_decide_claim, request, confirm))

    return endpoint


confirm_claim_endpoint = api_operation(
    "confirmDirectoryClaim",
    "Confirm: the link or reporting line enters the directory's history for good (never the "
    "admin who made it nor anyone it concerns)",
    responses={200: ClaimDecided},
    errors=(401, 403, 404, 409),
    bearer=True,
    tags=("staff",),
)(_claim_decision(True))
refuse_claim_endpoint = api_operation(
    "refuseDirectoryClaim",
    "Refuse: the claim is forgotten and whoever it kept away is owed their cases' keys again",
    responses={200: ClaimDecided},
    errors=(401, 403, 404, 409),
    bearer=True,
    tags=("staff",),
)(_claim_decision(False))


routes: list[BaseRoute] = [
    Route("/staff/enrol/{token}", enrol_form, methods=["GET"]),
    Route("/staff/enrol/{token}", enrol_submit, methods=["POST"]),
    Route("/staff/login/password", own_password_form, methods=["GET"]),
    Route("/staff/login/password", own_password_submit, methods=["POST"]),
    Route("/staff/approvals", approvals_page, methods=["GET"]),
    Route("/staff/approvals/{approval_id}", decide_page, methods=["POST"]),
    Route("/staff/approvals/claims/{claim_id}", claim_page, methods=["POST"]),
    Route("/api/v1/admin/accounts", create_account, methods=["POST"]),
    Route("/api/v1/admin/accounts/{staff_id}", update_account, methods=["PATCH"]),
    Route("/api/v1/staff/enrolment", complete_enrolment, methods=["POST"]),
    Route("/api/v1/staff/approvals", list_approvals, methods=["GET"]),
    Route("/api/v1/staff/approvals/{approval_id}/approve", approve_endpoint, methods=["POST"]),
    Route("/api/v1/staff/approvals/{approval_id}/refuse", refuse_endpoint, methods=["POST"]),
    Route("/api/v1/staff/directory-claims", list_claims, methods=["GET"]),
    Route(
        "/api/v1/staff/directory-claims/{claim_id}/confirm",
        confirm_claim_endpoint,
        methods=["POST"],
    ),
    Route(
        "/api/v1/staff/directory-claims/{claim_id}/refuse",
        refuse_claim_endpoint,
        methods=["POST"],
    ),
]
