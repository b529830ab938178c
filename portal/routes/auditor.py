"""Auditor pages and API: the audit trail with filters and its verification.

Only the `auditor` role may use them (403 for everyone else, admins included: see
cases/audit/trail.py). Nothing here reads report content. The statistics moved to
portal/routes/statistics.py (analysts, admins and auditors).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cases.audit.trail import (
    PAGE_SIZE,
    TrailFilters,
    TrailPage,
    parse_day,
    require_auditor,
)
from cases.db import unit_of_work
from cases.errors import Invalid
from cases.principals import StaffPrincipal
from cases.staff.models import Role
from portal.auth import require_staff
from portal.deps import audit_trail
from portal.i18n import N_
from portal.openapi import api_operation
from portal.shapes import answer
from portal.shapes.audit import TrailPageOut, VerifyOut
from portal.templating import render

TAGS = ("audit",)
FIELD_MESSAGES = {
    "bad_date": N_("Write the date as YYYY-MM-DD."),
    "too_long": N_("This is too long."),
    "invalid": N_("Choose one of the options."),
    "before_since": N_("The end date must not come before the start date."),
}
ROLE_LABELS = {
    Role.ADMIN: N_("Administrator"),
    Role.INVESTIGATOR: N_("Investigator"),
    Role.CUSTODIAN: N_("Identity custodian"),
    Role.REWARD_APPROVER: N_("Reward approver"),
    Role.FINANCE: N_("Finance"),
    Role.AUDITOR: N_("Auditor"),
    Role.RETALIATION_OFFICER: N_("Retaliation officer"),
    Role.ANALYST: N_("Analyst"),
}
# The chain check's reasons (cases/audit/service.py), in words for the page.
PROBLEM_LABELS = {
    "sequence gap": N_("An entry is missing or was added: the numbers do not follow on."),
    "does not follow": N_(
        "It does not follow the entry before it: one was deleted, inserted or moved."
    ),
    "contents do not match": N_("Its contents were changed after it was written."),
}


def filters_from(params: QueryParams) -> TrailFilters:
    """The filters of a query string; a malformed date is Invalid naming its field."""
    return TrailFilters(
        action=params.get("action", "").strip(),
        actor_id=params.get("actor", "").strip(),
        role=params.get("role", "").strip(),
        case=params.get("case", "").strip(),
        since=parse_day(params.get("since", ""), "since"),
        until=parse_day(params.get("until", ""), "until"),
    )


def number(params: QueryParams, name: str, default: int | None) -> int | None:
    raw = params.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else default


def read_page(request: Request, db: Session, me: StaffPrincipal) -> TrailPage:
    params = request.query_params
    limit = number(params, "limit", PAGE_SIZE) or PAGE_SIZE
    return audit_trail(request, db).page(
        me, filters_from(params), number(params, "before", None), limit
    )


# --- JSON ----------------------------------------------------------------------------------


def as_auditor(
    work: Callable[[Request, Session, StaffPrincipal], BaseModel],
) -> Callable[..., Any]:
    """A JSON endpoint: bearer session, then the domain decides (auditors only)."""

    def run(request: Request) -> BaseModel:
        with unit_of_work(request.app.state.db) as db:
            return work(request, db, require_staff(request, db))

    async def endpoint(request: Request) -> Response:
        return answer(await run_in_threadpool(run, request))

    return endpoint


def _entries(request: Request, db: Session, me: StaffPrincipal) -> TrailPageOut:
    return TrailPageOut.of(read_page(request, db, me))


def _verify(request: Request, db: Session, me: StaffPrincipal) -> VerifyOut:
    return VerifyOut.of(audit_trail(request, db).verify(me))


entries_api = api_operation(
    "listAuditEntries",
    "The audit trail, newest first; filters action, actor, role, case, since, until; "
    "page with before=<next>",
    responses={200: TrailPageOut},
    errors=(401, 403, 422),
    bearer=True,
    tags=TAGS,
)(as_auditor(_entries))
verify_api = api_operation(
    "verifyAuditTrail",
    "Check the hash chain: intact and how many entries, or the first broken one and why",
    responses={200: VerifyOut},
    errors=(401, 403),
    bearer=True,
    tags=TAGS,
)(as_auditor(_verify))
# --- pages ---------------------------------------------------------------------------------


def auditor_page(
    page: Callable[[Request, Session, StaffPrincipal], Response],
) -> Callable[[Request], Any]:
    """A signed-in auditor page; no full session goes to the login, other roles get 403."""

    def run(request: Request) -> Response:
        with unit_of_work(request.app.state.db) as db:
            me = require_staff(request, db)
            require_auditor(me)
            return page(request, db, me)

    async def endpoint(request: Request) -> Response:
        return await run_in_threadpool(run, request)

    return endpoint


def trail_page(request: Request, db: Session, me: StaffPrincipal) -> Response:
    service = audit_trail(request, db)
    context: dict[str, Any] = {
        "me": me,
        "actions": service.actions(),
        "role_labels": ROLE_LABELS,
        "field_messages": FIELD_MESSAGES,
        "errors": {},
        "query": {k: request.query_params.get(k, "") for k in FILTER_PARAMS},
    }
    try:
        page = read_page(request, db, me)
    except Invalid as problem:
        context.update(errors=problem.fields, page=None, next_href=None)
        return render(request, "auditor/trail.html", context, status_code=422)
    context.update(page=page, next_href=_next_href(request, page))
    return render(request, "auditor/trail.html", context)


FILTER_PARAMS = ("action", "actor", "role", "case", "since", "until")


def _next_href(request: Request, page: TrailPage) -> str | None:
    if page.next_before is None:
        return None
    params = {k: v for k, v in request.query_params.items() if k in FILTER_PARAMS and v}
    return "/staff/audit?" + urlencode({**params, "before": page.next_before})


def verify_page(request: Request, db: Session, me: StaffPrincipal) -> Response:
    result = audit_trail(request, db).verify(me)
    why = next(
        (text for start, text in PROBLEM_LABELS.items() if result.problem.startswith(start)), ""
    )
    return render(request, "auditor/verify.html", {"me": me, "result": result, "why": why})


routes: list[BaseRoute] = [
    Route("/api/v1/audit/entries", entries_api, methods=["GET"]),
    Route("/api/v1/audit/verify", verify_api, methods=["GET"]),
    Route("/staff/audit", auditor_page(trail_page), methods=["GET"]),
    Route("/staff/audit/verify", auditor_page(verify_page), methods=["GET"]),
]
