"""Auditor pages and API: the audit trail with filters, its verification, case statistics.

Only the `auditor` role may use them (403 for everyone else, admins included: see
cases/audit/trail.py). Nothing here reads report content; the pages show clear metadata.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from cases.audit.service import VerifyResult
from cases.audit.trail import (
    PAGE_SIZE,
    Statistics,
    TrailFilters,
    TrailPage,
    TrailRow,
    parse_day,
    require_auditor,
)
from cases.db import unit_of_work
from cases.errors import Invalid
from cases.principals import StaffPrincipal
from cases.staff.models import Role
from portal.auth import require_staff
from portal.deps import audit_trail
from portal.i18n import N_, request_locale
from portal.openapi import api_operation
from portal.routes.staff import STATUS_LABELS
from portal.templating import render

TAGS = ("audit",)
OBJECT = {"type": "object"}
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
}
# The domain's refusals (cases/audit/trail.py), listed so the catalogue check sees them.
DOMAIN_MESSAGES = (
    N_("Only auditors read the audit trail and statistics."),
    N_("Check the filters."),
)
KIND_LABELS = {"report": N_("Report"), "retaliation": N_("Retaliation complaint")}
# The chain check's reasons (cases/audit/service.py), in words for the page.
PROBLEM_LABELS = {
    "sequence gap": N_("An entry is missing or was added: the numbers do not follow on."),
    "does not follow": N_(
        "It does not follow the entry before it: one was deleted, inserted or moved."
    ),
    "contents do not match": N_("Its contents were changed after it was written."),
}
OVERDUE_LABELS = {
    "acknowledgement": N_("Not acknowledged in time"),
    "feedback": N_("No feedback in time"),
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


def row_json(row: TrailRow) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "at": row.at.isoformat(timespec="seconds") + "Z",
        "actor_kind": row.actor_kind,
        "actor_id": row.actor_id,
        "actor_roles": list(row.actor_roles),
        "action": row.action,
        "case_id": row.case_id,
        "case_reference": row.case_reference or None,
        "detail": row.detail,
    }


def verify_json(result: VerifyResult) -> dict[str, Any]:
    return {
        "intact": result.ok,
        "checked": result.checked,
        "first_bad_seq": result.first_bad_seq,
        "problem": result.problem or None,
    }


def statistics_json(stats: Statistics) -> dict[str, Any]:
    return {
        "total": stats.total,
        "by_status": stats.by_status,
        "by_kind": stats.by_kind,
        "by_category": stats.by_category,
        "by_channel": stats.by_channel,
        "by_month": stats.by_month,
        "overdue": stats.overdue,
    }


def as_auditor(work: Callable[[Request, Session, StaffPrincipal], Any]) -> Callable[..., Any]:
    """A JSON endpoint: bearer session, then the domain decides (auditors only)."""

    def run(request: Request) -> Any:
        with unit_of_work(request.app.state.db) as db:
            return work(request, db, require_staff(request, db))

    async def endpoint(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(run, request))

    return endpoint


def _entries(request: Request, db: Session, me: StaffPrincipal) -> dict[str, Any]:
    page = read_page(request, db, me)
    following = str(page.next_before) if page.next_before is not None else None
    return {"items": [row_json(r) for r in page.rows], "next": following}


def _verify(request: Request, db: Session, me: StaffPrincipal) -> dict[str, Any]:
    return verify_json(audit_trail(request, db).verify(me))


def _statistics(request: Request, db: Session, me: StaffPrincipal) -> dict[str, Any]:
    return statistics_json(audit_trail(request, db).statistics(me))


entries_api = api_operation(
    "listAuditEntries",
    "The audit trail, newest first; filters action, actor, role, case, since, until; "
    "page with before=<next>",
    responses={200: OBJECT},
    errors=(401, 403, 422),
    bearer=True,
    tags=TAGS,
)(as_auditor(_entries))
verify_api = api_operation(
    "verifyAuditTrail",
    "Check the hash chain: intact and how many entries, or the first broken one and why",
    responses={200: OBJECT},
    errors=(401, 403),
    bearer=True,
    tags=TAGS,
)(as_auditor(_verify))
statistics_api = api_operation(
    "getCaseStatistics",
    "Counts of cases by status, kind, category, channel, month; overdue counts",
    responses={200: OBJECT},
    errors=(401, 403),
    bearer=True,
    tags=TAGS,
)(as_auditor(_statistics))


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


def statistics_page(request: Request, db: Session, me: StaffPrincipal) -> Response:
    service = audit_trail(request, db)
    context = {
        "me": me,
        "stats": service.statistics(me),
        "names": service.names(request_locale(request)),
        "status_labels": STATUS_LABELS,
        "kind_labels": KIND_LABELS,
        "overdue_labels": OVERDUE_LABELS,
    }
    return render(request, "auditor/statistics.html", context)


routes: list[BaseRoute] = [
    Route("/api/v1/audit/entries", entries_api, methods=["GET"]),
    Route("/api/v1/audit/verify", verify_api, methods=["GET"]),
    Route("/api/v1/audit/statistics", statistics_api, methods=["GET"]),
    Route("/staff/audit", auditor_page(trail_page), methods=["GET"]),
    Route("/staff/audit/verify", auditor_page(verify_page), methods=["GET"]),
    Route("/staff/audit/statistics", auditor_page(statistics_page), methods=["GET"]),
]
