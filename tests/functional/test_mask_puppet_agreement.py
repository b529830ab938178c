"""Red team: the investigator who masks the reporter's words has them hidden again, after a
colleague unmasked them, through a puppet's agreement (docs/access.md, "A mask on a reporter's
words").

Lei (the accused's friend) masks the reporter's message; Bo lifts the mask; Lei masks the words
again, which hides nothing until a second reader agrees. A new investigator account the admin
made and Lei approved for keys (Lei vouched for it: cases/retention/release.py, `related`)
agrees. On the code before the agreement was taken (only the mask's own author was refused)
and Bo read "▒▒▒" again. Now an account related to the mask's author cannot agree, as it
cannot be an unfounded ending's second reader."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import sessionmaker
from support.puppets import puppet_of
from support.staff_http import app_world, bearer

from tests.functional.test_reporter_word_masks import (
    WORDS,
    conversation,
    mask_all,
    reporter_item,
)

pytestmark = pytest.mark.db


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    """Two investigators of the channel, Lei (the accused's friend) and Bo, and an admin."""
    with app_world(app, app_db) as made:
        lei = made.staff("lei@corp.example", "investigator", name="Lei")
        bo = made.staff("bo@corp.example", "investigator", name="Bo")
        boss = made.staff("boss@corp.example", "admin", name="Boss")
        category = made.category("order-diversion")
        ids = {"channel": made.channel.id, "category": category.id}
    return {
        "app": app,
        "db": app_db,
        "clock": made.clock,
        "lei": lei,
        "bo": bo,
        "boss": boss,
        "ids": ids,
    }


def test_a_puppet_of_the_masker_cannot_agree_to_hide_the_words_again(
    client: Any, world: dict[str, Any]
) -> None:
    clock = world["clock"]
    case_id = conversation(client, world)
    lei, bo = bearer(client, world["lei"], clock), bearer(client, world["bo"], clock)
    admin = bearer(client, world["boss"], clock)
    puppet = puppet_of(client, admin, lei, clock, then=lambda: bearer(client, world["bo"], clock))
    assert client.get(f"/api/v1/cases/{case_id}", headers=puppet).status_code == 200
    item_id = reporter_item(client, case_id, lei)["id"]
    first = mask_all(client, case_id, item_id, lei).json()["id"]
    lifted = client.post(f"/api/v1/cases/{case_id}/masks/{first}/remove", headers=bo, json={})
    again = mask_all(client, case_id, item_id, lei).json()["id"]

    agreed = client.post(f"/api/v1/cases/{case_id}/masks/{again}/agree", headers=puppet, json={})
    seen_by_bo = reporter_item(client, case_id, bo)["body"]

    assert lifted.status_code == 200, lifted.text
    assert agreed.status_code == 403, agreed.text
    assert agreed.json()["error"] == "related_to_masker"
    assert seen_by_bo == WORDS
