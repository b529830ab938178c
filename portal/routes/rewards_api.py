"""The rewards JSON API for staff: propose, decide, pay, read the ledger (bearer token only).

Amounts travel as strings in major units ("1234.56") or integers, never as JSON floats,
and are parsed with Decimal in cases/rewards; answers give integer minor units.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from cases.db import unit_of_work
from cases.errors import Invalid
from cases.rewards.ledger import FINANCE_COLUMNS, Ledger, LedgerRow, build_ledger, ledger_csv
from cases.rewards.models import Reward, RewardPayment
from cases.rewards.service import PayoutView, Proposal, RewardView
from portal.auth import require_staff
from portal.deps import reward_service, settings_of
from portal.downloads import csv_response
from portal.errors import read_json
from portal.i18n import N_
from portal.openapi import api_operation

TAGS = ("rewards",)
STRING = {"type": "string"}
AMOUNT = {"type": ["string", "integer"], "description": 'major units, e.g. "1234.56"'}
OBJECT = {"type": "object"}
LIST = {"type": "array", "items": OBJECT}


def amount_text(body: dict[str, Any], name: str) -> str:
    """A JSON amount as text for Decimal; floats are refused (they are not exact)."""
    value = body.get(name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Invalid('Give amounts as a string such as "1234.56".', fields={name: "amount"})
    return str(value)


def text(body: dict[str, Any], name: str) -> str:
    """A text field: absent is empty; any other type is refused, never silently dropped."""
    value = body.get(name, "")
    if not isinstance(value, str):
        raise Invalid(N_("Please check the highlighted fields."), fields={name: "invalid"})
    return value


def reward_json(reward: Reward) -> dict[str, Any]:
    return {
        "id": reward.id,
        "case": reward.case_id,
        "status": reward.status,
        "currency": reward.currency,
        "recovered_loss_minor": reward.recovered_loss_minor,
        "suggested_minor": reward.suggested_minor,
        "amount_minor": reward.amount_minor,
        "approvals_needed": reward.approvals_needed,
        "offered_on": _day(reward.offered_on),
        "expires_on": _day(reward.expires_on),
        "answered_on": _day(reward.answered_on),
    }


def view_json(view: RewardView) -> dict[str, Any]:
    return {
        **reward_json(view.reward),
        "proposer": view.proposer,
        "approvals": view.approvals,
        "explanation": view.explanation,
        "awaiting_access": view.awaiting_access,
        "on_hold": view.on_hold,
    }


def payout_json(view: PayoutView) -> dict[str, Any]:
    """What finance sees: payee, amount and payment id; nothing of the case (docs/rewards.md)."""
    return {
        "id": view.payment_id,
        "payment_id": view.payment_id,
        "amount_minor": view.amount_minor,
        "currency": view.currency,
        "payout": view.payout,
    }


def ledger_item_json(ledger: Ledger, row: LedgerRow, zone: ZoneInfo) -> dict[str, Any]:
    if ledger.for_finance:
        return dict(zip(FINANCE_COLUMNS, row.finance_cells(zone), strict=True))
    return {**reward_json(row.reward), "case_reference": row.case_reference or None}


def ledger_json(ledger: Ledger, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "items": [ledger_item_json(ledger, row, zone) for row in ledger.rows],
        "totals": [
            {"month": t.month, "currency": t.currency, "count": t.counts, "sum_minor": t.sums}
            for t in ledger.totals
        ],
    }


def _day(value: Any) -> str | None:
    return value.isoformat() if value else None


# --- proposing -----------------------------------------------------------------------------


@api_operation(
    "listCaseRewards",
    "The rewards of a case (never payout details)",
    responses={200: LIST},
    errors=(401, 404),
    bearer=True,
    tags=TAGS,
)
async def list_case_rewards(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(_list_case_rewards, request))


def _list_case_rewards(request: Request) -> list[dict[str, Any]]:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        views = reward_service(request, db).for_case(me, request.path_params["case_id"])
        return [view_json(v) for v in views]


@api_operation(
    "proposeReward",
    "Record the verified recovered loss and propose a reward (investigators on the case)",
    request={
        "type": "object",
        "required": ["recovered_loss", "exclusions_checked"],
        "properties": {
            "recovered_loss": AMOUNT,
            "amount": AMOUNT,
            "explanation": STRING,
            "exclusions_checked": {"type": "boolean"},
        },
    },
    responses={201: OBJECT},
    errors=(400, 401, 403, 404, 409, 422),
    bearer=True,
    tags=TAGS,
)
async def propose(request: Request) -> Response:
    body = await read_json(request)
    proposal = Proposal(
        amount_text(body, "recovered_loss"),
        amount_text(body, "amount"),
        text(body, "explanation"),
        body.get("exclusions_checked") is True,
    )
    return JSONResponse(await run_in_threadpool(_propose, request, proposal), status_code=201)


def _propose(request: Request, proposal: Proposal) -> dict[str, Any]:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        case_id = request.path_params["case_id"]
        return reward_json(reward_service(request, db).propose(me, case_id, proposal))


# --- approving -----------------------------------------------------------------------------


@api_operation(
    "listRewardQueue",
    "Proposals waiting for this approver's decision",
    responses={200: LIST},
    errors=(401, 403),
    bearer=True,
    tags=TAGS,
)
async def queue(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(_queue, request))


def _queue(request: Request) -> list[dict[str, Any]]:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        return [view_json(v) for v in reward_service(request, db).queue(me)]


@api_operation(
    "decideReward",
    "Approve, or refuse with a reason (reward approvers other than the proposer)",
    request={
        "type": "object",
        "required": ["approve"],
        "properties": {"approve": {"type": "boolean"}, "reason": STRING},
    },
    responses={200: OBJECT},
    errors=(400, 401, 403, 404, 409, 422),
    bearer=True,
    tags=TAGS,
)
async def decide(request: Request) -> Response:
    body = await read_json(request)
    approve = body.get("approve")
    if not isinstance(approve, bool):
        raise Invalid("Say whether you approve (true or false).", fields={"approve": "required"})
    return JSONResponse(await run_in_threadpool(_decide, request, approve, text(body, "reason")))


def _decide(request: Request, approve: bool, reason: str) -> dict[str, Any]:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        reward_id = request.path_params["reward_id"]
        return reward_json(reward_service(request, db).decide(me, reward_id, approve, reason))


# --- finance -------------------------------------------------------------------------------


@api_operation(
    "listRewardPayouts",
    "Accepted rewards to pay, with payout details for finance members who hold the key",
    responses={200: LIST},
    errors=(401, 403),
    bearer=True,
    tags=TAGS,
)
async def payouts(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(_payouts, request))


def _payouts(request: Request) -> list[dict[str, Any]]:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        return [payout_json(v) for v in reward_service(request, db).desk(me)]


@api_operation(
    "recordRewardPayment",
    "Record that an accepted reward was paid, with the payment reference; once only",
    request={"type": "object", "required": ["reference"], "properties": {"reference": STRING}},
    responses={201: OBJECT},
    errors=(400, 401, 403, 404, 409, 422),
    bearer=True,
    tags=TAGS,
)
async def pay(request: Request) -> Response:
    reference = text(await read_json(request), "reference")
    payment = await run_in_threadpool(_pay, request, reference)
    return JSONResponse(
        {"reward": payment.reward_id, "reference": payment.reference, "status": "paid"},
        status_code=201,
    )


def _pay(request: Request, reference: str) -> RewardPayment:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        reward_id = request.path_params["reward_id"]
        return reward_service(request, db).pay(me, reward_id, reference)


# --- ledger --------------------------------------------------------------------------------


@api_operation(
    "getRewardLedger",
    "Every reward with its status and amounts, and totals per month (status= filters)",
    responses={200: OBJECT},
    errors=(401, 403),
    bearer=True,
    tags=TAGS,
)
async def ledger(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(_ledger, request))


def _ledger(request: Request) -> dict[str, Any]:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        zone = settings_of(request).timezone
        reward_service(request, db).expire_due()
        return ledger_json(build_ledger(db, me, zone, request.query_params.get("status")), zone)


@api_operation(
    "exportRewardLedger",
    "The ledger as CSV; cells a spreadsheet would run as formulas are quoted",
    responses={200: {"type": "string"}},
    response_media_type="text/csv",
    errors=(401, 403),
    bearer=True,
    tags=TAGS,
)
async def ledger_export(request: Request) -> Response:
    return csv_response(await run_in_threadpool(_ledger_csv, request))


def _ledger_csv(request: Request) -> str:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        zone = settings_of(request).timezone
        reward_service(request, db).expire_due()
        return ledger_csv(build_ledger(db, me, zone, request.query_params.get("status")), zone)


routes: list[BaseRoute] = [
    Route("/api/v1/cases/{case_id}/rewards", list_case_rewards, methods=["GET"]),
    Route("/api/v1/cases/{case_id}/rewards", propose, methods=["POST"]),
    Route("/api/v1/rewards/queue", queue, methods=["GET"]),
    Route("/api/v1/rewards/payouts", payouts, methods=["GET"]),
    Route("/api/v1/rewards/ledger", ledger, methods=["GET"]),
    Route("/api/v1/rewards/ledger.csv", ledger_export, methods=["GET"]),
    Route("/api/v1/rewards/{reward_id}/decision", decide, methods=["POST"]),
    Route("/api/v1/rewards/{reward_id}/payment", pay, methods=["POST"]),
]
