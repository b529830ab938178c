"""The reward ledger never shows a reward of a case its reader is kept away from."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from support.reporter_http import login
from support.rewards import offer, reward_world, staff_tokens
from support.staff_http import app_world, bearer, log_in
from support.staff_world import SECRET, ZONE

from cases.casework.service import CaseworkConfig, CaseworkService
from cases.reports.intake import SubjectInput
from cases.retention.service import RetentionConfig, RetentionService
from cases.rewards.ledger import build_ledger
from cases.rewards.service import Proposal, RewardConfig, RewardService


def test_a_reward_approver_named_in_a_case_does_not_see_its_reward_in_the_ledger(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """The accused director, a reward approver, finds no row, total or case id of the case
    that names him in the ledger (JSON, CSV, page); a colleague approver still does."""
    with app_world(app, app_db) as world:
        ana = world.staff("ana@example.com", "investigator")
        dai = world.staff("dai@example.com", "reward_approver")
        dan = world.staff("dan@example.com", "reward_approver", name="Dan Director")
        filed = world.file(subjects=[SubjectInput(name="Dan", email="dan@example.com")])
        work = CaseworkService(world.db, world.clock, CaseworkConfig(ZONE, SECRET))
        me = ana.principal(world.db, world.clock)
        work.transition(me, filed.case.id, "acknowledged", "Received")
        work.transition(me, filed.case.id, "concluded", "Proven", "substantiated")
        clock, case = world.clock, filed.case
    proposal = {"recovered_loss": "987654", "exclusions_checked": True}
    made = client.post(
        f"/api/v1/cases/{case.id}/rewards", headers=bearer(client, ana, clock), json=proposal
    )
    assert made.status_code == 201, made.text
    reward_id = made.json()["id"]
    colleague = client.get("/api/v1/rewards/ledger", headers=bearer(client, dai, clock)).json()
    assert [item["id"] for item in colleague["items"]] == [reward_id]

    accused = bearer(client, dan, clock)
    answer = client.get("/api/v1/rewards/ledger", headers=accused)
    sheet = client.get("/api/v1/rewards/ledger.csv", headers=accused)
    log_in(client, dan, clock)
    page = client.get("/staff/rewards/ledger")

    assert answer.status_code == sheet.status_code == page.status_code == 200
    assert answer.json() == {"items": [], "totals": []}
    for text in (answer.text, sheet.text, page.text):
        assert reward_id not in text
        assert case.id not in text
        assert "987654" not in text
        assert "987,654" not in text


def test_a_reward_of_a_case_deleted_under_retention_does_not_appear_to_the_accused(
    app: Any, app_db: sessionmaker[Session]
) -> None:
    """Deletion takes the case's subjects, so the policy can no longer hide it: its reward must
    not then turn up in the accused approver's ledger, with the reference, as the one row that
    was missing before. Auditors keep reading it."""
    with app_world(app, app_db) as world:
        ana = world.staff("ana@example.com", "investigator")
        dai = world.staff("dai@example.com", "reward_approver")
        dan = world.staff("dan@example.com", "reward_approver")
        aud = world.staff("aud@example.com", "auditor")
        filed = world.file(subjects=[SubjectInput(name="Dan", email="dan@example.com")])
        work = CaseworkService(world.db, world.clock, CaseworkConfig(ZONE, SECRET))
        me = ana.principal(world.db, world.clock)
        work.transition(me, filed.case.id, "acknowledged", "Received")
        work.transition(me, filed.case.id, "concluded", "Proven", "substantiated")
        rewards = RewardService(world.db, world.clock, RewardConfig(ZONE, SECRET))
        reward = rewards.propose(me, filed.case.id, Proposal("987654", exclusions_checked=True))
        rewards.decide(dai.principal(world.db, world.clock), reward.id, False, "Too much")
        RetentionService(world.db, world.clock, RetentionConfig(ZONE, SECRET)).shred(filed.case)
        world.db.flush()

        accused = build_ledger(world.db, dan.principal(world.db, world.clock), ZONE)
        auditor = build_ledger(world.db, aud.principal(world.db, world.clock), ZONE)

    assert accused.rows == []
    assert accused.totals == []
    assert [row.reward.id for row in auditor.rows] == [reward.id]


def test_finance_totals_do_not_date_the_proposal(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """Finance's ledger totals a month by its own payments, not by the month the reward was
    proposed (a date of the case's reward decisions finance must not learn)."""
    world = reward_world(app, app_db)
    clock = world["clock"]
    auth = staff_tokens(client, world)
    reward_id = offer(client, world, auth)
    proposed_month = clock.now().strftime("%Y-%m")
    me = login(client, world["receipt"])
    payout = {"name": "Li Ming", "account": "6222-0000-1111-2222", "contact": "li@example.net"}
    assert client.post("/api/v1/reporter/reward/accept", headers=me, json=payout).status_code == 200
    clock.advance(days=45)
    paid_month = clock.now().strftime("%Y-%m")
    fin = bearer(client, world["fin"], clock)
    paid = client.post(
        f"/api/v1/rewards/{reward_id}/payment", headers=fin, json={"reference": "B-1"}
    )

    answer = client.get("/api/v1/rewards/ledger", headers=fin)
    sheet = client.get("/api/v1/rewards/ledger.csv", headers=fin)
    log_in(client, world["fin"], clock)
    page = client.get("/staff/rewards/ledger")

    assert paid.status_code == 201, paid.text
    assert proposed_month != paid_month
    assert [t["month"] for t in answer.json()["totals"]] == [paid_month]
    for text in (answer.text, sheet.text, page.text):
        assert proposed_month not in text
