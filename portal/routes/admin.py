"""Admin pages: accounts, channels, categories, routing, teams, directory and outbox.

Admins only (403 for other staff, the login page for nobody). Handlers parse the form,
call cases/org/admin.py and render; every rule and every audit entry lives there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cases.db import new_id, unit_of_work
from cases.errors import CaseError, Conflict, Invalid
from cases.org.admin import AdminService, ChannelForm, require_admin
from cases.principals import StaffPrincipal
from cases.reports.attachments import StoredFile
from cases.staff.directory import parse_csv
from cases.staff.enrolment import enrolment_path
from cases.staff.models import Role
from cases.staff.roles import accounts_in_conflict
from portal.auth import require_staff
from portal.csrf import form_with_csrf
from portal.deps import (
    admin_service,
    retention_service,
    settings_of,
)
from portal.errors import http_status
from portal.forms import submit
from portal.i18n import N_
from portal.notices import with_notice
from portal.role_messages import ROLE_CONFLICT_MESSAGES
from portal.templating import render
from portal.uploads import ParsedUpload, UploadLimits, read_upload

DIRECTORY_MAX_BYTES = 16 * 1024 * 1024
ROLE_LABELS = {
    Role.ADMIN: N_("Admin"),
    Role.INVESTIGATOR: N_("Investigator"),
    Role.CUSTODIAN: N_("Identity custodian"),
    Role.REWARD_APPROVER: N_("Reward approver"),
    Role.FINANCE: N_("Finance"),
    Role.AUDITOR: N_("Auditor"),
    Role.RETALIATION_OFFICER: N_("Retaliation officer"),
    Role.ANALYST: N_("Analyst"),
}
FIELD_MESSAGES = {
    "required": N_("This is required."),
    "too_long": N_("This is too long."),
    "too_short": N_("Use at least 12 characters."),
    "common": N_("That password is too easy to guess; choose another."),
    "taken": N_("That short name is taken."),
    "bad_slug": N_("Use lower-case letters, digits and dashes."),
    "out_of_range": N_("This number is outside the allowed range."),
    "unknown": N_("No directory entry has that employee id."),
    "unknown_reference": N_("There is no case with this reference."),
    "no_role": N_("Only investigators receive reports: give this person that role first."),
    **ROLE_CONFLICT_MESSAGES,
    "invalid": N_("Enter a valid e-mail address."),
}
DIRECTORY_PROBLEMS = {
    "bad_header": N_(
        "The first row must name the columns: employee_id,name,email,department,manager_id"
    ),
    "bad_row": N_("A row is incomplete. Each row needs an employee id and a name."),
    "duplicate": N_("The same employee id appears twice."),
    "cycle": N_("The management chain goes round in a circle. Nothing was imported."),
    "too_many_rows": N_("The file has too many rows."),
    "encoding": N_("The file is not UTF-8 text."),
}
# The refusals an admin form shows on its page rather than as an error page.
REFUSED: tuple[type[CaseError], ...] = (Invalid, Conflict)

View = Callable[[Request, AdminService, StaffPrincipal], tuple[str, dict[str, Any]]]
Action = Callable[[Request, AdminService, StaffPrincipal, FormData], str]


def enrolment_url(request: Request, token: str) -> str:
    return settings_of(request).base_url.rstrip("/") + enrolment_path(token)


def _admin(request: Request, db: Session) -> tuple[AdminService, StaffPrincipal]:
    me = require_staff(request, db)
    require_admin(me)
    return admin_service(request, db), me


Admin = tuple[AdminService, StaffPrincipal]


def _render(
    request: Request,
    view: View,
    problem: CaseError | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    with unit_of_work(request.app.state.db) as db:
        return _render_in(request, db, _admin(request, db), view, problem, extra)


def _render_in(
    request: Request,
    db: Session,
    who: Admin,
    view: View,
    problem: CaseError | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    """An admin page from the request's one session, with a refusal's reason if there was one."""
    admin, me = who
    name, context = view(request, admin, me)
    context = {
        "me": me,
        "recovery_missing": not admin.recovery_configured(),
        "role_conflicts": accounts_in_conflict(db),
        "role_labels": ROLE_LABELS,
        "field_messages": FIELD_MESSAGES,
        "errors": problem.fields if isinstance(problem, Invalid) else {},
        "error": problem.message if problem is not None else None,
        "error_code": problem.code if problem is not None else None,
        **context,
        **(extra or {}),
    }
    status = 200 if problem is None else http_status(problem)
    return render(request, name, context, status_code=status)


def page(view: View) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        return await run_in_threadpool(_render, request, view)

    return endpoint


def action(act: Action, view: View) -> Callable[[Request], Any]:
    """A form POST: on success back to a page; refused input shows that page with the reason."""

    async def endpoint(request: Request) -> Response:
        form = await form_with_csrf(request)
        return await run_in_threadpool(_act, request, act, view, form)

    return endpoint


def _act(request: Request, act: Action, view: View, form: FormData) -> Response:
    def work(db: Session, who: Admin) -> str:
        return act(request, *who, form)

    def again(db: Session, who: Admin, problem: CaseError) -> Response:
        return _render_in(request, db, who, view, problem)

    def done(db: Session, who: Admin, target: str) -> Response:
        return RedirectResponse(with_notice(request, target), status_code=303)

    return submit(request, _admin, work, done, again, REFUSED)


def _field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def _number(form: FormData, name: str) -> int:
    raw = _field(form, name).strip()
    return int(raw) if raw.isdigit() and len(raw) < 6 else 0


def _roles(form: FormData) -> list[str]:
    return [v for v in form.getlist("roles") if isinstance(v, str)]


def _param(request: Request, name: str) -> str:
    return str(request.path_params[name])


# --- pages -------------------------------------------------------------------------------


def overview_view(request: Request, admin: AdminService, me: StaffPrincipal) -> tuple[str, Any]:
    return "admin/overview.html", {"overview": admin.overview(me)}


def staff_view(request: Request, admin: AdminService, me: StaffPrincipal) -> tuple[str, Any]:
    context = {
        "accounts": admin.accounts(me),
        "roles": list(Role),
        "withheld": admin.awaiting_approval(me),
        "unenrolled": admin.awaiting_enrolment(me),
        "enrolment": None,
    }
    return "admin/staff.html", context


def channels_view(request: Request, admin: AdminService, me: StaffPrincipal) -> tuple[str, Any]:
    return "admin/channels.html", {"channels": admin.channels(me)}


def channel_view(request: Request, admin: AdminService, me: StaffPrincipal) -> tuple[str, Any]:
    channel = admin.channel(me, _param(request, "channel_id"))
    accounts = admin.accounts(me)
    context = {
        "channel": channel,
        "rules": admin.rules(me, channel),
        "members": admin.members(me, channel),
        "accounts": accounts,
        "names": {a.id: a.name or a.email for a in accounts},
    }
    return "admin/channel.html", context


def category_view(request: Request, admin: AdminService, me: StaffPrincipal) -> tuple[str, Any]:
    category = admin.category(me, _param(request, "category_id"))
    request.path_params["channel_id"] = category.channel_id
    return channel_view(request, admin, me)


def outbox_view(request: Request, admin: AdminService, me: StaffPrincipal) -> tuple[str, Any]:
    mail_on = settings_of(request).smtp_url is not None
    return "admin/outbox.html", {"messages": admin.outbox(me), "mail_on": mail_on}


def directory_view(request: Request, admin: AdminService, me: StaffPrincipal) -> tuple[str, Any]:
    query = request.query_params.get("q", "")[:100]
    context = {
        "query": query,
        "entries": admin.directory(me, query),
        "missing": admin.missing_managers(me),
        "result": None,
        "directory_problems": DIRECTORY_PROBLEMS,
    }
    return "admin/directory.html", context


# --- actions -------------------------------------------------------------------------------


async def create_staff(request: Request) -> Response:
    """The new account's enrolment link is shown once, on this answer only (no-store)."""
    form = await form_with_csrf(request)
    return await run_in_threadpool(_enrolment_answer, request, form, _create)


