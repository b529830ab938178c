"""Reporter side of anti-retaliation: filing a retaliation complaint from the status page
(HTML form and API). The access summary and disclosure notice ride on the status page."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cases.access.reporting import Complaint, file_retaliation, retaliation_recipients
from cases.db import unit_of_work
from cases.errors import CaseError, Invalid, Unauthorized
from cases.principals import ReporterPrincipal
from cases.reports.intake import SubjectInput
from cases.reports.models import Case
from portal.auth import REPORTER_COOKIE, require_reporter
from portal.csrf import form_with_csrf
from portal.deps import clock_of, handovers, intake_config, settings_of
from portal.errors import read_json
from portal.forms import submit
from portal.i18n import N_
from portal.openapi import api_operation
from portal.routes.reporter import words_kept
from portal.shapes import answer, parse
from portal.shapes.reporter import ComplaintFiled, ComplaintIn
from portal.templating import render

FIELD_MESSAGES = {
    "required": N_("Please tell us what happened."),
    "too_long": N_("This is too long."),
    "name_required": N_("Give a name for each person, or leave the whole row empty."),
    "too_many": N_("Name at most 20 people."),
    "unknown_recipient": N_("Choose only people from the list."),
    "invalid": N_("This is not valid."),
}
SUBJECT_ROWS = 3
# Where a filed complaint lands (a GET page: see `done`).
FORM = "/status/retaliation"
DONE = "/status/retaliation/done"
COMPLAINT_AGAIN = "complaint-form"


def _file_in(
    request: Request, db: Session, reporter: ReporterPrincipal, complaint: Complaint
) -> Case:
    config = intake_config(settings_of(request))
    return file_retaliation(db, clock_of(request), config, reporter, complaint)


def _file(request: Request, complaint: Complaint) -> Case:
    with unit_of_work(request.app.state.db) as db:
        return _file_in(request, db, require_reporter(request, db), complaint)


def _recipients(request: Request, db: Session, reporter: ReporterPrincipal) -> list[dict[str, str]]:
    config = intake_config(settings_of(request))
    people = retaliation_recipients(db, clock_of(request), config, reporter)
    return [{"id": s.id, "name": s.name or s.email} for s in people]


def _text(data: Any, name: str) -> str:
    """A text field: absent is empty; any other type is refused, never silently dropped."""
    value = data.get(name, "")
    if not isinstance(value, str):
        raise Invalid(N_("Please check the highlighted fields."), fields={name: "invalid"})
    return value


def _complaint_from_form(form: Any) -> Complaint:
    """The form's fields; blank rows of people are left out."""
    rows = zip(form.getlist("subject_name"), form.getlist("subject_id"), strict=False)
    subjects = [
        SubjectInput(name=str(name), employee_id=str(ident))
        for name, ident in rows
        if str(name).strip() or str(ident).strip()
    ]
    exclude = [str(v) for v in form.getlist("exclude")]
    return Complaint(_text(form, "summary"), _text(form, "details"), subjects, exclude)


