"""Staff pages and API for anti-retaliation work on a case: disclosure, recusal, subjects,
retaliation-risk assessment, protective measures, masking and redaction.

Precedence of refusals, the same on every case endpoint here and in staff_api: a role that
may never use an endpoint gets 403 whatever the case id (the answer is the same for every
id, so it tells nothing about any case); otherwise a case the caller may not see is 404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cases.access.disclosure import RequestView
from cases.access.redaction import ItemView, Span
from cases.db import unit_of_work
from cases.errors import CaseError, Forbidden, Invalid, Unauthorized
from cases.principals import StaffPrincipal
from cases.reports.intake import SubjectInput
from cases.reports.models import Case
from cases.staff.models import Role
from cases.staff.roles import CASE_READERS, IDENTITY_READERS, POLICY_ROLES
from portal.auth import require_staff
from portal.csrf import form_with_csrf
from portal.deps import AccessServices as Services
from portal.deps import access_services, intake_config, settings_of
from portal.errors import read_json
from portal.i18n import N_
from portal.notices import with_notice
from portal.openapi import api_operation
from portal.templating import render

TAGS = ("access",)
STRING = {"type": "string"}
OBJECT = {"type": "object"}
NO_ROLE = N_("Your roles do not allow this.")
# Why a candidate of a named person needs confirming (cases/access/matching.py).
MATCH_LABELS = {
    "name": N_("needs confirming: matched by name only"),
    "alias": N_("needs confirming: matched by another name in the directory"),
    "pinyin": N_("needs confirming: matched by the pinyin of a Chinese name"),
}
FIELD_MESSAGES = {
    "required": N_("This is required."),
    "too_long": N_("This is too long."),
    "invalid": N_("Choose one of the options."),
    "in_past": N_("Choose a date from today on."),
    "not_found": N_("Copy the exact words to hide from the text above."),
    "out_of_range": N_("Choose a part of the text."),
    "unknown_candidate": N_("Choose one of the people listed."),
    "bad_date": N_("Write the date as YYYY-MM-DD."),
    "unknown_employee": N_("Nobody in the staff directory has that employee ID."),
}


def require_roles(me: StaffPrincipal, roles: Collection[str]) -> None:
    if not me.account.role_names & set(roles):
        raise Forbidden(NO_ROLE)


def text(data: Mapping[str, Any], name: str) -> str:
    """A text field: absent is empty; any other type is refused, never silently dropped."""
    value = data.get(name, "")
    if not isinstance(value, str):
        raise Invalid(N_("Please check the highlighted fields."), fields={name: "invalid"})
    return value


def day(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(
            "Write the date as YYYY-MM-DD.", fields={"follow_up_on": "bad_date"}
        ) from None


def span_from(
    s: Services, me: StaffPrincipal, case: Case, key: bytes, item_id: str, data: Mapping[str, Any]
) -> Span | Invalid:
    """A span from the API's offsets, or from the exact words a page's form names."""
    start, end = data.get("start"), data.get("end")
    if isinstance(start, int) and isinstance(end, int):
        return Span(start, end)
    return s.redaction.span_of(me, case, key, item_id, text(data, "text"))


# --- what each action does (shared by the API and the pages) -------------------------------

Action = Callable[[Services, StaffPrincipal, Case, Request, Mapping[str, Any]], Any]


def _recuse(s: Services, me: StaffPrincipal, case: Case, _r: Request, _d: Any) -> Any:
    s.access.recuse(me, case)
    return {"recused": True}


def _add_subject(s: Services, me: StaffPrincipal, case: Case, r: Request, d: Any) -> Any:
    name = text(d, "name").strip()
    if not name or len(name) > 200:
        raise Invalid("Give the person's name.", fields={"subject_name": "required"})
    subject = SubjectInput(name=name, employee_id=text(d, "employee_id"), email=text(d, "email"))
    key = s.work.require_key(me, case)
    revoked = s.access.add_subject(me, case, key, subject, intake_config(settings_of(r)))
    return {"revoked": len(revoked)}


def _confirm_subject(s: Services, me: StaffPrincipal, case: Case, r: Request, d: Any) -> Any:
    key = s.work.require_key(me, case)
    subject_id = r.path_params.get("subject_id") or text(d, "subject")
    return {"revoked": len(s.access.confirm_subject(me, case, key, subject_id))}


def _reject_subject(s: Services, me: StaffPrincipal, case: Case, r: Request, d: Any) -> Any:
    subject_id = r.path_params.get("subject_id") or text(d, "subject")
    return {"revoked": len(s.access.reject_subject(me, case, subject_id))}


def _subjects(s: Services, me: StaffPrincipal, case: Case, _r: Request, _d: Any) -> Any:
    rows = s.access.subjects(case, s.work.require_key(me, case, "subjects"))
    return {"items": [row.__dict__ for row in rows]}


def _request_disclosure(s: Services, me: StaffPrincipal, case: Case, _r: Request, d: Any) -> Any:
    try:
        row = s.disclosure.request(me, case, text(d, "reason"))
    except Invalid as problem:
        raise Invalid(problem.message, fields=_prefixed("disclosure_", problem)) from None
    return {"id": row.id, "status": row.status}


def _disclosures(s: Services, me: StaffPrincipal, case: Case, _r: Request, _d: Any) -> Any:
    return {"items": [request_json(v) for v in s.disclosure.requests(me, case)]}


def _identity(s: Services, me: StaffPrincipal, case: Case, _r: Request, _d: Any) -> Any:
    return {"identity": s.disclosure.identity(me, case), "confidential": case.confidential}


def _assess(s: Services, me: StaffPrincipal, case: Case, _r: Request, d: Any) -> Any:
    key = s.work.require_key(me, case)
    row = s.protection.assess(
        me,
        case,
        key,
        likelihood=text(d, "likelihood"),
        who=text(d, "who"),
        measures=text(d, "measures"),
    )
    return {"id": row.id, "likelihood": row.likelihood}


def _protection(s: Services, me: StaffPrincipal, case: Case, _r: Request, _d: Any) -> Any:
    key = s.work.require_key(me, case, "protection")
    latest = s.protection.latest(case, key)
    measures = s.protection.measures(case, key)
    return {
        "assessment": latest.__dict__ if latest else None,
        "measures": [{**m.__dict__, "follow_up_on": m.follow_up_on.isoformat()} for m in measures],
    }


def _add_measure(s: Services, me: StaffPrincipal, case: Case, _r: Request, d: Any) -> Any:
    key = s.work.require_key(me, case)
    when = day(text(d, "follow_up_on"))
    row = s.protection.add_measure(
        me, case, key, description=text(d, "description"), follow_up_on=when
    )
    return {"id": row.id, "follow_up_on": row.follow_up_on.isoformat()}


def _complete_measure(s: Services, me: StaffPrincipal, case: Case, r: Request, _d: Any) -> Any:
    s.protection.complete_measure(me, case, r.path_params["measure_id"])
    return {"status": "done"}


def _items(s: Services, me: StaffPrincipal, case: Case, _r: Request, _d: Any) -> Any:
    key = s.work.require_key(me, case, "items")
    return {"items": [item_json(v) for v in s.redaction.items(me, case, key)]}


def _mask(s: Services, me: StaffPrincipal, case: Case, r: Request, d: Any) -> Any:
    key, item_id = s.work.require_key(me, case, "items"), r.path_params["item_id"]
    span = span_from(s, me, case, key, item_id, d)
    if isinstance(span, Invalid):
        return span
    return {"id": s.redaction.mask(me, case, key, item_id, span).id}


def _unmask(s: Services, me: StaffPrincipal, case: Case, r: Request, _d: Any) -> Any:
    s.redaction.unmask(me, case, r.path_params["mask_id"])
    return {"removed": True}


def _redact(s: Services, me: StaffPrincipal, case: Case, r: Request, d: Any) -> Any:
    key, item_id = s.work.require_key(me, case, "items"), r.path_params["item_id"]
    span = span_from(s, me, case, key, item_id, d)
    if isinstance(span, Invalid):
        return span
    s.redaction.redact(me, case, key, item_id, span)
    return {"redacted": True}


def _prefixed(prefix: str, problem: Invalid) -> dict[str, str]:
    return {prefix + name: code for name, code in problem.fields.items()}


def request_json(view: RequestView) -> dict[str, Any]:
    return {
        "id": view.id,
        "requester": view.requester_id,
        "status": view.status,
        "reason": view.reason,
        "decision_reason": view.decision_reason,
        "decided_by": view.decided_by,
    }


def item_json(view: ItemView) -> dict[str, Any]:
    return {
        "id": view.id,
        "kind": view.kind,
        "author": view.author,
        "body": view.body,
        "redacted": view.redacted,
        "masks": [m.__dict__ for m in view.masks],
    }


# --- running an action on a case ------------------------------------------------------------


def run_action(
    request: Request, roles: Collection[str], action: Action, data: Mapping[str, Any]
) -> Any:
    """Role check (403), then the policy (404), then the action; one unit of work."""
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        require_roles(me, roles)
        s = access_services(request, db)
        case = s.work.visible_case(me, request.path_params["case_id"])
        result = action(s, me, case, request, data)
    # An action may hand back its refusal instead of raising it, so that what it recorded
    # (an audited failed match) is committed before the refusal is answered.
    if isinstance(result, CaseError):
        raise result
    return result


def case_api(roles: Collection[str], action: Action, status: int = 200) -> Callable[..., Any]:
    async def endpoint(request: Request) -> Response:
        data = await read_json(request) if request.method == "POST" else {}
        result = await run_in_threadpool(run_action, request, roles, action, data)
        return JSONResponse(result, status_code=status)

    return endpoint


def api(
    operation: str,
    summary: str,
    roles: Collection[str],
    action: Action,
    status: int = 200,
    request: dict[str, Any] | None = None,
) -> Callable[..., Any]:
    endpoint = case_api(roles, action, status)
    errors = (400, 401, 403, 404, 409, 422) if request is not None else (401, 403, 404)
    return api_operation(
        operation,
        summary,
        request=request,
        responses={status: OBJECT},
        errors=errors,
        bearer=True,
        tags=TAGS,
    )(endpoint)


def body(*names: str) -> dict[str, Any]:
    return {"type": "object", "properties": dict.fromkeys(names, STRING)}


# --- pages ----------------------------------------------------------------------------------


def access_page(request: Request) -> Response:
    return _page(request, {}, 200)


def _page(request: Request, errors: dict[str, str], status: int) -> Response:
    try:
        with unit_of_work(request.app.state.db) as db:
            me = require_staff(request, db)
            require_roles(me, CASE_READERS)
            context = page_context(access_services(request, db), me, request.path_params["case_id"])
    except Unauthorized:
        return RedirectResponse("/staff/login", status_code=303)
    context.update(errors=errors, field_messages=FIELD_MESSAGES)
    return render(request, "access/case.html", context, status_code=status)


def page_context(s: Services, me: StaffPrincipal, case_id: str) -> dict[str, Any]:
    case = s.work.visible_case(me, case_id)
    key = s.work.case_key(me, case, "access")
    worker = bool(me.account.role_names & CASE_READERS)
    return {
        "case": case,
        "me": me,
        "worker": worker,
        "has_key": key is not None,
        "subjects": s.access.subjects(case, key) if key else [],
        "requests": s.disclosure.requests(me, case),
        "assessment": s.protection.latest(case, key) if key and worker else None,
        "measures": s.protection.measures(case, key) if key and worker else [],
        "items": s.redaction.items(me, case, key) if key and worker else [],
        "likelihoods": ("low", "medium", "high"),
        "match_labels": MATCH_LABELS,
    }


def case_form(roles: Collection[str], action: Action) -> Callable[[Request], Awaitable[Response]]:
    """A form of the access page: back to the page on success, the page with errors if not."""

    async def endpoint(request: Request) -> Response:
        form = await form_with_csrf(request)
        return await run_in_threadpool(_submit, request, roles, action, dict(form))

    return endpoint


def _submit(
    request: Request, roles: Collection[str], action: Action, data: dict[str, Any]
) -> Response:
    case_id = request.path_params["case_id"]
    try:
        run_action(request, roles, action, data)
    except Unauthorized:
        return RedirectResponse("/staff/login", status_code=303)
    except Invalid as problem:
        return _page(request, problem.fields or {"form": "invalid"}, 422)
    target = "/staff/cases" if action is _recuse else f"/staff/cases/{case_id}/access"
    return RedirectResponse(with_notice(request, target), status_code=303)


def identity_page(request: Request) -> Response:
    try:
        with unit_of_work(request.app.state.db) as db:
            me = require_staff(request, db)
            require_roles(me, IDENTITY_READERS)
            s = access_services(request, db)
            case = s.work.visible_case(me, request.path_params["case_id"])
            identity = s.disclosure.identity(me, case)
    except Unauthorized:
        return RedirectResponse("/staff/login", status_code=303)
    return render(request, "access/identity.html", {"case": case, "identity": identity, "me": me})


# --- the custodians' queue ------------------------------------------------------------------


def queue_page(request: Request) -> Response:
    return _queue(request, {}, 200)


def _queue(request: Request, errors: dict[str, str], status: int) -> Response:
    try:
        with unit_of_work(request.app.state.db) as db:
            me = require_staff(request, db)
            require_roles(me, {Role.CUSTODIAN})
            s = access_services(request, db)
            rows = s.disclosure.pending_for_custodian(me)
            views = [
                v
                for row in rows
                for v in s.disclosure.requests(me, _case(db, row.case_id))
                if v.id == row.id
            ]
            refs = {row.id: _case(db, row.case_id).reference for row in rows}
    except Unauthorized:
        return RedirectResponse("/staff/login", status_code=303)
    context = {"requests": views, "refs": refs, "me": me, "errors": errors}
    return render(
        request,
        "access/queue.html",
        {**context, "field_messages": FIELD_MESSAGES},
        status_code=status,
    )


def _case(db: Session, case_id: str) -> Case:
    case = db.get(Case, case_id)
    assert case is not None
    return case


def decide(request: Request, me: StaffPrincipal, db: Session, data: Mapping[str, Any]) -> Any:
    require_roles(me, {Role.CUSTODIAN})
    approve = text(data, "decision")
    if approve not in {"approve", "refuse"}:
        raise Invalid("Choose approve or refuse.", fields={"decision": "invalid"})
    row = access_services(request, db).disclosure.decide(
        me,
        request.path_params["request_id"],
        approve=approve == "approve",
        reason=text(data, "reason"),
    )
    return {"id": row.id, "status": row.status}


def run_decision(request: Request, data: Mapping[str, Any]) -> Any:
    with unit_of_work(request.app.state.db) as db:
        return decide(request, require_staff(request, db), db, data)


async def decide_form(request: Request) -> Response:
    form = dict(await form_with_csrf(request))
    return await run_in_threadpool(_decide_form, request, form)


def _decide_form(request: Request, form: dict[str, Any]) -> Response:
    try:
        run_decision(request, form)
    except Unauthorized:
        return RedirectResponse("/staff/login", status_code=303)
    except Invalid as problem:
        errors = {f"{request.path_params['request_id']}:{k}": v for k, v in problem.fields.items()}
        return _queue(request, errors, 422)
    return RedirectResponse(with_notice(request, "/staff/disclosures"), status_code=303)


@api_operation(
    "decideDisclosure",
    "A custodian approves or refuses a disclosure request, with a reason",
    request={
        "type": "object",
        "required": ["decision", "reason"],
        "properties": {"decision": {"enum": ["approve", "refuse"]}, "reason": STRING},
    },
    responses={200: OBJECT},
    errors=(400, 401, 403, 404, 409, 422),
    bearer=True,
    tags=TAGS,
)
async def decide_api(request: Request) -> Response:
    data = await read_json(request)
    return JSONResponse(await run_in_threadpool(run_decision, request, data))


@api_operation(
    "listPendingDisclosures",
    "The disclosure requests this custodian may decide",
    responses={200: OBJECT},
    errors=(401, 403),
    bearer=True,
    tags=TAGS,
)
async def pending_api(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(_pending, request))


def _pending(request: Request) -> dict[str, Any]:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        require_roles(me, {Role.CUSTODIAN})
        s = access_services(request, db)
        rows = s.disclosure.pending_for_custodian(me)
        items = [
            {**request_json(v), "case": row.case_id}
            for row in rows
            for v in s.disclosure.requests(me, _case(db, row.case_id))
            if v.id == row.id
        ]
    return {"items": items}


API = "/api/v1/cases/{case_id}"
PAGE = "/staff/cases/{case_id}"

routes: list[BaseRoute] = [
    Route("/api/v1/disclosures", pending_api, methods=["GET"]),
    Route("/api/v1/disclosures/{request_id}/decision", decide_api, methods=["POST"]),
    Route(
        f"{API}/subjects",
        api("listCaseSubjects", "Named people and candidates", CASE_READERS, _subjects),
        methods=["GET"],
    ),
    Route(
        f"{API}/subjects",
        api(
            "addCaseSubject",
            "Name a further subject; whoever that excludes loses access",
            CASE_READERS,
            _add_subject,
            201,
            body("name", "employee_id", "email"),
        ),
        methods=["POST"],
    ),
    Route(
        f"{API}/subjects/{{subject_id}}/confirm",
        api(
            "confirmCaseSubject",
            "Keep this candidate of an ambiguous name, drop the others",
            CASE_READERS,
            _confirm_subject,
            200,
            body(),
        ),
        methods=["POST"],
    ),
    Route(
        f"{API}/subjects/{{subject_id}}/reject",
        api(
            "rejectCaseSubject",
            "Not this candidate of an ambiguous name: they stop being excluded",
            CASE_READERS,
            _reject_subject,
            200,
            body(),
        ),
        methods=["POST"],
    ),
    Route(
        f"{API}/disclosures",
        api("listDisclosures", "Disclosure requests on this case", IDENTITY_READERS, _disclosures),
        methods=["GET"],
    ),
    Route(
        f"{API}/disclosures",
        api(
            "requestDisclosure",
            "Ask a custodian for the reporter's identity",
            CASE_READERS,
            _request_disclosure,
            201,
            body("reason"),
        ),
        methods=["POST"],
    ),
    Route(
        f"{API}/identity",
        api(
            "getCaseIdentity",
            "The reporter's identity, for whoever holds its key",
            IDENTITY_READERS,
            _identity,
        ),
        methods=["GET"],
    ),
    Route(
        f"{API}/protection",
        api(
            "getCaseProtection",
            "The retaliation-risk assessment and protective measures",
            CASE_READERS,
            _protection,
        ),
        methods=["GET"],
    ),
    Route(
        f"{API}/risk",
        api(
            "assessRetaliationRisk",
            "Record a retaliation-risk assessment",
            CASE_READERS,
            _assess,
            201,
            body("likelihood", "who", "measures"),
        ),
        methods=["POST"],
    ),
    Route(
        f"{API}/measures",
        api(
            "addProtectiveMeasure",
            "Add a protective measure with a follow-up date",
            CASE_READERS,
            _add_measure,
            201,
            body("description", "follow_up_on"),
        ),
        methods=["POST"],
    ),
    Route(
        f"{API}/measures/{{measure_id}}/done",
        api(
            "completeProtectiveMeasure",
            "Mark a measure done",
            CASE_READERS,
            _complete_measure,
            200,
            body(),
        ),
        methods=["POST"],
    ),
    Route(
        f"{API}/items",
        api("listCaseItems", "Messages and notes with masks applied", CASE_READERS, _items),
        methods=["GET"],
    ),
    Route(
        f"{API}/items/{{item_id}}/masks",
        api(
            "maskCaseItem",
            "Hide a span from colleagues (reversible by its author)",
            CASE_READERS,
            _mask,
            201,
            body("start", "end", "text"),
        ),
        methods=["POST"],
    ),
    Route(
        f"{API}/masks/{{mask_id}}/remove",
        api("unmaskCaseItem", "Lift one's own mask", CASE_READERS, _unmask, 200, body()),
        methods=["POST"],
    ),
    Route(
        f"{API}/items/{{item_id}}/redact",
        api(
            "redactCaseItem",
            "Remove a span for good (audited)",
            CASE_READERS,
            _redact,
            200,
            body("start", "end", "text"),
        ),
        methods=["POST"],
    ),
    Route(
        f"{API}/recusal",
        api(
            "recuseFromCase",
            "Step away from a case (conflict of interest)",
            POLICY_ROLES,
            _recuse,
            200,
            body(),
        ),
        methods=["POST"],
    ),
    Route("/staff/disclosures", queue_page, methods=["GET"]),
    Route("/staff/disclosures/{request_id}", decide_form, methods=["POST"]),
    Route(f"{PAGE}/access", access_page, methods=["GET"]),
    Route(f"{PAGE}/identity", identity_page, methods=["GET"]),
    Route(f"{PAGE}/subjects", case_form(CASE_READERS, _add_subject), methods=["POST"]),
    Route(
        f"{PAGE}/subjects/{{subject_id}}/confirm",
        case_form(CASE_READERS, _confirm_subject),
        methods=["POST"],
    ),
    Route(
        f"{PAGE}/subjects/{{subject_id}}/reject",
        case_form(CASE_READERS, _reject_subject),
        methods=["POST"],
    ),
    Route(f"{PAGE}/disclosures", case_form(CASE_READERS, _request_disclosure), methods=["POST"]),
    Route(f"{PAGE}/risk", case_form(CASE_READERS, _assess), methods=["POST"]),
    Route(f"{PAGE}/measures", case_form(CASE_READERS, _add_measure), methods=["POST"]),
    Route(
        f"{PAGE}/measures/{{measure_id}}/done",
        case_form(CASE_READERS, _complete_measure),
        methods=["POST"],
    ),
    Route(f"{PAGE}/items/{{item_id}}/masks", case_form(CASE_READERS, _mask), methods=["POST"]),
    Route(f"{PAGE}/masks/{{mask_id}}/remove", case_form(CASE_READERS, _unmask), methods=["POST"]),
    Route(f"{PAGE}/items/{{item_id}}/redact", case_form(CASE_READERS, _redact), methods=["POST"]),
    Route(f"{PAGE}/recuse", case_form(POLICY_ROLES, _recuse), methods=["POST"]),
]
