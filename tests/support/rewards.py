"""Rewards in functional and browser tests: a substantiated case and the people of the flow."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import SystemClock, ceil_hour, floor_hour
from cases.db import make_engine, session_factory, unit_of_work
from cases.reports.intake import Filed
from cases.rewards.answers import release
from support.db import TEST_SECRET
from support.staff_http import app_world, bearer
from support.staff_world import SECRET, ZONE, Person, World

# Who takes part in a reward: the investigator proposes, the approver decides, finance pays.
ROLES = {"ana": "investigator", "dai": "reward_approver", "fin": "finance"}


def substantiated_case(world: World, **extra_roles: str) -> tuple[dict[str, Person], Filed]:
    """The reward people (<name>@example.com, plus `extra_roles`) and a case Ana concluded
    as substantiated."""
    roles = {**ROLES, **extra_roles}
    people = {name: world.staff(f"{name}@example.com", role) for name, role in roles.items()}
    filed = world.file()
    work = CaseworkService(world.db, world.clock, CaseworkConfig(ZONE, SECRET))
    ana = people["ana"].principal(world.db, world.clock)
    work.transition(ana, filed.case.id, "acknowledged", "Received")
    work.transition(ana, filed.case.id, "concluded", "Proven", "substantiated")
    return people, filed


def reward_world(app: Any, app_db: sessionmaker[Session], **extra_roles: str) -> dict[str, Any]:
    """`substantiated_case` on the app's database: clock, case, receipt and each person."""
    with app_world(app, app_db) as made:
        people, filed = substantiated_case(made, **extra_roles)
    return {
        "clock": made.clock,
        "case": filed.case,
        "receipt": filed.receipt.formatted(),
        "app_db": app_db,
        **people,
    }


def answer_shown_at_the_hour(database_url: str) -> int:
    """For a live server on the system clock: what the jobs round of the next full hour does
    to reporters' answers given until now (they are shown to staff)."""
    engine = make_engine(database_url)
    try:
        with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
            return release(db, ceil_hour(SystemClock().now()), ZONE)
    finally:
        engine.dispose()


def answer_shown(client: Any, world: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The next full hour after a reporter's answer to an offer, when the jobs round shows it
    to staff (cases/rewards/answers.py): the clock moves there, the answer is released, and
    Ana, Dai and Fin log in again (their sessions may have gone idle meanwhile)."""
    clock = world["clock"]
    clock.current = floor_hour(clock.current) + timedelta(hours=1)
    with unit_of_work(world["app_db"]) as db:
        release(db, clock.now(), ZONE)
    return staff_tokens(client, world)


def staff_tokens(client: Any, world: dict[str, Any]) -> dict[str, dict[str, str]]:
    """API logins for Ana, Dai and Fin."""
    return {name: bearer(client, world[name], world["clock"]) for name in ROLES}


def offer(client: Any, world: dict[str, Any], auth: dict[str, dict[str, str]]) -> str:
    case_id = world["case"].id
    proposal = {"recovered_loss": "300000", "exclusions_checked": True}
    made = client.post(f"/api/v1/cases/{case_id}/rewards", headers=auth["ana"], json=proposal)
    assert made.status_code == 201, made.text
    reward_id: str = made.json()["id"]
    decided = client.post(
        f"/api/v1/rewards/{reward_id}/decision", headers=auth["dai"], json={"approve": True}
    )
    assert decided.status_code == 200, decided.text
    return reward_id