def _create(request: Request, admin: AdminService, me: StaffPrincipal, form: FormData) -> str:
    made = admin.create_account(
        me,
        _field(form, "email"),
        _roles(form),
        name=_field(form, "name"),
        employee_id=_field(form, "employee_id"),
    )
    return made.enrolment_token


def _enrolment_answer(request: Request, form: FormData, act: Action) -> Response:
    def work(db: Session, who: Admin) -> str:
        return act(request, *who, form)

    def again(db: Session, who: Admin, problem: CaseError) -> Response:
        return _render_in(request, db, who, staff_view, problem)

    def done(db: Session, who: Admin, token: str) -> Response:
        extra = {"enrolment": enrolment_url(request, token)}
        return _render_in(request, db, who, staff_view, extra=extra)

    return submit(request, _admin, work, done, again, REFUSED)


def staff_roles(request: Request, admin: AdminService, me: StaffPrincipal, form: FormData) -> str:
    admin.set_roles(me, _param(request, "staff_id"), _roles(form))
    return "/admin/staff"


async def staff_state(request: Request) -> Response:
    """Deactivate, reactivate or reset a login; a reset shows its new enrolment link once."""
    form = await form_with_csrf(request)
    if _field(form, "do") in {"reset_login", "reset_totp"}:
        return await run_in_threadpool(_enrolment_answer, request, form, _reset)
    return await run_in_threadpool(_act, request, _switch, staff_view, form)


