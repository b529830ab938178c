"""Reward pages for staff: propose on a case, approver queue, finance desk, ledger, policy.

Handlers parse, call cases/rewards, render. Every POST verifies its CSRF field first; a
domain refusal (Invalid, Conflict, Forbidden) shows the same page again with the reason.
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

from cases.casework.service import CaseView
from cases.db import unit_of_work
from cases.errors import CaseError, Invalid, NotFound
from cases.org.service import OrgService
from cases.principals import StaffPrincipal
from cases.reports.models import Case
from cases.rewards.ledger import STATUSES, build_ledger, ledger_csv, require_ledger_reader
from cases.rewards.policy import Terms, format_minor, parse_amount, parse_tiers
from cases.rewards.policy import tiers_text as policy_tiers_text
from cases.rewards.service import Proposal, require_role
from cases.staff.models import Role
from portal.auth import require_staff
from portal.csrf import form_with_csrf
from portal.deps import reward_service, settings_of
from portal.downloads import csv_response
from portal.errors import http_status
from portal.forms import submit
from portal.i18n import N_, request_locale
from portal.notices import with_notice
from portal.templating import render

STATUS_LABELS = {
    "proposed": N_("Proposed"),
    "approved": N_("Approved, offered"),
    "refused": N_("Refused"),
    "accepted": N_("Accepted"),
    "declined": N_("Declined"),
    "expired": N_("Expired"),
    "paid": N_("Paid"),
}
FIELD_MESSAGES = {
    "required": N_("This is required."),
    "too_long": N_("This is too long."),
    "amount": N_("Enter an amount such as 1234.56."),
    "not_positive": N_("The amount must be more than zero."),
    "absurd": N_("That amount is far too large."),
    "explain_difference": N_("The amount differs from the suggestion; explain why."),
    "tier": N_("Write one tier per line: up-to amount and rate in percent, the last one with *."),
    "above_cap": N_("The floor cannot be above the cap."),
    "code": N_("Use a three-letter currency code such as CNY."),
    "range": N_("An offer stays open 1 to 3650 days."),
}

Page = Callable[[Request, Session, StaffPrincipal], Response]


def common(me: StaffPrincipal, **extra: Any) -> dict[str, Any]:
    return {
        "me": me,
        "money": format_minor,
        "status_labels": STATUS_LABELS,
        "field_messages": FIELD_MESSAGES,
        "errors": {},
        "problem": None,
        **extra,
    }


def staff_page(page: Page) -> Callable[[Request], Any]:
    """A GET page with the caller's principal; no full session sends them to the login."""

    def endpoint(request: Request) -> Response:
        with unit_of_work(request.app.state.db) as db:
            return page(request, db, require_staff(request, db))

    return endpoint


Action = Callable[[Request, Session, StaffPrincipal, FormData], str]


def staff_form(action: Action, again: Page) -> Callable[[Request], Any]:
    """A POST: CSRF first; success redirects, a refusal shows the page again with the reason."""

    async def endpoint(request: Request) -> Response:
        form = await form_with_csrf(request)
        return await run_in_threadpool(_run, request, action, again, form)

    return endpoint


def _run(request: Request, action: Action, again: Page, form: FormData) -> Response:
    """A refusal (NotFound aside: that is the 404 page) shows the page again with it."""

    def act(db: Session, me: StaffPrincipal) -> str:
        return action(request, db, me, form)

    def refused(db: Session, me: StaffPrincipal, problem: CaseError) -> Response:
        if isinstance(problem, NotFound):
            raise problem
        request.state.reward_problem = problem
        return again(request, db, me)

    def done(db: Session, me: StaffPrincipal, target: str) -> Response:
        return RedirectResponse(with_notice(request, target), status_code=303)

    return submit(request, require_staff, act, done, refused, (CaseError,))


def refused(request: Request, context: dict[str, Any]) -> int:
    """Puts a refusal from the last POST into the context; the status code to answer with."""
    problem: CaseError | None = getattr(request.state, "reward_problem", None)
    if problem is None:
        return 200
    context["problem"] = problem.message
    context["errors"] = problem.fields if isinstance(problem, Invalid) else {}
    return http_status(problem)


