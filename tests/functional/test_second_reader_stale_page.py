"""Red team: a second reader's agreement sent from a stale case page (cases/workflow/
second_reader.py).

Ana concludes the report about her friend "not actionable"; Bob opens the case page and reads
her ending. Before he presses "Agree", Ana reopens the case (the reporter's new evidence has
come in) and concludes it "not actionable" again, alone. On the code before, Bob's press agreed
to an ending his page never showed: the flag went and the case's retention months began. Now
the page's form names the ending it showed, and an agreement to one that is gone is refused
(409 ending_changed); the case stays awaiting a second reader. The API does the same when the
body names the ending (getCase's second_reading.ending)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from support.staff_http import bearer, log_in

from cases.db import unit_of_work
from cases.reports.models import Case
from tests.functional.test_second_reader import Team, move, team

pytestmark = pytest.mark.db
__all__ = ["team"]

ENDING = re.compile(r'name="ending" value="([^"]*)"')


def test_an_agreement_from_a_stale_page_does_not_agree_to_a_later_ending(
    client: Any, app_db: sessionmaker[Session], team: Team
) -> None:
    case_id, clock = team.case_id, team.clock
    ana = bearer(client, team.ana, clock)
    move(client, ana, case_id, "acknowledged")
    move(client, ana, case_id, "concluded", outcome="not_actionable")
    token = log_in(client, team.bob, clock)
    page = client.get(f"/staff/cases/{case_id}").text
    shown = ENDING.search(page)
    bob_api = bearer(client, team.bob, clock)
    seen_by_api = client.get(f"/api/v1/cases/{case_id}", headers=bob_api).json()

    clock.advance(minutes=10)
    assert move(client, ana, case_id, "investigating").status_code == 200
    assert move(client, ana, case_id, "concluded", outcome="not_actionable").status_code == 200
    stale = client.post(
        f"/staff/cases/{case_id}/second-reading",
        data={"csrf": token, "ending": shown.group(1) if shown else ""},
        follow_redirects=False,
    )
    stale_api = client.post(
        f"/api/v1/cases/{case_id}/second-reading",
        headers=bob_api,
        json={"ending": seen_by_api["second_reading"].get("ending", "")},
    )
    with unit_of_work(app_db) as db:
        case = db.get(Case, case_id)
        assert case is not None
        waiting = case.unconfirmed_by
    fresh = client.get(f"/api/v1/cases/{case_id}", headers=bob_api).json()["second_reading"]
    agreed = client.post(
        f"/api/v1/cases/{case_id}/second-reading",
        headers=bob_api,
        json={"ending": (fresh or {}).get("ending", "")},
    )

    assert stale.status_code == 409, stale.text
    assert waiting == team.ana.account.id
    assert stale_api.status_code == 409, stale_api.text
    assert stale_api.json()["error"] == "ending_changed"
    assert shown is not None
    assert agreed.status_code == 200, agreed.text
