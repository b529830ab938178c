"""The reporter's reward: see the offer, accept with payout details, or decline (HTML and API).

The reporter acts by their receipt session only; payout details go straight into
cases/rewards, which seals them for finance before anything is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cases.db import unit_of_work
from cases.errors import CaseError, Invalid, NotFound
from cases.principals import ReporterPrincipal
from cases.rewards.service import Payout, RewardNotice
from portal.auth import REPORTER_COOKIE, require_reporter
from portal.csrf import delete_host_cookie, form_with_csrf
from portal.deps import handovers, reporter_service, reward_service
from portal.errors import http_status, read_json
from portal.forms import submit
from portal.i18n import N_
from portal.openapi import api_operation
from portal.reporter_flow import write
from portal.shapes import answer, parse
from portal.shapes.reporter import PayoutIn, RewardOut
from portal.templating import render

TAGS = ("reporter",)
# The acceptance form handed back after a refusal (cases/reports/handover.py).
OFFER_AGAIN = "reward-offer"
FIELD_MESSAGES = {
    "required": N_("Please fill this in."),
    "too_long": N_("This is too long."),
    "payee": N_("Choose who receives the money."),
}


def _main_case(request: Request, db: Session, principal: ReporterPrincipal) -> str:
    cases = reporter_service(request, db).cases(principal.receipt)
    if not cases:
        raise NotFound
    return cases[0].id


def _reward_in(request: Request, db: Session, principal: ReporterPrincipal) -> RewardNotice | None:
    return reporter_service(request, db).view(principal).reward


def _reward(request: Request) -> RewardNotice | None:
    with unit_of_work(request.app.state.db) as db:
        return _reward_in(request, db, require_reporter(request, db))


def _accept_in(request: Request, db: Session, principal: ReporterPrincipal, payout: Payout) -> None:
    case_id = _main_case(request, db, principal)
    reward_service(request, db).accept(principal, case_id, payout)


def _decline_in(request: Request, db: Session, principal: ReporterPrincipal) -> None:
    reward_service(request, db).decline(_main_case(request, db, principal))


def _undo_in(request: Request, db: Session, principal: ReporterPrincipal) -> None:
    reward_service(request, db).undo_decline(_main_case(request, db, principal))


def _accept(request: Request, payout: Payout) -> None:
    with unit_of_work(request.app.state.db) as db:
        _accept_in(request, db, require_reporter(request, db), payout)


def _decline(request: Request) -> None:
    with unit_of_work(request.app.state.db) as db:
        _decline_in(request, db, require_reporter(request, db))


def payout_from(values: Any) -> Payout:
    """Payout fields (a form's or a JSON body's): absent is empty, any other type refused."""
    return parse(PayoutIn, dict(values)).value()


# --- pages ---------------------------------------------------------------------------------


async def offer_page(request: Request) -> Response:
    return await write(request, _offer_page)


def _offer_page(request: Request) -> Response:
    """The offer; with `again`, the acceptance form handed back after a refusal."""
    try:
        with unit_of_work(request.app.state.db) as db:
            principal = require_reporter(request, db)
            again = request.query_params.get("again", "")
            kept = handovers(request, db).take(OFFER_AGAIN, again) if again else None
            if kept is not None:
                return _offer_in(
                    request,
                    db,
                    principal,
                    kept["values"],
                    kept["errors"],
                    kept["problem"],
                    int(kept["status"]),
                )
            return _offer_in(request, db, principal, {}, {}, None, 200)
    except CaseError:
        response = RedirectResponse("/status", status_code=303)
        delete_host_cookie(response, REPORTER_COOKIE)
        return response


def _offer_in(
    request: Request,
    db: Session,
    principal: ReporterPrincipal,
    values: dict[str, str],
    errors: dict[str, str],
    problem: str | None,
    status: int,
) -> Response:
    context = {
        "reward": _reward_in(request, db, principal),
        "values": values,
        "errors": errors,
        "field_messages": FIELD_MESSAGES,
        "problem": problem,
    }
    return render(request, "rewards/offer.html", context, status_code=status)


def _offer_again(
    request: Request, db: Session, principal: ReporterPrincipal, exc: CaseError
) -> Response:
    """The offer page with the refusal's reason (and its status)."""
    return _offer_in(request, db, principal, {}, {}, exc.message, http_status(exc))


def _back_to(target: str) -> Callable[..., Response]:
    def done(*_: Any) -> Response:
        return RedirectResponse(target, status_code=303)

    return done


