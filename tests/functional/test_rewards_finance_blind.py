"""Finance pays without learning which case: payee, amount and a payment id, nothing else.

Every page and answer finance can reach is searched for canaries of the case: its id and
reference, category and channel (ids, slugs, names in both languages), the recovered loss
and every date of the case and of its reward's decisions. The clock moves between steps so
each date is distinct from the payment day finance records itself.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker
from support.reporter_http import login
from support.rewards import answer_shown, reward_world
from support.staff_http import bearer, log_in
from support.staff_world import Person

from cases.clock import FixedClock
from cases.db import unit_of_work
from cases.org.models import Category, Channel
from cases.reports.models import Case
from cases.rewards.models import Reward, RewardPayment

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
PAYOUT = {
    "name": "Lawyer Guo Canary",
    "account": "6222-9999-8888-7777",
    "contact": "guo.lawfirm@example.net",
    "payee": "representative",
}


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    """A substantiated case and its reward people."""
    return reward_world(app, app_db)


def offer_and_accept(client: Any, world: dict[str, Any], payout: dict[str, str]) -> str:
    """Proposed and approved ten days after the case, accepted five days later; staff see the
    acceptance from the next full hour."""
    clock = world["clock"]
    clock.advance(days=10)
    ana, dai = bearer(client, world["ana"], clock), bearer(client, world["dai"], clock)
    case_id = world["case"].id
    proposal = {"recovered_loss": "300000", "exclusions_checked": True}
    made = client.post(f"/api/v1/cases/{case_id}/rewards", headers=ana, json=proposal)
    assert made.status_code == 201, made.text
    reward_id: str = made.json()["id"]
    decided = client.post(
        f"/api/v1/rewards/{reward_id}/decision", headers=dai, json={"approve": True}
    )
    assert decided.status_code == 200, decided.text
    clock.advance(days=5)
    accepted = client.post(
        "/api/v1/reporter/reward/accept", headers=login(client, world["receipt"]), json=payout
    )
    assert accepted.status_code == 200, accepted.text
    answer_shown(client, world)
    return reward_id


def canaries(app_db: sessionmaker[Any], case_id: str) -> set[str]:
    """Everything about the case finance must not learn, as it could appear on a page."""
    with unit_of_work(app_db) as db:
        case = db.get(Case, case_id)
        assert case is not None
        reward = db.scalars(select(Reward).where(Reward.case_id == case_id)).one()
        category = db.get(Category, case.category_id)
        channel = db.get(Channel, case.channel_id)
        assert category is not None
        assert channel is not None
        days = {
            case.submitted_on,
            case.acknowledge_by,
            case.feedback_by,
            reward.proposed_at.date(),
            reward.offered_on,
            reward.expires_on,
            reward.answered_on,
        }
        return {
            case.id,
            case.reference,
            category.id,
            category.slug,
            category.name_en,
            category.name_zh,
            channel.id,
            channel.name_en,
            channel.name_zh,
            "300,000",
            "30000000",
            *(day.isoformat() for day in days if day is not None),
        }


def finance_sees(
    client: Any, fin: dict[str, str], person: Person, clock: FixedClock
) -> dict[str, str]:
    """Every page and answer a finance member can open about rewards, by path."""
    log_in(client, person, clock)
    pages = ("/staff/rewards/payouts", "/staff/rewards/ledger", "/staff/rewards/ledger.csv")
    apis = ("/api/v1/rewards/payouts", "/api/v1/rewards/ledger", "/api/v1/rewards/ledger.csv")
    seen = {path: client.get(path) for path in pages}
    seen |= {path: client.get(path, headers=fin) for path in apis}
    for path, answer in seen.items():
        assert answer.status_code == 200, path
    return {path: answer.text for path, answer in seen.items()}


def test_finance_sees_payee_amount_and_payment_id_only(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """Before and after paying, no finance page or API shows the case, category, channel, dates."""
    clock = world["clock"]
    reward_id = offer_and_accept(client, world, PAYOUT)
    before = finance_sees(client, bearer(client, world["fin"], clock), world["fin"], clock)
    clock.advance(days=3)
    fin = bearer(client, world["fin"], clock)
    csrf = log_in(client, world["fin"], clock)
    paid = client.post(
        f"/staff/rewards/{reward_id}/payment", data={"csrf": csrf, "reference": "BANK-77"}
    )
    after = finance_sees(client, fin, world["fin"], clock)

    secret = canaries(app_db, world["case"].id)
    assert paid.status_code == 200, paid.text
    desk = client.get("/api/v1/rewards/payouts", headers=fin).json()
    assert desk == []
    assert reward_id in before["/staff/rewards/payouts"]
    assert all(
        value in before["/staff/rewards/payouts"]
        for value in PAYOUT.values()
        if value != "representative"
    )
    assert "BANK-77" in after["/api/v1/rewards/ledger"]
    leaks = [
        (path, canary)
        for texts in (before, after)
        for path, text in texts.items()
        for canary in secret
        if canary in text
    ]
    assert leaks == []


def test_payout_answer_has_only_the_payment_fields(client: Any, world: dict[str, Any]) -> None:
    """The finance payout API answers exactly id, payment id, amount, currency and payee details."""
    reward_id = offer_and_accept(client, world, PAYOUT)
    fin = bearer(client, world["fin"], world["clock"])

    desk = client.get("/api/v1/rewards/payouts", headers=fin).json()

    assert desk == [
        {
            "id": reward_id,
            "payment_id": reward_id,
            "amount_minor": 1_100_000,
            "currency": "CNY",
            "payout": PAYOUT,
        }
    ]


def test_the_case_team_still_resolves_the_payment_to_its_case(
    client: Any, world: dict[str, Any]
) -> None:
    """The approver's ledger links the payment id to the case reference; finance's does not."""
    reward_id = offer_and_accept(client, world, PAYOUT)
    dai = bearer(client, world["dai"], world["clock"])
    fin = bearer(client, world["fin"], world["clock"])

    approver = client.get("/api/v1/rewards/ledger", headers=dai).json()["items"]
    finance = client.get("/api/v1/rewards/ledger", headers=fin).json()["items"]

    assert [(i["id"], i["case_reference"]) for i in approver] == [
        (reward_id, world["case"].reference)
    ]
    assert set(finance[0]) == {
        "payment",
        "status",
        "currency",
        "amount_minor",
        "paid_on",
        "payment_reference",
    }


def test_a_representative_is_paid_once(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """A reward accepted for a representative is paid once; a second payment is refused."""
    reward_id = offer_and_accept(client, world, PAYOUT)
    fin = bearer(client, world["fin"], world["clock"])

    payments = [
        client.post(f"/api/v1/rewards/{reward_id}/payment", headers=fin, json={"reference": ref})
        for ref in ("B-1", "B-2")
    ]

    assert [p.status_code for p in payments] == [201, 409]
    with unit_of_work(app_db) as db:
        assert db.scalar(select(func.count()).select_from(RewardPayment)) == 1


def test_payee_must_be_self_or_representative(client: Any, world: dict[str, Any]) -> None:
    """An unknown payee kind is a 422 naming the field, and the offer stays open."""
    clock = world["clock"]
    offer_and_accept_args = {**PAYOUT, "payee": "my cousin"}
    clock.advance(days=10)
    ana, dai = bearer(client, world["ana"], clock), bearer(client, world["dai"], clock)
    made = client.post(
        f"/api/v1/cases/{world['case'].id}/rewards",
        headers=ana,
        json={"recovered_loss": "300000", "exclusions_checked": True},
    )
    client.post(
        f"/api/v1/rewards/{made.json()['id']}/decision", headers=dai, json={"approve": True}
    )

    me = login(client, world["receipt"])
    refused = client.post("/api/v1/reporter/reward/accept", headers=me, json=offer_and_accept_args)
    still = client.get("/api/v1/reporter/reward", headers=me).json()

    assert (refused.status_code, refused.json()["fields"]) == (422, {"payee": "payee"})
    assert still["status"] == "offered"


def offered_and_logged_in(client: Any, world: dict[str, Any]) -> str:
    """Ten days on, a reward proposed and approved through the API; the reporter logged in
    on the web. Returns the page's CSRF token."""
    clock = world["clock"]
    clock.advance(days=10)
    ana, dai = bearer(client, world["ana"], clock), bearer(client, world["dai"], clock)
    made = client.post(
        f"/api/v1/cases/{world['case'].id}/rewards",
        headers=ana,
        json={"recovered_loss": "300000", "exclusions_checked": True},
    )
    client.post(
        f"/api/v1/rewards/{made.json()['id']}/decision", headers=dai, json={"approve": True}
    )
    found = CSRF.search(client.get("/status").text)
    assert found
    client.post("/status", data={"csrf": found.group(1), "receipt": world["receipt"]})
    return found.group(1)