def _page(
    request: Request,
    db: Session,
    reporter: ReporterPrincipal,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    names = [*values.get("subject_name", [])]
    ids = [*values.get("subject_id", [])]
    count = max(SUBJECT_ROWS, len(names))
    names += [""] * (count - len(names))
    ids += [""] * (count - len(ids))
    context = {
        "errors": errors,
        "values": values,
        "field_messages": FIELD_MESSAGES,
        "subject_rows": [{"name": n, "id": i} for n, i in zip(names, ids, strict=True)],
        "recipients": _recipients(request, db, reporter),
    }
    return render(request, "access/retaliation.html", context, status_code=status)


async def done_page(request: Request) -> Response:
    """Where a filed complaint lands: the day its confirmation is due, read from the link."""
    try:
        due = date.fromisoformat(request.query_params.get("by", ""))
    except ValueError:
        return RedirectResponse("/status", status_code=303)
    return render(request, "access/retaliation_done.html", {"acknowledge_by": due})


async def form_page(request: Request) -> Response:
    if not request.cookies.get(REPORTER_COOKIE):
        return RedirectResponse("/status", status_code=303)
    try:
        return await run_in_threadpool(_form_page, request)
    except CaseError:
        return RedirectResponse("/status", status_code=303)


def _form_page(request: Request) -> Response:
    """The complaint form; with `again`, handed back after a refusal with every word."""
    with unit_of_work(request.app.state.db) as db:
        reporter = require_reporter(request, db)
        again = request.query_params.get("again", "")
        kept = handovers(request, db).take(COMPLAINT_AGAIN, again) if again else None
        if kept is not None:
            return _page(request, db, reporter, kept["values"], kept["errors"], 422)
        return _page(request, db, reporter, {}, {})


async def submit_form(request: Request) -> Response:
    """Any refusal but a form error sends the reporter back to the status page."""
    form = await form_with_csrf(request)
    complaint = _complaint_from_form(form)
    try:
        return await run_in_threadpool(_submit, request, form, complaint)
    except CaseError:
        return RedirectResponse("/status", status_code=303)


def _submit(request: Request, form: FormData, complaint: Complaint) -> Response:
    def act(db: Session, reporter: ReporterPrincipal) -> Case:
        return _file_in(request, db, reporter, complaint)

    def again(db: Session, reporter: ReporterPrincipal, problem: Invalid) -> Response:
        values = {
            "summary": complaint.summary,
            "details": complaint.details,
            "subject_name": [str(v) for v in form.getlist("subject_name")],
            "subject_id": [str(v) for v in form.getlist("subject_id")],
            "exclude": complaint.exclude,
        }
        # The form again with its words, behind a redirect (cases/reports/handover.py).
        kept = {"values": values, "errors": problem.fields}
        token = handovers(request, db).put(COMPLAINT_AGAIN, kept)
        return RedirectResponse(f"{FORM}?{urlencode({'again': token})}", status_code=303)

    def done(db: Session, reporter: ReporterPrincipal, case: Case) -> Response:
        # A redirect, not a page: the browser would keep the complaint's body in its session
        # files (cases/reports/handover.py). The link carries only the confirmation's day.
        query = urlencode({"by": case.acknowledge_by.isoformat()})
        return RedirectResponse(f"{DONE}?{query}", status_code=303)

    try:
        return submit(request, require_reporter, act, done, again, (Invalid,))
    except Unauthorized:
        # The session ended while the reporter wrote: nothing was filed; the words come back.
        return words_kept(request, complaint_words(complaint))


def complaint_words(complaint: Complaint) -> str:
    """What the reporter typed into the complaint form, as one text to copy."""
    names = [" ".join(p for p in (s.name, s.employee_id) if p) for s in complaint.subjects]
    return "\n\n".join(part for part in (complaint.summary, complaint.details, *names) if part)


@api_operation(
    "fileRetaliationComplaint",
    "Report retaliation linked to this receipt's case: a separate case for retaliation officers",
    request=ComplaintIn,
    responses={201: ComplaintFiled},
    errors=(400, 401, 422, 429),
    bearer=True,
    tags=("reporter",),
)
async def submit_api(request: Request) -> Response:
    shape = parse(ComplaintIn, await read_json(request))
    subjects = [s.value() for s in shape.subjects]
    complaint = Complaint(shape.summary, shape.details, subjects, list(shape.exclude))
    case = await run_in_threadpool(_file, request, complaint)
    return answer(ComplaintFiled.of(case), status_code=201)


routes: list[BaseRoute] = [
    Route(FORM, form_page, methods=["GET"]),
    Route(DONE, done_page, methods=["GET"]),
    Route("/status/retaliation", submit_form, methods=["POST"]),
    Route("/api/v1/reporter/retaliation", submit_api, methods=["POST"]),
]
