"""Staff pages: login with TOTP (or enrolment), the case list, the case page and its forms.

Handlers parse, call cases/, render. Each POST verifies its CSRF field first; a session
that has not passed TOTP reaches only the code and enrolment pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

import crypto
from cases.casework.intake import require_recorder
from cases.casework.service import CaseworkService
from cases.db import unit_of_work
from cases.errors import Invalid
from cases.org.service import OrgService
from cases.principals import StaffPrincipal
from cases.reports.attachments import AttachmentWriter, UploadTarget
from cases.reports.intake import SubjectInput, Submission
from cases.reports.models import Outcome, Status
from cases.sessions.service import ActiveSession
from cases.staff.login import LoginStep
from cases.staff.models import StaffAccount
from cases.workflow.rules import ALLOWED
from portal.auth import STAFF_COOKIE, require_staff, staff_session
from portal.csrf import delete_host_cookie, form_with_csrf, set_host_cookie
from portal.deps import (
    casework,
    clock_of,
    login_service,
    recorded_intake,
    retention_service,
    settings_of,
)
from portal.downloads import file_response
from portal.errors import http_status
from portal.forms import submit
from portal.i18n import N_, request_locale
from portal.notices import with_notice
from portal.qr import totp_qr_svg
from portal.routes.rewards import case_panel
from portal.signin import STAFF_LOGIN as TO_LOGIN
from portal.start_pages import start_page
from portal.templating import render
from portal.uploads import UploadLimits, read_upload

STATUS_LABELS = {
    Status.NEW: N_("New"),
    Status.ACKNOWLEDGED: N_("Acknowledged"),
    Status.INVESTIGATING: N_("Investigating"),
    Status.CONCLUDED: N_("Concluded"),
    Status.CLOSED: N_("Closed"),
}
OUTCOME_LABELS = {
    Outcome.SUBSTANTIATED: N_("Substantiated"),
    Outcome.PARTIALLY_SUBSTANTIATED: N_("Partially substantiated"),
    Outcome.UNSUBSTANTIATED: N_("Unsubstantiated"),
    Outcome.NOT_ACTIONABLE: N_("Not actionable"),
}
FIELD_MESSAGES = {
    "required": N_("This is required."),
    "too_long": N_("This is too long."),
    "not_allowed": N_("This person may not work on this case."),
    "too_short": N_("Use at least 12 characters."),
    "common": N_("That password is too easy to guess; choose another."),
}
LOGIN_MESSAGES = (
    N_("Wrong e-mail or password."),
    N_("That code is wrong or was already used. Wait for the next one and try again."),
    N_("Your current password is wrong."),
)
TO_CASES = "/staff/cases"
TO_OWN_CHOICE = "/staff/login/password"


def redirect(path: str) -> Response:
    return RedirectResponse(path, status_code=303)


def common() -> dict[str, Any]:
    return {
        "status_labels": STATUS_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "field_messages": FIELD_MESSAGES,
    }


# --- login ---------------------------------------------------------------------------------


def login_page(request: Request) -> Response:
    return render(request, "staff/login.html", {"email": "", "error": None})


async def login_submit(request: Request) -> Response:
    form = await form_with_csrf(request)
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    step = await run_in_threadpool(_password_step, request, email, password)
    if step.failure is not None:
        context = {"email": email, "error": step.failure.message}
        return render(request, "staff/login.html", context, status_code=http_status(step.failure))
    return _with_cookie(
        redirect("/staff/login/totp" if step.stage == "totp" else "/staff/login/enroll"), step
    )


def _password_step(request: Request, email: str, password: str) -> LoginStep:
    with unit_of_work(request.app.state.db) as db:
        return login_service(request, db).password_step(email, password)


def _with_cookie(response: Response, step: LoginStep) -> Response:
    set_host_cookie(response, STAFF_COOKIE, step.token or "")
    return response


def _half(request: Request, db: Session, stage: str) -> ActiveSession | None:
    active = staff_session(request, db)
    return active if active is not None and active.stage == stage else None


def code_page(request: Request) -> Response:
    with unit_of_work(request.app.state.db) as db:
        if _half(request, db, "totp") is None:
            return redirect(TO_LOGIN)
    return render(request, "staff/totp.html", {"error": None})


def enrol_page(request: Request) -> Response:
    with unit_of_work(request.app.state.db) as db:
        return _enrol_in(request, db, None, 200)


def _enrol_in(request: Request, db: Session, error: str | None, status: int) -> Response:
    """The enrolment page (the secret being enrolled as a QR code), from the caller's session."""
    active = _half(request, db, "enroll")
    if active is None or active.staff_id is None:
        return redirect(TO_LOGIN)
    secret, _uri = login_service(request, db).enrolment_secret(active)
    email = db.get(StaffAccount, active.staff_id).email  # type: ignore[union-attr]
    return render(request, "staff/enroll.html", _enrol_context(secret, email, error), status)


