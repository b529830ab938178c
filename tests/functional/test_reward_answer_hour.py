"""Over HTTP: a reporter's answer to a reward offer (accept, decline, take back a decline) does
not tell staff the minute of the visit. Staff who poll every view they have of the reward (the
case's rewards, the approvals queue, the ledger and its CSV, the payout desk) see exactly what
they saw before until the jobs round of the next full hour; the reporter sees their answer at
once, and nobody can pay an acceptance staff cannot see yet."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient
from support.reporter_http import login
from support.rewards import offer, reward_world, staff_tokens
from support.staff_http import bearer
from support.staff_world import build_world

from cases.db import unit_of_work
from portal.jobs import JobConfig, JobRunner

PAYOUT = {"name": "Li Ming", "account": "6222-0000-1111-2222", "contact": "limingx@example.net"}
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Session]) -> dict[str, Any]:
    """A substantiated case, its reward people (investigator, approver, finance)."""
    return reward_world(app, app_db)


def staff_sees(client: TestClient, world: dict[str, Any]) -> dict[str, Any]:
    """Everything the investigator, the approver and finance can read of the reward."""
    auth = staff_tokens(client, world)
    case = f"/api/v1/cases/{world['case'].id}/rewards"
    seen: dict[str, Any] = {}
    for name, path in (
        ("ana", case),
        ("dai", case),
        ("dai", "/api/v1/rewards/queue"),
        ("dai", "/api/v1/rewards/ledger"),
        ("fin", "/api/v1/rewards/ledger"),
        ("fin", "/api/v1/rewards/payouts"),
    ):
        answer = client.get(path, headers=auth[name])
        seen[f"{name} {path}"] = (answer.status_code, answer.json())
    for name in ("dai", "fin"):
        csv = client.get("/api/v1/rewards/ledger.csv", headers=auth[name])
        seen[f"{name} ledger.csv"] = (csv.status_code, csv.text)
    return seen


def jobs_round(app: Any, app_db: sessionmaker[Session], world: dict[str, Any]) -> None:
    JobRunner(app_db, world["clock"], JobConfig.of(app.state.settings)).run_once()


def to(world: dict[str, Any], hour: int, minute: int) -> None:
    clock = world["clock"]
    clock.current = clock.current.replace(hour=hour, minute=minute)


def test_an_acceptance_reaches_staff_and_finance_only_at_the_next_hour(
    client: TestClient, app: Any, app_db: sessionmaker[Session], world: dict[str, Any]
) -> None:
    """Staff polling at 10:16 and 10:18 see the same offer although the reporter accepted at
    10:17 (the reporter sees "accepted" at once); finance cannot pay it before the hour; after
    the jobs round of 11:00 every view shows the acceptance and finance pays."""
    reward_id = offer(client, world, staff_tokens(client, world))
    to(world, 10, 16)
    before = staff_sees(client, world)
    to(world, 10, 17)
    me = login(client, world["receipt"])
    accepted = client.post("/api/v1/reporter/reward/accept", headers=me, json=PAYOUT)
    mine = client.get("/api/v1/reporter/reward", headers=me).json()
    to(world, 10, 18)
    during = staff_sees(client, world)
    fin = staff_tokens(client, world)["fin"]
    early = client.post(
        f"/api/v1/rewards/{reward_id}/payment", headers=fin, json={"reference": "B-1"}
    )
    to(world, 11, 0)
    jobs_round(app, app_db, world)
    after = staff_sees(client, world)
    fin = staff_tokens(client, world)["fin"]
    paid = client.post(
        f"/api/v1/rewards/{reward_id}/payment", headers=fin, json={"reference": "B-1"}
    )

    assert accepted.status_code == 200, accepted.text
    assert mine["status"] == "accepted"
    assert during == before
    assert early.status_code == 409
    assert after != before
    assert after["ana /api/v1/cases/" + world["case"].id + "/rewards"][1][0]["status"] == "accepted"
    payouts = after["fin /api/v1/rewards/payouts"][1]
    assert [p["payout"] for p in payouts] == [{**PAYOUT, "payee": "self"}]
    assert ",accepted," in after["dai ledger.csv"][1]
    assert paid.status_code == 201, paid.text


def test_a_decline_and_its_undo_reach_staff_only_at_the_next_hour(
    client: TestClient, app: Any, app_db: sessionmaker[Session], world: dict[str, Any]
) -> None:
    """The reporter declines at 10:17 and takes it back at 11:17: staff at 10:18 see what they
    saw at 10:16, the decline from the jobs round of 11:00; at 11:18 what they saw at 11:16,
    and the offer again from the round of 12:00. The reporter sees each answer at once."""
    offer(client, world, staff_tokens(client, world))
    case_rewards = "ana /api/v1/cases/" + world["case"].id + "/rewards"
    to(world, 10, 16)
    before = staff_sees(client, world)
    to(world, 10, 17)
    me = login(client, world["receipt"])
    declined = client.post("/api/v1/reporter/reward/decline", headers=me, json={})
    mine = client.get("/api/v1/reporter/reward", headers=me).json()
    to(world, 10, 18)
    during = staff_sees(client, world)
    to(world, 11, 0)
    jobs_round(app, app_db, world)
    to(world, 11, 16)
    shown = staff_sees(client, world)

    assert declined.status_code == 200, declined.text
    assert mine["status"] == "declined"
    assert during == before
    assert shown[case_rewards][1][0]["status"] == "declined"

    to(world, 11, 17)
    csrf = CSRF.findall(client.get("/status").text)[0]
    opened = client.post("/status", data={"csrf": csrf, "receipt": world["receipt"]})
    assert opened.status_code in (200, 303), opened.text
    csrf = CSRF.findall(client.get("/status").text)[0]
    undone = client.post("/status/reward/undo", data={"csrf": csrf}, follow_redirects=False)
    again = client.get("/api/v1/reporter/reward", headers=login(client, world["receipt"])).json()
    to(world, 11, 18)
    still = staff_sees(client, world)
    to(world, 12, 0)
    jobs_round(app, app_db, world)
    offered = staff_sees(client, world)

    assert undone.status_code == 303, undone.text
    assert again["status"] == "offered"
    assert still == shown
    assert offered[case_rewards][1][0]["status"] == "approved"


def test_a_payout_key_handed_on_at_a_later_visit_reaches_finance_at_the_next_hour(
    client: TestClient, app: Any, app_db: sessionmaker[Session], world: dict[str, Any]
) -> None:
    """Fia joins finance after the acceptance and waits for the payout key; the reporter's
    visit at 11:17 hands it on. Her desk at 11:18 is what it was at 11:15 (no payout details:
    on the code before they appeared, so the minute they did was the minute of the visit);
    after the jobs round of 12:00 she reads them."""
    offer(client, world, staff_tokens(client, world))
    to(world, 10, 5)
    accepted = client.post(
        "/api/v1/reporter/reward/accept", headers=login(client, world["receipt"]), json=PAYOUT
    )
    assert accepted.status_code == 200, accepted.text
    clock = world["clock"]
    to(world, 11, 0)
    jobs_round(app, app_db, world)
    with unit_of_work(app_db) as db:
        fia = build_world(db, clock).staff("fia@example.com", "finance")
    to(world, 11, 15)
    waiting = client.get("/api/v1/rewards/payouts", headers=bearer(client, fia, clock))
    to(world, 11, 17)
    visit = client.get("/api/v1/reporter/reward", headers=login(client, world["receipt"]))
    to(world, 11, 18)
    still = client.get("/api/v1/rewards/payouts", headers=bearer(client, fia, clock))
    to(world, 12, 0)
    jobs_round(app, app_db, world)
    later = client.get("/api/v1/rewards/payouts", headers=bearer(client, fia, clock))

    assert visit.json()["status"] == "accepted"
    assert [p["payout"] for p in waiting.json()] == [None]
    assert still.json() == waiting.json()
    assert [p["payout"] for p in later.json()] == [{**PAYOUT, "payee": "self"}]