def test_payout_form_offers_a_representative_and_says_what_finance_sees(
    client: Any, world: dict[str, Any]
) -> None:
    """The HTML offer page names the representative choice and what finance will see; it works."""
    csrf = offered_and_logged_in(client, world)

    form = client.get("/status/reward")
    sent = client.post("/status/reward/accept", data={"csrf": csrf, **PAYOUT})
    fin = answer_shown(client, world)["fin"]
    desk = client.get("/api/v1/rewards/payouts", headers=fin).json()

    assert form.status_code == 200
    assert 'value="representative"' in form.text
    assert 'id="finance-sees"' in form.text
    assert form.context["reward"].status == "offered"
    assert sent.status_code == 200
    assert desk[0]["payout"] == PAYOUT


def test_a_refused_payout_form_comes_back_behind_a_redirect(
    client: Any, world: dict[str, Any]
) -> None:
    """A payout form refused (no account) answers with a redirect, never a page, so the
    browser keeps no body with the payout details; the page behind it shows them again."""
    csrf = offered_and_logged_in(client, world)
    partial = {**PAYOUT, "account": ""}

    sent = client.post(
        "/status/reward/accept", data={"csrf": csrf, **partial}, follow_redirects=False
    )
    page = client.get(sent.headers["location"])

    assert sent.status_code == 303
    assert PAYOUT["name"] not in sent.headers["location"] + sent.text
    assert page.status_code == 422
    assert page.context["values"]["name"] == PAYOUT["name"]
    assert page.context["errors"]
    assert f'value="{PAYOUT["contact"]}"' in page.text
