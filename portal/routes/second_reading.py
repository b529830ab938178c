"""A second case reader agrees with one reader's unfounded ending of a case (HTML form and JSON).

The rule (who may agree, what agreeing does, the audit entry) is the domain's, in
cases/workflow/second_reader.py; these handlers parse, call it and answer. Disagreeing is a
reopen through the transition form or endpoint the contract already has.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cases.db import unit_of_work
from cases.errors import N_, Invalid
from portal.auth import require_staff
from portal.csrf import form_with_csrf
from portal.deps import casework
from portal.errors import media_type, read_json
from portal.notices import with_notice
from portal.openapi import api_operation
from portal.shapes import answer
from portal.shapes.staff import AgreedOut


def _agree(request: Request, ending: str | None) -> AgreedOut:
    with unit_of_work(request.app.state.db) as db:
        staff, case_id = require_staff(request, db), request.path_params["case_id"]
        return AgreedOut.of(casework(request, db).agree_second_reading(staff, case_id, ending))


async def agree_form(request: Request) -> Response:
    form = await form_with_csrf(request)
    # The page names the ending it showed: a stale page agrees to nothing (409).
    ending = form.get("ending")
    agreed = await run_in_threadpool(_agree, request, ending if isinstance(ending, str) else "")
    target = with_notice(request, f"/staff/cases/{agreed.id}#second-reading-heading")
    return RedirectResponse(target, status_code=303)


@api_operation(
    "agreeSecondReading",
    "A second case reader agrees with one reader's ending of the case as unsubstantiated or "
    "not actionable, or its dismissal unread from a flood: the ending stands and a closed "
    "case's retention period counts from today. Never the reader who ended it, an account "
    "related to theirs (made, reset or approved by it, or the other way round) nor anyone "
    "without the case key (403); 409 when nothing waits. To disagree, reopen the case "
    "(transitionCase to investigating). The body may name the ending it agrees to "
    '({"ending": second_reading.ending} from getCase): 409 ending_changed when the case moved '
    "on since (reopened, ended again or closed)",
    responses={200: AgreedOut},
    errors=(401, 403, 404, 409),
    bearer=True,
    tags=("staff",),
)
async def agree_api(request: Request) -> Response:
    ending = None
    if media_type(request) == "application/json" and await request.body():
        body = await read_json(request)
        named = body.get("ending")
        if named is not None and not isinstance(named, str):
            raise Invalid(N_("Please check the highlighted fields."), fields={"ending": "invalid"})
        ending = named
    return answer(await run_in_threadpool(_agree, request, ending))


routes: list[BaseRoute] = [
    Route("/staff/cases/{case_id}/second-reading", agree_form, methods=["POST"]),
    Route("/api/v1/cases/{case_id}/second-reading", agree_api, methods=["POST"]),
]