def _reset(request: Request, admin: AdminService, me: StaffPrincipal, form: FormData) -> str:
    return admin.reset_login(me, _param(request, "staff_id"))


def _switch(request: Request, admin: AdminService, me: StaffPrincipal, form: FormData) -> str:
    staff_id, what = _param(request, "staff_id"), _field(form, "do")
    if what == "deactivate":
        admin.deactivate(me, staff_id)
    elif what == "reactivate":
        admin.reactivate(me, staff_id)
    return "/admin/staff"


def staff_link(request: Request, admin: AdminService, me: StaffPrincipal, form: FormData) -> str:
    admin.link_employee(me, _param(request, "staff_id"), _field(form, "employee_id"))
    return "/admin/staff"


def _channel_form(form: FormData) -> ChannelForm:
    return ChannelForm(
        _field(form, "name_en"),
        _field(form, "name_zh"),
        _number(form, "acknowledge_days"),
        _number(form, "feedback_months"),
        active=_field(form, "active") == "1",
        retention_months=_number(form, "retention_months"),
    )


def create_channel(
    request: Request, admin: AdminService, me: StaffPrincipal, form: FormData
) -> str:
    channel = admin.create_channel(me, _field(form, "slug"), _channel_form(form))
    return f"/admin/channels/{channel.id}"


def edit_channel(request: Request, admin: AdminService, me: StaffPrincipal, form: FormData) -> str:
    channel_id = _param(request, "channel_id")
    admin.update_channel(me, channel_id, _channel_form(form))
    return f"/admin/channels/{channel_id}"


def add_category(request: Request, admin: AdminService, me: StaffPrincipal, form: FormData) -> str:
    channel_id = _param(request, "channel_id")
    admin.add_category(
        me,
        channel_id,
        _field(form, "slug"),
        _field(form, "name_en"),
        _field(form, "name_zh"),
        retaliation=_field(form, "retaliation") == "1",
    )
    return f"/admin/channels/{channel_id}"


def edit_category(request: Request, admin: AdminService, me: StaffPrincipal, form: FormData) -> str:
    category = admin.category(me, _param(request, "category_id"))
    move = _field(form, "move")
    if move in {"up", "down"}:
        admin.move_category(me, category.id, -1 if move == "up" else 1)
    else:
        admin.update_category(
            me,
            category.id,
            _field(form, "name_en"),
            _field(form, "name_zh"),
            active=_field(form, "active") == "1",
            retaliation=_field(form, "retaliation") == "1",
        )
    return f"/admin/channels/{category.channel_id}"


def add_rule(request: Request, admin: AdminService, me: StaffPrincipal, form: FormData) -> str:
    category = admin.category(me, _param(request, "category_id"))
    admin.add_rule(me, category.id, _field(form, "staff_id"), _field(form, "action"))
    return f"/admin/channels/{category.channel_id}"


def remove_rule(request: Request, admin: AdminService, me: StaffPrincipal, form: FormData) -> str:
    channel_id = admin.remove_rule(me, _param(request, "rule_id"))
    return f"/admin/channels/{channel_id}"


def add_member(request: Request, admin: AdminService, me: StaffPrincipal, form: FormData) -> str:
    channel_id = _param(request, "channel_id")
    admin.add_member(me, channel_id, _field(form, "staff_id"))
    return f"/admin/channels/{channel_id}"


def remove_member(request: Request, admin: AdminService, me: StaffPrincipal, form: FormData) -> str:
    channel_id = _param(request, "channel_id")
    admin.remove_member(me, channel_id, _param(request, "staff_id"))
    return f"/admin/channels/{channel_id}"


# --- legal holds (cases/retention) -----------------------------------------------------------


def holds_view(request: Request, admin: AdminService, me: StaffPrincipal) -> tuple[str, Any]:
    """Held cases; each proposed release with whether this admin may be its second person."""
    service = retention_service(request, admin.db)
    held = service.held_cases(me)
    releases = {case.id: service.release_of(case) for case in held}
    refusals = {
        case.id: service.approval_refused(me.account, case) for case in held if releases[case.id]
    }
    return "admin/holds.html", {"held": held, "releases": releases, "refusals": refusals}


def hold_case(request: Request, admin: AdminService, me: StaffPrincipal, form: FormData) -> str:
    service = retention_service(request, admin.db)
    service.hold_by_reference(me, _field(form, "reference"), _field(form, "reason"))
    return "/admin/holds"


