"""Staff pages and API for anti-retaliation work on a case: disclosure, recusal, subjects,
retaliation-risk assessment, protective measures, masking and redaction.

Who may use which action, and the order of refusals (403 for a role that may never use it,
then 404 for a case the caller may not see), are the domain's: cases/access/rules.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cases.access.disclosure import RequestView
from cases.access.redaction import ItemView, Span
from cases.access.rules import ACTION_ROLES, approves, case_for, named_subject, require_action
from cases.db import unit_of_work
from cases.errors import CaseError, Invalid
from cases.principals import StaffPrincipal
from cases.reports.models import Case
from cases.staff.roles import CASE_READERS
from portal.auth import require_staff
from portal.csrf import form_with_csrf
from portal.deps import AccessServices as Services
from portal.deps import access_services, intake_config, settings_of
from portal.errors import read_json
from portal.forms import submit
from portal.i18n import N_
from portal.notices import with_notice
from portal.openapi import api_operation
from portal.shapes import Answer, Shape, answer, parse
from portal.shapes.access import (
    AssessmentMade,
    DisclosureDecisionIn,
    DisclosureRequestIn,
    IdentityOut,
    IdentityValue,
    ItemsOut,
    MaskAgreed,
    MaskMade,
    MaskRecordOut,
    MeasureDone,
    MeasureIn,
    MeasureMade,
    NothingIn,
    PendingOut,
    ProtectionOut,
    Recused,
    Redacted,
    RequestsOut,
    RequestStatus,
    Revoked,
    RiskIn,
    SpanIn,
    SubjectIn,
    SubjectsOut,
    Unmasked,
)
from portal.templating import render

TAGS = ("access",)
NO_ROLE = N_("Your roles do not allow this.")
# Why a candidate of a named person needs confirming (cases/access/matching.py).
MATCH_LABELS = {
    "name": N_("needs confirming: matched by name only"),
    "alias": N_("needs confirming: matched by another name in the directory"),
    "pinyin": N_("needs confirming: matched by the pinyin of a Chinese name"),
    "within": N_("needs confirming: their name is part of what was typed, with other words"),
    "text": N_("needs confirming: named in the report text"),
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
    subject = named_subject(text(d, "name"), text(d, "employee_id"), text(d, "email"))
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
    identity = s.disclosure.identity(me, case)
    shown = IdentityValue(name=identity.name, contact=identity.contact) if identity else None
    return IdentityOut(identity=shown, confidential=case.confidential)


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
    return {"id": s.redaction.mask(me, case, key, item_id, span, text(d, "reason")).id}


def _unmask(s: Services, me: StaffPrincipal, case: Case, r: Request, _d: Any) -> Any:
    s.work.require_key(me, case)  # only someone who reads the case lifts a mask on it
    s.redaction.unmask(me, case, r.path_params["mask_id"])
    return {"removed": True}


def _agree_mask(s: Services, me: StaffPrincipal, case: Case, r: Request, _d: Any) -> Any:
    s.work.require_key(me, case)
    s.redaction.agree(me, case, r.path_params["mask_id"])
    return {"agreed": True}


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
        "reporter_masks": [MaskRecordOut.of(m).model_dump() for m in view.reporter_masks],
    }


# --- running an action on a case ------------------------------------------------------------


def roles_of(action: Action) -> str:
    """The action's name in the domain's table of who may use what (cases/access/rules.py)."""
    name = action.__name__.removeprefix("_")
    if name not in ACTION_ROLES:
        raise LookupError(f"{name} has no entry in cases.access.rules.ACTION_ROLES")
    return name


def act_on_case(
    request: Request, db: Session, me: StaffPrincipal, action: Action, data: Mapping[str, Any]
) -> Any:
    """Role check (403), then the policy (404), then the action."""
    s = access_services(request, db)
    case = case_for(s.work, me, request.path_params["case_id"], roles_of(action))
    return action(s, me, case, request, data)


def run_action(request: Request, action: Action, data: Mapping[str, Any]) -> Any:
    """An action of the API, in one unit of work."""
    with unit_of_work(request.app.state.db) as db:
        result = act_on_case(request, db, require_staff(request, db), action, data)
    # An action may hand back its refusal instead of raising it, so that what it recorded
    # (an audited failed match) is committed before the refusal is answered.
    if isinstance(result, CaseError):
        raise result
    return result


def case_api(
    action: Action, status: int, shape: type[Shape] | None, out: type[Answer]
) -> Callable[..., Any]:
    roles_of(action)  # an action missing from the domain's table fails at import

    async def endpoint(request: Request) -> Response:
        data = parse(shape, await read_json(request)).model_dump() if shape else {}
        result = await run_in_threadpool(run_action, request, action, data)
        return answer(out.model_validate(result), status_code=status)

    return endpoint


def api(
    operation: str,
    summary: str,
    action: Action,
    out: type[Answer],
    status: int = 200,
    shape: type[Shape] | None = None,
) -> Callable[..., Any]:
    """A JSON endpoint for an action: ``shape`` validates the body, ``out`` the answer."""
    endpoint = case_api(action, status, shape, out)
    errors = (400, 401, 403, 404, 409, 422) if shape is not None else (401, 403, 404)
    return api_operation(
        operation,
        summary,
        request=shape,
        responses={status: out},
        errors=errors,
        bearer=True,
        tags=TAGS,
    )(endpoint)


# --- pages ----------------------------------------------------------------------------------


def access_page(request: Request) -> Response:
    with unit_of_work(request.app.state.db) as db:
        return _render_page(request, db, require_staff(request, db), {}, 200)


def _render_page(
    request: Request, db: Session, me: StaffPrincipal, errors: dict[str, str], status: int
) -> Response:
    require_action(me, "access_page")
    context = page_context(access_services(request, db), me, request.path_params["case_id"])
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


def case_form(action: Action) -> Callable[[Request], Awaitable[Response]]:
    """A form of the access page: back to the page on success, the page with errors if not."""
    roles_of(action)

    async def endpoint(request: Request) -> Response:
        form = await form_with_csrf(request)
        return await run_in_threadpool(_submit, request, action, dict(form))

    return endpoint


def _submit(request: Request, action: Action, data: dict[str, Any]) -> Response:
    case_id = request.path_params["case_id"]

    def act(db: Session, me: StaffPrincipal) -> Any:
        return act_on_case(request, db, me, action, data)

    def again(db: Session, me: StaffPrincipal, problem: Invalid) -> Response:
        return _render_page(request, db, me, problem.fields or {"form": "invalid"}, 422)

    def done(db: Session, me: StaffPrincipal, _: Any) -> Response:
        target = "/staff/cases" if action is _recuse else f"/staff/cases/{case_id}/access"
        return RedirectResponse(with_notice(request, target), status_code=303)

    return submit(request, require_staff, act, done, again, (Invalid,))


def identity_page(request: Request) -> Response:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        s = access_services(request, db)
        case = case_for(s.work, me, request.path_params["case_id"], "identity")
        identity = s.disclosure.identity(me, case)
    return render(request, "access/identity.html", {"case": case, "identity": identity, "me": me})


# --- the custodians' queue ------------------------------------------------------------------


def queue_page(request: Request) -> Response:
    with unit_of_work(request.app.state.db) as db:
        return _render_queue(request, db, require_staff(request, db), {}, 200)


def _render_queue(
    request: Request, db: Session, me: StaffPrincipal, errors: dict[str, str], status: int
) -> Response:
    require_action(me, "custodian_queue")
    pending = access_services(request, db).disclosure.pending_for_custodian(me)
    context = {
        "requests": [item.view for item in pending],
        "refs": {item.view.id: item.reference for item in pending},
        "me": me,
        "errors": errors,
        "field_messages": FIELD_MESSAGES,
    }
    return render(request, "access/queue.html", context, status_code=status)


def decide(request: Request, db: Session, me: StaffPrincipal, data: Mapping[str, Any]) -> Any:
    require_action(me, "decide_disclosure")
    row = access_services(request, db).disclosure.decide(
        me,
        request.path_params["request_id"],
        approve=approves(text(data, "decision")),
        reason=text(data, "reason"),
    )
    return {"id": row.id, "status": row.status}


def run_decision(request: Request, data: Mapping[str, Any]) -> Any:
    with unit_of_work(request.app.state.db) as db:
        return decide(request, db, require_staff(request, db), data)


async def decide_form(request: Request) -> Response:
    form = dict(await form_with_csrf(request))
    return await run_in_threadpool(_decide_form, request, form)


def _decide_form(request: Request, form: dict[str, Any]) -> Response:
    request_id = request.path_params["request_id"]

    def again(db: Session, me: StaffPrincipal, problem: Invalid) -> Response:
        errors = {f"{request_id}:{k}": v for k, v in problem.fields.items()}
        return _render_queue(request, db, me, errors, 422)

    def done(db: Session, me: StaffPrincipal, _: Any) -> Response:
        return RedirectResponse(with_notice(request, "/staff/disclosures"), status_code=303)

    return submit(
        request,
        require_staff,
        lambda db, me: decide(request, db, me, form),
        done,
        again,
        (Invalid,),
    )


@api_operation(
    "decideDisclosure",
    "A custodian approves or refuses a disclosure request, with a reason",
    request=DisclosureDecisionIn,
    responses={200: RequestStatus},
    errors=(400, 401, 403, 404, 409, 422),
    bearer=True,
    tags=TAGS,
)
async def decide_api(request: Request) -> Response:
    data = parse(DisclosureDecisionIn, await read_json(request)).model_dump()
    result = await run_in_threadpool(run_decision, request, data)
    return answer(RequestStatus.model_validate(result))


@api_operation(
    "listPendingDisclosures",
    "The disclosure requests this custodian may decide",
    responses={200: PendingOut},
    errors=(401, 403),
    bearer=True,
    tags=TAGS,
)
async def pending_api(request: Request) -> Response:
    return answer(PendingOut.model_validate(await run_in_threadpool(_pending, request)))


def _pending(request: Request) -> dict[str, Any]:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        require_action(me, "custodian_queue")
        pending = access_services(request, db).disclosure.pending_for_custodian(me)
        items = [{**request_json(item.view), "case": item.case_id} for item in pending]
    return {"items": items}


API = "/api/v1/cases/{case_id}"
PAGE = "/staff/cases/{case_id}"

routes: list[BaseRoute] = [
    Route("/api/v1/disclosures", pending_api, methods=["GET"]),
    Route("/api/v1/disclosures/{request_id}/decision", decide_api, methods=["POST"]),
    Route(
        f"{API}/subjects",
        api("listCaseSubjects", "Named people and candidates", _subjects, SubjectsOut),
        methods=["GET"],
    ),
    Route(
        f"{API}/subjects",
        api(
            "addCaseSubject",
            "Name a further subject; whoever that excludes loses access",
            _add_subject,
            Revoked,
            201,
            SubjectIn,
        ),
        methods=["POST"],
    ),
    Route(
        f"{API}/subjects/{{subject_id}}/confirm",
        api(
            "confirmCaseSubject",
            "Keep this candidate of an ambiguous name, drop the others",
            _confirm_subject,
            Revoked,
            200,
            NothingIn,
        ),
        methods=["POST"],
    ),
    Route(
        f"{API}/subjects/{{subject_id}}/reject",
        api(
            "rejectCaseSubject",
            "Not this candidate of an ambiguous name: they stop being excluded",
            _reject_subject,
            Revoked,
            200,
            NothingIn,
        ),
        methods=["POST"],
    ),
    Route(
        f"{API}/disclosures",
        api(
            "listDisclosures",
            "Disclosure requests on this case",
            _disclosures,
            RequestsOut,
        ),
        methods=["GET"],
    ),
    Route(
        f"{API}/disclosures",
        api(
            "requestDisclosure",
            "Ask a custodian for the reporter's identity",
            _request_disclosure,
            RequestStatus,
            201,
            DisclosureRequestIn,
        ),
        methods=["POST"],
    ),
    Route(
        f"{API}/identity",
        api(
            "getCaseIdentity",
            "The reporter's identity, for whoever holds its key",
            _identity,
            IdentityOut,
        ),
        methods=["GET"],
    ),
    Route(
        f"{API}/protection",
        api(
            "getCaseProtection",
            "The retaliation-risk assessment and protective measures",
            _protection,
            ProtectionOut,
        ),
        methods=["GET"],
    ),
    Route(
        f"{API}/risk",
        api(
            "assessRetaliationRisk",
            "Record a retaliation-risk assessment",
            _assess,
            AssessmentMade,
            201,
            RiskIn,
        ),
        methods=["POST"],
    ),
    Route(
        f"{API}/measures",
        api(
            "addProtectiveMeasure",
            "Add a protective measure with a follow-up date",
            _add_measure,
            MeasureMade,
            201,
            MeasureIn,
        ),
        methods=["POST"],
    ),
    Route(
        f"{API}/measures/{{measure_id}}/done",
        api(
            "completeProtectiveMeasure",
            "Mark a measure done",
            _complete_measure,
            MeasureDone,
            200,
            NothingIn,
        ),
        methods=["POST"],
    ),
    Route(
        f"{API}/items",
        api("listCaseItems", "Messages and notes with masks applied", _items, ItemsOut),
        methods=["GET"],
    ),
    Route(
        f"{API}/items/{{item_id}}/masks",
        api(
            "maskCaseItem",
            "Hide a span from colleagues (reversible by its author)",
            _mask,
            MaskMade,
            201,
            SpanIn,
        ),
        methods=["POST"],
    ),
    Route(
        f"{API}/masks/{{mask_id}}/remove",
        api(
            "unmaskCaseItem",
            "Lift one's own mask, or any mask on a reporter's message (audited)",
            _unmask,
            Unmasked,
            200,
            NothingIn,
        ),
        methods=["POST"],
    ),
    Route(
        f"{API}/masks/{{mask_id}}/agree",
        api(
            "agreeToCaseItemMask",
            "Agree that words of the reporter a colleague unmasked be hidden again",
            _agree_mask,
            MaskAgreed,
            200,
            NothingIn,
        ),
        methods=["POST"],
    ),
    Route(
        f"{API}/items/{{item_id}}/redact",
        api(
            "redactCaseItem",
            "Remove a span of a staff item for good (audited; a reporter's message: 409)",
            _redact,
            Redacted,
            200,
            SpanIn,
        ),
        methods=["POST"],
    ),
    Route(
        f"{API}/recusal",
        api(
            "recuseFromCase",
            "Step away from a case (conflict of interest)",
            _recuse,
            Recused,
            200,
            NothingIn,
        ),
        methods=["POST"],
    ),
    Route("/staff/disclosures", queue_page, methods=["GET"]),
    Route("/staff/disclosures/{request_id}", decide_form, methods=["POST"]),
    Route(f"{PAGE}/access", access_page, methods=["GET"]),
    Route(f"{PAGE}/identity", identity_page, methods=["GET"]),
    Route(f"{PAGE}/subjects", case_form(_add_subject), methods=["POST"]),
    Route(
        f"{PAGE}/subjects/{{subject_id}}/confirm",
        case_form(_confirm_subject),
        methods=["POST"],
    ),
    Route(
        f"{PAGE}/subjects/{{subject_id}}/reject",
        case_form(_reject_subject),
        methods=["POST"],
    ),
    Route(f"{PAGE}/disclosures", case_form(_request_disclosure), methods=["POST"]),
    Route(f"{PAGE}/risk", case_form(_assess), methods=["POST"]),
    Route(f"{PAGE}/measures", case_form(_add_measure), methods=["POST"]),
    Route(
        f"{PAGE}/measures/{{measure_id}}/done",
        case_form(_complete_measure),
        methods=["POST"],
    ),
    Route(f"{PAGE}/items/{{item_id}}/masks", case_form(_mask), methods=["POST"]),
    Route(f"{PAGE}/masks/{{mask_id}}/remove", case_form(_unmask), methods=["POST"]),
    Route(f"{PAGE}/masks/{{mask_id}}/agree", case_form(_agree_mask), methods=["POST"]),
    Route(f"{PAGE}/items/{{item_id}}/redact", case_form(_redact), methods=["POST"]),
    Route(f"{PAGE}/recuse", case_form(_recuse), methods=["POST"]),
]