def _enrol_context(secret: bytes, email: str, error: str | None) -> dict[str, Any]:
    return {
        "qr": totp_qr_svg(secret, email),
        "secret": crypto.totp_secret_b32(secret),
        "error": error,
    }


async def code_submit(request: Request) -> Response:
    form = await form_with_csrf(request)
    stage = "enroll" if request.url.path.endswith("/enroll") else "totp"
    return await run_in_threadpool(_code_step, request, stage, str(form.get("code", "")))


def _code_step(request: Request, stage: str, code: str) -> Response:
    """A refused code shows its page again from the same session; a right one goes on to the
    account's start page (portal/start_pages.py) or to choosing one's own password."""
    with unit_of_work(request.app.state.db) as db:
        active = _half(request, db, stage)
        if active is None:
            return redirect(TO_LOGIN)
        step = login_service(request, db).code_step(active, code)
        if step.failure is not None and stage == "enroll":
            return _enrol_in(request, db, step.failure.message, 401)
        account = db.get(StaffAccount, active.staff_id) if active.staff_id else None
        home = start_page(account.role_names if account is not None else ())
    if step.failure is not None:
        context = {"error": step.failure.message}
        return render(request, "staff/totp.html", context, status_code=http_status(step.failure))
    return _with_cookie(redirect(home if step.stage == "full" else TO_OWN_CHOICE), step)


async def logout(request: Request) -> Response:
    form = await form_with_csrf(request)
    everywhere = form.get("everywhere") == "1"
    await run_in_threadpool(_logout, request, everywhere)
    response = redirect(TO_LOGIN)
    delete_host_cookie(response, STAFF_COOKIE)
    return response


def _logout(request: Request, everywhere: bool) -> None:
    with unit_of_work(request.app.state.db) as db:
        active = staff_session(request, db)
        if active is None:
            return
        service = login_service(request, db)
        if everywhere:
            service.logout_everywhere(require_staff(request, db))
        else:
            service.logout(active)


# --- signed-in pages -----------------------------------------------------------------------


def signed_in(page: Callable[[Request, Session, StaffPrincipal], Response]) -> Callable[..., Any]:
    """Runs a page with the caller's principal; no full session sends them to the login."""

    def endpoint(request: Request) -> Response:
        with unit_of_work(request.app.state.db) as db:
            return page(request, db, require_staff(request, db))

    return endpoint


def home(request: Request, db: Session, me: StaffPrincipal) -> Response:
    """/staff sends a signed-in member to their start page (portal/start_pages.py)."""
    return redirect(start_page(me.account.role_names))


def case_page(request: Request, db: Session, me: StaffPrincipal) -> Response:
    return render_case(request, db, me, {}, 200)


def render_case(
    request: Request, db: Session, me: StaffPrincipal, errors: dict[str, str], status: int
) -> Response:
    work = casework(request, db)
    case_id = request.path_params["case_id"]
    view = work.view(me, case_id)
    context = {
        "view": view,
        "me": me,
        "errors": errors,
        "next_statuses": sorted(ALLOWED.get(view.case.status, frozenset())),
        "candidates": work.candidates(me, case_id) if not view.awaiting_access else [],
        "locale": request_locale(request),
        "rewards": case_panel(request, db, me, view),
        "retention": retention_service(request, db).schedule(view.case),
        # Why this viewer may not approve a proposed end of the hold (None: they may).
        "release_refusal": retention_service(request, db).approval_refused(me.account, view.case),
    }
    return render(request, "staff/case.html", {**common(), **context}, status_code=status)