def field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


# --- the case page's panel, and proposing --------------------------------------------------


def case_panel(request: Request, db: Session, me: StaffPrincipal, view: CaseView) -> dict[str, Any]:
    """What templates/rewards/_case_panel.html shows on the staff case page."""
    service = reward_service(request, db)
    return {
        "items": service.for_case(me, view.case.id),
        "may_propose": not view.awaiting_access and service.may_propose(me, view.case),
        "money": format_minor,
        "status_labels": STATUS_LABELS,
    }


def propose_page(request: Request, db: Session, me: StaffPrincipal) -> Response:
    service = reward_service(request, db)
    case = _case(request, db, me)
    terms = service.terms_for(case)
    context = common(me, case=case, terms=terms, tiers=tiers_rows(terms), values={})
    context["suggestion"] = getattr(request.state, "reward_suggestion", None)
    status = refused(request, context)
    if status != 200 or context["suggestion"] is not None:
        context["values"] = getattr(request.state, "reward_values", {})
    return render(request, "rewards/propose.html", context, status_code=status)


async def propose_form(request: Request) -> Response:
    """The propose form: "Show the suggestion" answers the page with the policy's amount for
    the typed loss (nothing stored); "Propose" proposes."""
    form = await form_with_csrf(request)
    if field(form, "step") == "suggest":
        return await run_in_threadpool(_suggest, request, form)
    return await run_in_threadpool(_run, request, _propose, propose_page, form)


def _suggest(request: Request, form: FormData) -> Response:
    request.state.reward_values = _proposal_values(form)
    case_id, loss = request.path_params["case_id"], field(form, "recovered_loss")

    def act(db: Session, me: StaffPrincipal) -> int:
        return reward_service(request, db).suggestion(me, case_id, loss)

    def refused(db: Session, me: StaffPrincipal, problem: Invalid) -> Response:
        request.state.reward_problem = problem
        return propose_page(request, db, me)

    def done(db: Session, me: StaffPrincipal, suggestion: int) -> Response:
        request.state.reward_suggestion = suggestion
        return propose_page(request, db, me)

    return submit(request, require_staff, act, done, refused, (Invalid,))


def _proposal_values(form: FormData) -> dict[str, str]:
    names = ("recovered_loss", "amount", "explanation", "exclusions")
    return {n: field(form, n) for n in names}


def _case(request: Request, db: Session, me: StaffPrincipal) -> Case:
    case_id = request.path_params["case_id"]
    reward_service(request, db).for_case(me, case_id)
    case = db.get(Case, case_id)
    if case is None:
        raise NotFound("There is no such case.", code="case_not_found")
    return case


def tiers_rows(terms: Terms) -> list[dict[str, Any]]:
    return [
        {
            "up_to": format_minor(t.up_to_minor) if t.up_to_minor is not None else None,
            "rate": f"{t.rate_bp / 100:g}",
        }
        for t in terms.tiers
    ]


def _propose(request: Request, db: Session, me: StaffPrincipal, form: FormData) -> str:
    values = _proposal_values(form)
    request.state.reward_values = values
    proposal = Proposal(
        values["recovered_loss"],
        values["amount"],
        values["explanation"],
        field(form, "exclusions") == "checked",
    )
    case_id = request.path_params["case_id"]
    reward_service(request, db).propose(me, case_id, proposal)
    return f"/staff/cases/{case_id}#rewards"


# --- approver queue ------------------------------------------------------------------------


def queue_page(request: Request, db: Session, me: StaffPrincipal) -> Response:
    context = common(me)
    status = refused(request, context)
    context["items"] = reward_service(request, db).queue(me)
    return render(request, "rewards/queue.html", context, status_code=status)


def _decide(request: Request, db: Session, me: StaffPrincipal, form: FormData) -> str:
    approve = field(form, "decision") == "approve"
    reward_id = request.path_params["reward_id"]
    reward_service(request, db).decide(me, reward_id, approve, field(form, "reason"))
    return "/staff/rewards"


# --- finance desk --------------------------------------------------------------------------


