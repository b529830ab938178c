"""The reward flow over the JSON API, from a substantiated case to a paid reward."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker
from support.reporter_http import login
from support.rewards import answer_shown, offer, reward_world, staff_tokens
from support.staff_http import bearer

from cases.db import unit_of_work
from cases.rewards.models import RewardPayment

PAYOUT = {"name": "Li Ming", "account": "6222-0000-1111-2222", "contact": "limingx@example.net"}


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    """A substantiated case, its reward people and an auditor."""
    return reward_world(app, app_db, aud="auditor")


def test_whole_flow_to_paid(client: Any, world: dict[str, Any]) -> None:
    """Propose, approve, accept with payout details, pay; the reporter sees each step."""
    auth = staff_tokens(client, world)
    me = login(client, world["receipt"])
    reward_id = offer(client, world, auth)

    offered = client.get("/api/v1/reporter/report", headers=me).json()["reward"]
    accepted = client.post("/api/v1/reporter/reward/accept", headers=me, json=PAYOUT)
    auth = answer_shown(client, world)  # staff see the answer from the next full hour
    desk = client.get("/api/v1/rewards/payouts", headers=auth["fin"]).json()
    paid = client.post(
        f"/api/v1/rewards/{reward_id}/payment", headers=auth["fin"], json={"reference": "B-1"}
    )
    final = client.get("/api/v1/reporter/reward", headers=login(client, world["receipt"])).json()

    assert offered == {
        "status": "offered",
        "amount_minor": 1_100_000,
        "currency": "CNY",
        "expires_on": "2026-05-31",
        # Set only on a declined offer that can still be taken back (issue 15).
        "undo_until": None,
    }
    assert accepted.json()["status"] == "accepted"
    assert [d["payout"] for d in desk] == [{**PAYOUT, "payee": "self"}]
    assert paid.status_code == 201
    assert final["status"] == "paid"


def test_reporter_stays_anonymous_to_investigators(client: Any, world: dict[str, Any]) -> None:
    """No payout detail reaches the investigator's case, rewards or ledger; payouts are 403."""
    auth = staff_tokens(client, world)
    me = login(client, world["receipt"])
    reward_id = offer(client, world, auth)
    client.post("/api/v1/reporter/reward/accept", headers=me, json=PAYOUT)
    client.post(
        f"/api/v1/rewards/{reward_id}/payment", headers=auth["fin"], json={"reference": "B-1"}
    )
    case_id = world["case"].id

    seen = [
        client.get(f"/api/v1/cases/{case_id}", headers=auth["ana"]),
        client.get(f"/api/v1/cases/{case_id}/rewards", headers=auth["ana"]),
    ]
    payouts = client.get("/api/v1/rewards/payouts", headers=auth["ana"])
    ledger = client.get("/api/v1/rewards/ledger", headers=auth["ana"])

    for answer in seen:
        assert answer.status_code == 200
        for secret in PAYOUT.values():
            assert secret not in answer.text
    assert (payouts.status_code, ledger.status_code) == (403, 403)


def test_finance_cannot_read_the_report(client: Any, world: dict[str, Any]) -> None:
    """Content endpoints are for case readers: finance gets 403 (its role may never read a
    case), whatever the id, and no report text."""
    fin = bearer(client, world["fin"], world["clock"])

    answer = client.get(f"/api/v1/cases/{world['case'].id}", headers=fin)
    listed = client.get("/api/v1/cases", headers=fin).json()

    assert answer.status_code == 403
    assert "Orders moved to a rival" not in answer.text
    assert "Q3 orders" not in answer.text
    assert listed["items"] == []


def test_refusals_change_nothing(client: Any, world: dict[str, Any], app_db: Any) -> None:
    """Float or negative amounts, own approval, payout without fields, double payment: refused."""
    auth = staff_tokens(client, world)
    me = login(client, world["receipt"])
    case_id = world["case"].id

    as_float = client.post(
        f"/api/v1/cases/{case_id}/rewards",
        headers=auth["ana"],
        json={"recovered_loss": 300000.5, "exclusions_checked": True},
    )
    negative = client.post(
        f"/api/v1/cases/{case_id}/rewards",
        headers=auth["ana"],
        json={"recovered_loss": "-1", "exclusions_checked": True},
    )
    reward_id = offer(client, world, auth)
    twice = client.post(
        f"/api/v1/rewards/{reward_id}/decision", headers=auth["dai"], json={"approve": True}
    )
    empty = client.post("/api/v1/reporter/reward/accept", headers=me, json={"name": "Li"})
    client.post("/api/v1/reporter/reward/accept", headers=me, json=PAYOUT)
    auth = answer_shown(client, world)
    payments = [
        client.post(
            f"/api/v1/rewards/{reward_id}/payment", headers=auth["fin"], json={"reference": ref}
        )
        for ref in ("B-1", "B-2")
    ]

    assert (as_float.status_code, negative.status_code) == (422, 422)
    assert twice.status_code == 409
    assert (empty.status_code, set(empty.json()["fields"])) == (422, {"account", "contact"})
    assert [p.status_code for p in payments] == [201, 409]
    assert payments[1].json()["error"] == "already_paid"
    with unit_of_work(app_db) as db:
        assert db.scalar(select(func.count()).select_from(RewardPayment)) == 1


def test_ledger_csv_is_formula_safe(client: Any, world: dict[str, Any]) -> None:
    """A payment reference starting with = is exported with a leading quote; totals add up."""
    auth = staff_tokens(client, world)
    me = login(client, world["receipt"])
    reward_id = offer(client, world, auth)
    client.post("/api/v1/reporter/reward/accept", headers=me, json=PAYOUT)
    auth = answer_shown(client, world)
    evil = '=HYPERLINK("http://evil.example","x")'
    client.post(
        f"/api/v1/rewards/{reward_id}/payment", headers=auth["fin"], json={"reference": evil}
    )

    exported = client.get("/api/v1/rewards/ledger.csv", headers=auth["fin"])
    ledger = client.get("/api/v1/rewards/ledger", headers=auth["dai"]).json()
    rows = list(csv.DictReader(io.StringIO(exported.text)))

    assert exported.headers["content-type"].startswith("text/csv")
    assert rows[0]["payment_reference"] == "'" + evil
    assert rows[0]["status"] == "paid"
    assert ledger["totals"] == [
        {
            "month": "2026-03",
            "currency": "CNY",
            "count": {"paid": 1},
            "sum_minor": {"paid": 1_100_000},
        }
    ]