def download(request: Request) -> Response:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        params = request.path_params
        ticket = casework(request, db).download(me, params["case_id"], params["file_id"])
    return file_response(request, ticket)


Action = Callable[[CaseworkService, StaffPrincipal, str, FormData], object]


def case_action(action: Action) -> Callable[[Request], Any]:
    """A form on the case page: on success back to the page, on Invalid the page with errors."""

    async def endpoint(request: Request) -> Response:
        form = await form_with_csrf(request)
        return await run_in_threadpool(_act, request, action, form)

    return endpoint


def _act(request: Request, action: Action, form: FormData) -> Response:
    case_id = request.path_params["case_id"]

    def act(db: Session, me: StaffPrincipal) -> None:
        action(casework(request, db), me, case_id, form)

    def again(db: Session, me: StaffPrincipal, problem: Invalid) -> Response:
        return render_case(request, db, me, problem.fields, 422)

    def done(db: Session, me: StaffPrincipal, _: None) -> Response:
        return redirect(with_notice(request, f"/staff/cases/{case_id}"))

    return submit(request, require_staff, act, done, again, (Invalid,))


def _field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def _message(work: CaseworkService, me: StaffPrincipal, case_id: str, form: FormData) -> None:
    work.add_message(me, case_id, _field(form, "body"))


def _note(work: CaseworkService, me: StaffPrincipal, case_id: str, form: FormData) -> None:
    work.add_note(me, case_id, _field(form, "note"))


def _transition(work: CaseworkService, me: StaffPrincipal, case_id: str, form: FormData) -> None:
    work.transition(
        me, case_id, _field(form, "status"), _field(form, "reason"), _field(form, "outcome")
    )


def _assign(work: CaseworkService, me: StaffPrincipal, case_id: str, form: FormData) -> None:
    work.assign(me, case_id, _field(form, "staff_id"))


async def upload_evidence(request: Request) -> Response:
    """Staff evidence streams in encrypted; the case key is opened before any byte is stored."""
    case_id = request.path_params["case_id"]
    target = await run_in_threadpool(_upload_target, request, case_id)
    factory, clock = request.app.state.db, clock_of(request)
    parsed = await read_upload(
        request,
        UploadLimits.of(settings_of(request)),
        lambda _field, name, _form: AttachmentWriter(factory, clock, target, name),
    )
    await run_in_threadpool(_link, request, case_id, parsed.file_ids)
    return redirect(with_notice(request, f"/staff/cases/{case_id}"))


def _upload_target(request: Request, case_id: str) -> UploadTarget:
    settings = settings_of(request)
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        key = casework(request, db).evidence_key(me, case_id)
    return UploadTarget(
        case_id=case_id,
        case_key=key,
        author="staff",
        grace_seconds=settings.limits.unlinked_upload_grace_seconds,
        chunk_size=settings.limits.chunk_size,
        zone=settings.timezone,
        staff_id=me.id,
        clean_max_bytes=settings.limits.clean_max_bytes,
    )


def _link(request: Request, case_id: str, ids: list[str]) -> None:
    with unit_of_work(request.app.state.db) as db:
        casework(request, db).link_evidence(require_staff(request, db), case_id, ids)


def _unassign(work: CaseworkService, me: StaffPrincipal, case_id: str, form: FormData) -> None:
    work.unassign(me, case_id, _field(form, "staff_id"))


# --- reports taken down by phone, in a meeting or from a letter ----------------------------


def record_page(request: Request, db: Session, me: StaffPrincipal) -> Response:
    require_recorder(me)
    return _render_record(request, db, me, {}, 200)


def _render_record(
    request: Request, db: Session, me: StaffPrincipal, errors: dict[str, str], status: int
) -> Response:
    context = {"me": me, "errors": errors, "channels": OrgService(db).active_channels()}
    return render(request, "staff/record.html", {**common(), **context}, status_code=status)