def desk_page(request: Request, db: Session, me: StaffPrincipal) -> Response:
    context = common(me)
    status = refused(request, context)
    context["items"] = reward_service(request, db).desk(me)
    return render(request, "rewards/desk.html", context, status_code=status)


def _pay(request: Request, db: Session, me: StaffPrincipal, form: FormData) -> str:
    reward_id = request.path_params["reward_id"]
    reward_service(request, db).pay(me, reward_id, field(form, "reference"))
    return "/staff/rewards/payouts"


# --- ledger --------------------------------------------------------------------------------


def ledger_page(request: Request, db: Session, me: StaffPrincipal) -> Response:
    status = request.query_params.get("status") or None
    reward_service(request, db).expire_due()
    ledger = build_ledger(db, me, settings_of(request).timezone, status)
    context = common(me, ledger=ledger, statuses=STATUSES, current=status)
    return render(request, "rewards/ledger.html", context)


def ledger_export(request: Request) -> Response:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        require_ledger_reader(me)
        reward_service(request, db).expire_due()
        zone = settings_of(request).timezone
        ledger = build_ledger(db, me, zone, request.query_params.get("status") or None)
        body = ledger_csv(ledger, zone)
    return csv_response(body)


# --- admin: policy per channel -------------------------------------------------------------


def policy_page(request: Request, db: Session, me: StaffPrincipal) -> Response:
    require_role(me, Role.ADMIN)
    policies = reward_service(request, db).policies
    locale = request_locale(request)
    channels = [
        {"channel": ch, "name": ch.name(locale), "terms": policies.terms(ch.id)}
        for ch in OrgService(db).active_channels()
    ]
    context = common(me, channels=channels, tiers_text=policy_tiers_text)
    context["failed_channel"] = getattr(request.state, "policy_channel", None)
    status = refused(request, context)
    return render(request, "rewards/policy.html", context, status_code=status)


def _save_policy(request: Request, db: Session, me: StaffPrincipal, form: FormData) -> str:
    require_role(me, Role.ADMIN)
    channel_id = field(form, "channel")
    request.state.policy_channel = channel_id
    if OrgService(db).channel(channel_id) is None:
        raise NotFound("There is no such channel.", code="channel_not_found")
    service = reward_service(request, db)
    service.policies.save(me, channel_id, terms_from(form), service.audit)
    return "/admin/rewards"


def terms_from(form: FormData) -> Terms:
    days = field(form, "offer_days").strip()
    if not days.isdigit() or len(days) > 5:
        raise Invalid("An offer stays open 1 to 3650 days.", fields={"offer_days": "range"})
    return Terms(
        tiers=parse_tiers(field(form, "tiers")),
        floor_minor=parse_amount(field(form, "floor"), "floor", allow_zero=True),
        cap_minor=parse_amount(field(form, "cap"), "cap"),
        currency=field(form, "currency").strip().upper(),
        offer_days=int(days),
        two_approver_threshold_minor=parse_amount(
            field(form, "threshold"), "threshold", allow_zero=True
        ),
        exclude_anonymous=field(form, "exclude_anonymous") == "on",
    )


routes: list[BaseRoute] = [
    Route("/staff/cases/{case_id}/reward", staff_page(propose_page), methods=["GET"]),
    Route("/staff/cases/{case_id}/reward", propose_form, methods=["POST"]),
    Route("/staff/rewards", staff_page(queue_page), methods=["GET"]),
    Route("/staff/rewards/payouts", staff_page(desk_page), methods=["GET"]),
    Route("/staff/rewards/ledger", staff_page(ledger_page), methods=["GET"]),
    Route("/staff/rewards/ledger.csv", ledger_export, methods=["GET"]),
    Route("/staff/rewards/{reward_id}/decision", staff_form(_decide, queue_page), methods=["POST"]),
    Route("/staff/rewards/{reward_id}/payment", staff_form(_pay, desk_page), methods=["POST"]),
    Route("/admin/rewards", staff_page(policy_page), methods=["GET"]),
    Route("/admin/rewards", staff_form(_save_policy, policy_page), methods=["POST"]),
]
