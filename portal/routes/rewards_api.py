"""The rewards JSON API for staff: propose, decide, pay, read the ledger (bearer token only).

Amounts travel as strings in major units ("1234.56") or integers, never as JSON floats,
and are parsed with Decimal in cases/rewards; answers give integer minor units.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cases.db import unit_of_work
from cases.rewards.ledger import build_ledger, ledger_csv
from cases.rewards.models import RewardPayment
from cases.rewards.service import Proposal
from portal.auth import require_staff
from portal.deps import reward_service, settings_of
from portal.downloads import csv_response
from portal.errors import read_json
from portal.openapi import api_operation
from portal.shapes import answer, parse
from portal.shapes.rewards import (
    DecisionIn,
    LedgerOut,
    PaymentIn,
    PaymentOut,
    PayoutOut,
    Payouts,
    ProposalIn,
    RewardOut,
    RewardViewOut,
    RewardViews,
)

TAGS = ("rewards",)


# --- proposing -----------------------------------------------------------------------------


@api_operation(
    "listCaseRewards",
    "The rewards of a case (never payout details)",
    responses={200: RewardViews},
    errors=(401, 404),
    bearer=True,
    tags=TAGS,
)
async def list_case_rewards(request: Request) -> Response:
    return answer(await run_in_threadpool(_list_case_rewards, request))


def _list_case_rewards(request: Request) -> RewardViews:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        views = reward_service(request, db).for_case(me, request.path_params["case_id"])
        return RewardViews([RewardViewOut.of_view(v) for v in views])


@api_operation(
    "proposeReward",
    "Record the verified recovered loss and propose a reward (investigators on the case)",
    request=ProposalIn,
    responses={201: RewardOut},
    errors=(400, 401, 403, 404, 409, 422),
    bearer=True,
    tags=TAGS,
)
async def propose(request: Request) -> Response:
    proposal = parse(ProposalIn, await read_json(request)).value()
    return answer(await run_in_threadpool(_propose, request, proposal), status_code=201)


def _propose(request: Request, proposal: Proposal) -> RewardOut:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        case_id = request.path_params["case_id"]
        return RewardOut.of(reward_service(request, db).propose(me, case_id, proposal))


# --- approving -----------------------------------------------------------------------------


@api_operation(
    "listRewardQueue",
    "Proposals waiting for this approver's decision",
    responses={200: RewardViews},
    errors=(401, 403),
    bearer=True,
    tags=TAGS,
)
async def queue(request: Request) -> Response:
    return answer(await run_in_threadpool(_queue, request))


def _queue(request: Request) -> RewardViews:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        views = reward_service(request, db).queue(me)
        return RewardViews([RewardViewOut.of_view(v) for v in views])


@api_operation(
    "decideReward",
    "Approve, or refuse with a reason (reward approvers other than the proposer)",
    request=DecisionIn,
    responses={200: RewardOut},
    errors=(400, 401, 403, 404, 409, 422),
    bearer=True,
    tags=TAGS,
)
async def decide(request: Request) -> Response:
    decision = parse(DecisionIn, await read_json(request))
    return answer(await run_in_threadpool(_decide, request, decision))


def _decide(request: Request, decision: DecisionIn) -> RewardOut:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        reward_id = request.path_params["reward_id"]
        service = reward_service(request, db)
        return RewardOut.of(service.decide(me, reward_id, decision.approve, decision.reason))


# --- finance -------------------------------------------------------------------------------


@api_operation(
    "listRewardPayouts",
    "Accepted rewards to pay, with payout details for finance members who hold the key",
    responses={200: Payouts},
    errors=(401, 403),
    bearer=True,
    tags=TAGS,
)
async def payouts(request: Request) -> Response:
    return answer(await run_in_threadpool(_payouts, request))


def _payouts(request: Request) -> Payouts:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        return Payouts([PayoutOut.of(v) for v in reward_service(request, db).desk(me)])


@api_operation(
    "recordRewardPayment",
    "Record that an accepted reward was paid, with the payment reference; once only",
    request=PaymentIn,
    responses={201: PaymentOut},
    errors=(400, 401, 403, 404, 409, 422),
    bearer=True,
    tags=TAGS,
)
async def pay(request: Request) -> Response:
    reference = parse(PaymentIn, await read_json(request)).reference
    payment = await run_in_threadpool(_pay, request, reference)
    return answer(PaymentOut.of(payment), status_code=201)


def _pay(request: Request, reference: str) -> RewardPayment:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        reward_id = request.path_params["reward_id"]
        return reward_service(request, db).pay(me, reward_id, reference)


# --- ledger --------------------------------------------------------------------------------


@api_operation(
    "getRewardLedger",
    "Every reward with its status and amounts, and totals per month (status= filters)",
    responses={200: LedgerOut},
    errors=(401, 403),
    bearer=True,
    tags=TAGS,
)
async def ledger(request: Request) -> Response:
    return answer(await run_in_threadpool(_ledger, request))


def _ledger(request: Request) -> LedgerOut:
    with unit_of_work(request.app.state.db) as db:
        me = require_staff(request, db)
        zone = settings_of(request).timezone
        reward_service(request, db).expire_due()
        return LedgerOut.of(build_ledger(db, me, zone, request.query_params.get("status")), zone)


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