async def record_submit(request: Request) -> Response:
    form = await form_with_csrf(request)
    return await run_in_threadpool(_record, request, form)


def _record(request: Request, form: FormData) -> Response:
    """The receipt is shown on this one answer (no-store) and is never kept anywhere."""
    category_id = _field(form, "category")
    submission = Submission(
        channel_id=category_id.partition(":")[0],
        category_id=category_id.partition(":")[2],
        summary=_field(form, "summary"),
        details=_field(form, "details"),
        subjects=[SubjectInput(name=_field(form, "subject"))] if _field(form, "subject") else [],
    )

    def act(db: Session, me: StaffPrincipal) -> dict[str, Any]:
        filed = recorded_intake(request, db).record(me, submission, _field(form, "intake"))
        return {"me": me, "receipt": filed.receipt.formatted(), "case": filed.case}

    def again(db: Session, me: StaffPrincipal, problem: Invalid) -> Response:
        return _render_record(request, db, me, problem.fields, 422)

    def done(db: Session, me: StaffPrincipal, context: dict[str, Any]) -> Response:
        return render(request, "staff/recorded.html", {**common(), **context})

    return submit(request, require_staff, act, done, again, (Invalid,))


# --- account -------------------------------------------------------------------------------


def account_page(request: Request, db: Session, me: StaffPrincipal) -> Response:
    return render(request, "staff/account.html", {"me": me, "errors": {}, "error": None})


async def change_password(request: Request) -> Response:
    form = await form_with_csrf(request)
    current, new = _field(form, "current"), _field(form, "new")
    rotate = _field(form, "rotate") == "yes"
    return await run_in_threadpool(_change_password, request, current, new, rotate)


def _change_password(request: Request, current: str, new: str, rotate: bool = False) -> Response:
    def act(db: Session, me: StaffPrincipal) -> LoginStep:
        return login_service(request, db).change_password(me, current, new, rotate=rotate)

    def again(db: Session, me: StaffPrincipal, problem: Invalid) -> Response:
        context = {"me": me, "errors": problem.fields, "error": None}
        return render(request, "staff/account.html", context, 422)

    def done(db: Session, me: StaffPrincipal, step: LoginStep) -> Response:
        if step.failure is not None:
            context = {"me": me, "errors": {}, "error": step.failure.message}
            return render(request, "staff/account.html", context, 401)
        return _with_cookie(redirect("/staff/account?changed=1"), step)

    return submit(request, require_staff, act, done, again, (Invalid,))


routes: list[BaseRoute] = [
    Route("/staff", signed_in(home), methods=["GET"]),
    Route("/staff/login", login_page, methods=["GET"]),
    Route("/staff/login", login_submit, methods=["POST"]),
    Route("/staff/login/totp", code_page, methods=["GET"]),
    Route("/staff/login/totp", code_submit, methods=["POST"]),
    Route("/staff/login/enroll", enrol_page, methods=["GET"]),
    Route("/staff/login/enroll", code_submit, methods=["POST"]),
    Route("/staff/logout", logout, methods=["POST"]),
    Route("/staff/cases/{case_id}", signed_in(case_page), methods=["GET"]),
    Route("/staff/cases/{case_id}/messages", case_action(_message), methods=["POST"]),
    Route("/staff/cases/{case_id}/notes", case_action(_note), methods=["POST"]),
    Route("/staff/cases/{case_id}/transition", case_action(_transition), methods=["POST"]),
    Route("/staff/cases/{case_id}/assign", case_action(_assign), methods=["POST"]),
    Route("/staff/cases/{case_id}/unassign", case_action(_unassign), methods=["POST"]),
    Route("/staff/record", signed_in(record_page), methods=["GET"]),
    Route("/staff/record", record_submit, methods=["POST"]),
    Route("/staff/cases/{case_id}/evidence", upload_evidence, methods=["POST"]),
    Route("/staff/cases/{case_id}/files/{file_id}", download, methods=["GET"]),
    Route("/staff/account", signed_in(account_page), methods=["GET"]),
    Route("/staff/account", change_password, methods=["POST"]),
]
