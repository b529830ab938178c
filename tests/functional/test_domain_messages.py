"""A message the domain raises reaches the caller in their language, values filled in."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import sessionmaker
from support.staff_world import build_world

from cases.clock import FixedClock
from cases.db import unit_of_work

PASSWORD = "correct horse battery staple 7"


@pytest.fixture
def scene(app: Any, app_db: sessionmaker[Any], client: Any) -> dict[str, Any]:
    clock = FixedClock()
    app.state.clock = clock
    with unit_of_work(app_db) as db:
        made = build_world(db, clock)
        ana = made.staff("ana@example.com", "investigator")
        case_id = made.file().case.id
        login = {"email": "ana@example.com", "password": PASSWORD, "totp": ana.code(clock)}
    token = client.post("/api/v1/staff/session", json=login).json()["token"]
    return {"case": case_id, "auth": {"Authorization": f"Bearer {token}"}}


def test_a_refused_transition_is_told_in_chinese_with_its_statuses(
    client: Any, scene: dict[str, Any]
) -> None:
    """cases/workflow raises Message("A case cannot move from %(current)s…"): zh-CN reads it."""
    move = {"status": "closed", "reason": "Done"}
    path = f"/api/v1/cases/{scene['case']}/transition"

    english = client.post(path, json=move, headers={**scene["auth"], "Accept-Language": "en"})
    chinese = client.post(
        path, json=move, headers={**scene["auth"], "Accept-Language": "zh-TW, en;q=0.5"}
    )

    assert english.status_code == chinese.status_code == 409
    assert english.json()["message"] == "A case cannot move from new to closed."
    assert chinese.json()["message"] == "案件不能从 new 转为 closed。"
    assert english.json()["error"] == chinese.json()["error"] == "transition_not_allowed"


def test_an_empty_message_is_refused_in_chinese(client: Any, scene: dict[str, Any]) -> None:
    """Invalid("Write something first.") raised in cases/casework is translated over HTTP."""
    headers = {**scene["auth"], "Accept-Language": "zh-CN"}

    answer = client.post(
        f"/api/v1/cases/{scene['case']}/messages", json={"body": " "}, headers=headers
    )

    assert answer.status_code == 422
    assert answer.json()["message"] == "请先写点内容。"