def release_hold(request: Request, admin: AdminService, me: StaffPrincipal, form: FormData) -> str:
    """Propose the end of a hold; a second person approves it."""
    service = retention_service(request, admin.db)
    service.propose_release_by_reference(me, _field(form, "reference"), _field(form, "reason"))
    return "/admin/holds"


def approve_release(
    request: Request, admin: AdminService, me: StaffPrincipal, form: FormData
) -> str:
    retention_service(request, admin.db).approve_release_by_reference(me, _field(form, "reference"))
    return "/admin/holds"


def refuse_release(
    request: Request, admin: AdminService, me: StaffPrincipal, form: FormData
) -> str:
    retention_service(request, admin.db).refuse_release_by_reference(me, _field(form, "reference"))
    return "/admin/holds"


# --- directory upload ------------------------------------------------------------------------


class MemoryFile:
    """Keeps an uploaded CSV in memory: it is parsed at once and never stored as a file."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data

    def finish(self) -> StoredFile:
        digest = hashlib.sha256(self.data).hexdigest()
        return StoredFile(new_id(), self.name, len(self.data), digest, "text/csv", False)

    def abort(self) -> None:
        self.data.clear()


async def upload_directory(request: Request) -> Response:
    files: list[MemoryFile] = []

    def open_file(_field: str, name: str, _form: ParsedUpload) -> MemoryFile:
        files.append(MemoryFile(name))
        return files[-1]

    limits = UploadLimits(DIRECTORY_MAX_BYTES, DIRECTORY_MAX_BYTES, 1)
    await read_upload(request, limits, open_file)
    return await run_in_threadpool(_import, request, bytes(files[0].data) if files else b"")


def _import(request: Request, data: bytes) -> Response:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        problem = Invalid(DIRECTORY_PROBLEMS["encoding"], code="encoding")
        return _render(request, directory_view, problem)

    def work(db: Session, who: Admin) -> Any:
        admin, me = who
        return admin.import_directory(me, parse_csv(text))

    def again(db: Session, who: Admin, problem: Invalid) -> Response:
        return _render_in(request, db, who, directory_view, problem)

    def done(db: Session, who: Admin, result: Any) -> Response:
        return _render_in(request, db, who, directory_view, extra={"result": result})

    return submit(request, _admin, work, done, again, (Invalid,))


routes: list[BaseRoute] = [
    Route("/admin", page(overview_view), methods=["GET"]),
    Route("/admin/staff", page(staff_view), methods=["GET"]),
    Route("/admin/staff", create_staff, methods=["POST"]),
    Route("/admin/staff/{staff_id}/roles", action(staff_roles, staff_view), methods=["POST"]),
    Route("/admin/staff/{staff_id}/state", staff_state, methods=["POST"]),
    Route("/admin/staff/{staff_id}/employee", action(staff_link, staff_view), methods=["POST"]),
    Route("/admin/channels", page(channels_view), methods=["GET"]),
    Route("/admin/channels", action(create_channel, channels_view), methods=["POST"]),
    Route("/admin/channels/{channel_id}", page(channel_view), methods=["GET"]),
    Route("/admin/channels/{channel_id}", action(edit_channel, channel_view), methods=["POST"]),
    Route(
        "/admin/channels/{channel_id}/categories",
        action(add_category, channel_view),
        methods=["POST"],
    ),
    Route(
        "/admin/channels/{channel_id}/members", action(add_member, channel_view), methods=["POST"]
    ),
    Route(
        "/admin/channels/{channel_id}/members/{staff_id}/remove",
        action(remove_member, channel_view),
        methods=["POST"],
    ),
    Route(
        "/admin/categories/{category_id}", action(edit_category, category_view), methods=["POST"]
    ),
    Route(
        "/admin/categories/{category_id}/rules",
        action(add_rule, category_view),
        methods=["POST"],
    ),
    Route("/admin/rules/{rule_id}/remove", action(remove_rule, channels_view), methods=["POST"]),
    Route("/admin/outbox", page(outbox_view), methods=["GET"]),
    Route("/admin/holds", page(holds_view), methods=["GET"]),
    Route("/admin/holds", action(hold_case, holds_view), methods=["POST"]),
    Route("/admin/holds/release", action(release_hold, holds_view), methods=["POST"]),
    Route("/admin/holds/release/approve", action(approve_release, holds_view), methods=["POST"]),
    Route("/admin/holds/release/refuse", action(refuse_release, holds_view), methods=["POST"]),
    Route("/admin/directory", page(directory_view), methods=["GET"]),
    Route("/admin/directory", upload_directory, methods=["POST"]),
]
