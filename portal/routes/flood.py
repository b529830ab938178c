"""Triage of reports that arrived during a flood: dismiss them in bulk (HTML form and JSON).

The rule (who may, which cases, what dismissing does, the audit entry per case) is the
domain's, in cases/workflow/flood.py; these handlers parse, call it and answer.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cases.db import unit_of_work
from portal.auth import require_staff
from portal.csrf import form_with_csrf
from portal.deps import flood_triage
from portal.errors import read_json
from portal.notices import with_notice
from portal.openapi import api_operation
from portal.shapes import answer, parse
from portal.shapes.flood import DismissalIn, Dismissed

FLOOD_LIST = "/staff/cases?flood=only"


def _dismiss(request: Request, case_ids: list[str]) -> int:
    with unit_of_work(request.app.state.db) as db:
        return flood_triage(request, db).dismiss(require_staff(request, db), case_ids)


async def dismiss_form(request: Request) -> Response:
    form = await form_with_csrf(request)
    case_ids = [value for value in form.getlist("case") if isinstance(value, str)]
    await run_in_threadpool(_dismiss, request, case_ids)
    return RedirectResponse(with_notice(request, FLOOD_LIST), status_code=303)


@api_operation(
    "dismissFloodReports",
    "Dismiss reports that arrived during a flood, all or none: each must be visible to the "
    "caller, flood-marked and still new; each is closed as not actionable and audited, and "
    "waits for a second case reader (agreeSecondReading) before its retention period counts",
    request=DismissalIn,
    responses={200: Dismissed},
    errors=(400, 401, 403, 404, 409, 415, 422),
    bearer=True,
    tags=("staff",),
)
async def dismiss_api(request: Request) -> Response:
    cases = parse(DismissalIn, await read_json(request)).cases
    dismissed = await run_in_threadpool(_dismiss, request, cases)
    return answer(Dismissed(dismissed=dismissed))


routes: list[BaseRoute] = [
    Route("/staff/flood/dismiss", dismiss_form, methods=["POST"]),
    Route("/api/v1/flood/dismissals", dismiss_api, methods=["POST"]),
]