async def accept_form(request: Request) -> Response:
    form = await form_with_csrf(request)
    payout = payout_from(form)
    return await write(request, _accept_form, payout)


def _accept_form(request: Request, payout: Payout) -> Response:
    def act(db: Session, principal: ReporterPrincipal) -> None:
        _accept_in(request, db, principal, payout)

    def again(db: Session, principal: ReporterPrincipal, exc: CaseError) -> Response:
        # The offer page again, behind a redirect: answered directly, the browser would keep
        # the payout details of the form's body in its session files (handover.py).
        kept: dict[str, Any] = {"values": {}, "errors": {}, "problem": exc.message}
        kept["status"] = http_status(exc)
        if isinstance(exc, Invalid):
            kept["values"] = {
                "name": payout.name,
                "account": payout.account,
                "contact": payout.contact,
                "payee": payout.payee,
            }
            kept["errors"], kept["status"] = exc.fields, 422
        token = handovers(request, db).put(OFFER_AGAIN, kept)
        return RedirectResponse(f"/status/reward?{urlencode({'again': token})}", status_code=303)

    done = _back_to("/status#reward")
    return submit(request, require_reporter, act, done, again, (CaseError,))


async def decline_form(request: Request) -> Response:
    """ "No, thank you" asks first; only a form saying ``confirm=yes`` declines."""
    form = await form_with_csrf(request)
    if form.get("confirm") != "yes":
        return await write(request, _decline_question)
    return await write(request, _decline_form)


def _decline_question(request: Request) -> Response:
    try:
        reward = _reward(request)
    except CaseError:
        return RedirectResponse("/status", status_code=303)
    if reward is None or reward.status != "offered":
        return RedirectResponse("/status/reward", status_code=303)
    return render(request, "rewards/decline_confirm.html", {"reward": reward})


def _decline_form(request: Request) -> Response:
    act, done = partial(_decline_in, request), _back_to("/status/reward")
    again = partial(_offer_again, request)
    return submit(request, require_reporter, act, done, again, (CaseError,))


async def undo_form(request: Request) -> Response:
    """Take back a declined offer until it expires: the offer is open again."""
    await form_with_csrf(request)
    return await write(request, _undo_form)


def _undo_form(request: Request) -> Response:
    act, done = partial(_undo_in, request), _back_to("/status/reward")
    again = partial(_offer_again, request)
    return submit(request, require_reporter, act, done, again, (CaseError,))


# --- API -----------------------------------------------------------------------------------


@api_operation(
    "getReporterReward",
    "The reward offered for this report, if any: status, amount, currency, expires_on",
    responses={200: RewardOut},
    errors=(401, 404),
    bearer=True,
    tags=TAGS,
)
async def get_reward(request: Request) -> Response:
    return answer(await write(request, _reward_or_404))


def _reward_or_404(request: Request) -> RewardOut:
    reward = _reward(request)
    if reward is None:
        raise NotFound("There is no reward for this report yet.", code="no_reward")
    return RewardOut.of(reward)


@api_operation(
    "acceptReporterReward",
    "Accept the offer and give payout details (sealed for finance only), for the reporter's "
    "own account or a representative's",
    request=PayoutIn,
    responses={200: RewardOut},
    errors=(400, 401, 404, 409, 422),
    bearer=True,
    tags=TAGS,
)
async def accept(request: Request) -> Response:
    payout = payout_from(await read_json(request))
    await write(request, _accept, payout)
    return answer(await write(request, _reward_or_404))


@api_operation(
    "declineReporterReward",
    "Decline the offer",
    responses={200: RewardOut},
    errors=(401, 404, 409),
    bearer=True,
    tags=TAGS,
)
async def decline(request: Request) -> Response:
    await write(request, _decline)
    return answer(await write(request, _reward_or_404))


routes: list[BaseRoute] = [
    Route("/status/reward", offer_page, methods=["GET"]),
    Route("/status/reward/accept", accept_form, methods=["POST"]),
    Route("/status/reward/decline", decline_form, methods=["POST"]),
    Route("/status/reward/undo", undo_form, methods=["POST"]),
    Route("/api/v1/reporter/reward", get_reward, methods=["GET"]),
    Route("/api/v1/reporter/reward/accept", accept, methods=["POST"]),
    Route("/api/v1/reporter/reward/decline", decline, methods=["POST"]),
]
