"""Every (from, to) pair of statuses through POST /api/v1/cases/{id}/transition.

The table is CONTRACT.md's, written out here on its own: nothing is imported from
cases.workflow, so a change to the production table that the contract does not make fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from support.staff_http import app_world, bearer

from cases.db import unit_of_work
from cases.reports.models import Case

STATUSES = ("new", "acknowledged", "investigating", "concluded", "closed")
# CONTRACT.md, "POST /api/v1/cases/{id}/transition": from → the only statuses allowed next.
CONTRACT_TABLE: dict[str, frozenset[str]] = {
    "new": frozenset({"acknowledged"}),
    "acknowledged": frozenset({"investigating", "concluded"}),
    "investigating": frozenset({"concluded"}),
    "concluded": frozenset({"closed", "investigating"}),
    "closed": frozenset({"investigating"}),
}
# Every move carries a reason and an outcome, so only the table decides (never a 422).
BODY = {"reason": "Because the table says so", "outcome": "substantiated"}


def put_at(app_db: sessionmaker[Session], case_id: str, status: str) -> None:
    """Put a filed case straight into `status` (with an outcome where the status has one)."""
    with unit_of_work(app_db) as db:
        case = db.get(Case, case_id)
        assert case is not None
        case.status = status
        if status in {"concluded", "closed"}:
            case.outcome, case.concluded_on = "substantiated", case.submitted_on


def status_of(app_db: sessionmaker[Session], case_id: str) -> str:
    with unit_of_work(app_db) as db:
        case = db.get(Case, case_id)
        assert case is not None
        return str(case.status)


@pytest.mark.parametrize("current", STATUSES)
def test_every_move_from_a_status_follows_the_contract(
    client: Any, app: Any, app_db: sessionmaker[Session], current: str
) -> None:
    """From `current`, each contract target answers 200 and lands; every other target is 409."""
    allowed = sorted(CONTRACT_TABLE[current])
    with app_world(app, app_db) as world:
        ana = world.staff("ana@example.com")
        cases = {target: world.file().case.id for target in [*allowed, "refused"]}
    for case_id in cases.values():
        put_at(app_db, case_id, current)
    auth = bearer(client, ana, world.clock)

    def move(case_id: str, target: str) -> int:
        path = f"/api/v1/cases/{case_id}/transition"
        answer = client.post(path, headers=auth, json={"status": target, **BODY})
        return int(answer.status_code)

    refused = {t: move(cases["refused"], t) for t in STATUSES if t not in CONTRACT_TABLE[current]}
    moved = {t: move(cases[t], t) for t in allowed}

    assert refused == dict.fromkeys(refused, 409)
    assert status_of(app_db, cases["refused"]) == current
    assert moved == dict.fromkeys(allowed, 200)
    assert {t: status_of(app_db, cases[t]) for t in allowed} == {t: t for t in allowed}
