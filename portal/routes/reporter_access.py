"""Reporter side of anti-retaliation: filing a retaliation complaint from the status page
(HTML form and API). The access summary and disclosure notice ride on the status page."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cases.access.reporting import Complaint, file_retaliation
from cases.db import unit_of_work
from cases.errors import CaseError, Invalid
from cases.reports.models import Case
from portal.auth import REPORTER_COOKIE, require_reporter
from portal.csrf import form_with_csrf
from portal.deps import clock_of, intake_config, settings_of
from portal.errors import read_json
from portal.i18n import N_
from portal.openapi import api_operation
from portal.templating import render

FIELD_MESSAGES = {
    "required": N_("Please tell us what happened."),
    "too_long": N_("This is too long."),
}


def _file(request: Request, summary: str, details: str) -> Case:
    with unit_of_work(request.app.state.db) as db:
        reporter = require_reporter(request, db)
        config = intake_config(settings_of(request))
        return file_retaliation(
            db, clock_of(request), config, reporter, Complaint(summary, details)
        )


def _text(data: Any, name: str) -> str:
    """A text field: absent is empty; any other type is refused, never silently dropped."""
    value = data.get(name, "")
    if not isinstance(value, str):
        raise Invalid(N_("Please check the highlighted fields."), fields={name: "invalid"})
    return value


async def form_page(request: Request) -> Response:
    if not request.cookies.get(REPORTER_COOKIE):
        return RedirectResponse("/status", status_code=303)
    return render(request, "access/retaliation.html", {"errors": {}, "values": {}})


async def submit_form(request: Request) -> Response:
    form = await form_with_csrf(request)
    summary, details = _text(form, "summary"), _text(form, "details")
    try:
        case = await run_in_threadpool(_file, request, summary, details)
    except Invalid as problem:
        context = {
            "errors": problem.fields,
            "values": {"summary": summary, "details": details},
            "field_messages": FIELD_MESSAGES,
        }
        return render(request, "access/retaliation.html", context, status_code=422)
    except CaseError:
        return RedirectResponse("/status", status_code=303)
    return render(request, "access/retaliation_done.html", {"case": case}, status_code=201)


@api_operation(
    "fileRetaliationComplaint",
    "Report retaliation linked to this receipt's case: a separate case for retaliation officers",
    request={
        "type": "object",
        "required": ["summary", "details"],
        "properties": {"summary": {"type": "string"}, "details": {"type": "string"}},
    },
    responses={201: {"type": "object"}},
    errors=(400, 401, 422, 429),
    bearer=True,
    tags=("reporter",),
)
async def submit_api(request: Request) -> Response:
    body = await read_json(request)
    case = await run_in_threadpool(_file, request, _text(body, "summary"), _text(body, "details"))
    answer = {
        "category": case.category_id,
        "status": case.status,
        "submitted_on": case.submitted_on.isoformat(),
        "acknowledge_by": case.acknowledge_by.isoformat(),
        "feedback_by": case.feedback_by.isoformat(),
    }
    return JSONResponse(answer, status_code=201)


routes: list[BaseRoute] = [
    Route("/status/retaliation", form_page, methods=["GET"]),
    Route("/status/retaliation", submit_form, methods=["POST"]),
    Route("/api/v1/reporter/retaliation", submit_api, methods=["POST"]),
]
