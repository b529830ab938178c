"""GET /api/v1/cases/{id} and the case page show a mask's text to its author only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from support.staff_http import app_world, staff_token
from support.staff_world import SECRET, ZONE, Person

from cases.access.redaction import MASK_MARK, REDACTED_MARK, RedactionService, Span
from cases.audit.models import AuditEntry
from cases.audit.service import AuditLog
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import FixedClock
from cases.db import unit_of_work

NOTE = "The buyer Chen Jie signed the side deal."
HIDDEN = "Chen Jie"


def masked_note(app: Any, app_db: sessionmaker[Any]) -> tuple[FixedClock, str, list[Person]]:
    """Ana and Bo on one case; Ana's note with the buyer's name masked by Ana."""
    with app_world(app, app_db) as world:
        db, clock = world.db, world.clock
        people = [world.staff("ana@example.com"), world.staff("bo@example.com")]
        case = world.file().case
        work = CaseworkService(db, clock, CaseworkConfig(ZONE, SECRET))
        ana = people[0].principal(db, clock)
        note = work.add_note(ana, case.id, NOTE)
        start = NOTE.index(HIDDEN)
        RedactionService(db, clock, AuditLog(db, clock, SECRET)).mask(
            ana, case, work.require_key(ana, case), note.id, Span(start, start + len(HIDDEN))
        )
    return clock, case.id, people


def test_the_case_api_and_page_apply_others_masks(
    app: Any, app_db: sessionmaker[Any], client: Any
) -> None:
    """Bo reads the mark in the JSON and on the page; Ana, who masked it, reads the name."""
    clock, case_id, (ana, bo) = masked_note(app, app_db)
    ana_token, bo_token = staff_token(client, ana, clock), staff_token(client, bo, clock)

    as_ana = client.get(
        f"/api/v1/cases/{case_id}", headers={"Authorization": f"Bearer {ana_token}"}
    )
    as_bo = client.get(f"/api/v1/cases/{case_id}", headers={"Authorization": f"Bearer {bo_token}"})
    bo_page = client.get(f"/staff/cases/{case_id}", headers={"Cookie": f"__Host-staff={bo_token}"})

    assert as_ana.json()["notes"][0]["body"] == NOTE
    assert as_bo.json()["notes"][0]["body"] == NOTE.replace(HIDDEN, MASK_MARK)
    assert bo_page.status_code == 200
    assert HIDDEN not in bo_page.text
    assert MASK_MARK in bo_page.text


def note_id(client: Any, case_id: str, bearer: str) -> str:
    items = client.get(f"/api/v1/cases/{case_id}/items", headers=auth(bearer)).json()["items"]
    return str(items[0]["id"])


def auth(bearer: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {bearer}"}


def test_guessing_masked_words_through_the_text_option_fails(
    app: Any, app_db: sessionmaker[Any], client: Any
) -> None:
    """Bo's "text" guesses are matched against his masked view: the hidden name is never
    found (422 like any miss), visible words are, and every miss is audited."""
    clock, case_id, (_ana, bo) = masked_note(app, app_db)
    bearer = staff_token(client, bo, clock)
    item = note_id(client, case_id, bearer)
    url = f"/api/v1/cases/{case_id}/items/{item}/masks"

    guesses = [client.post(url, headers=auth(bearer), json={"text": g}) for g in ("Chen", "Jie")]
    wrong = client.post(url, headers=auth(bearer), json={"text": "Wang"})
    visible = client.post(url, headers=auth(bearer), json={"text": "side deal"})

    assert [g.status_code for g in guesses] == [422, 422]
    assert wrong.status_code == 422
    assert visible.status_code == 201
    with unit_of_work(app_db) as db:
        misses = db.scalars(
            select(AuditEntry).where(AuditEntry.action == "item.match_failed")
        ).all()
    assert [m.actor_id for m in misses] == [bo.account.id] * 3


def test_redaction_keeps_and_shifts_a_colleagues_mask(
    app: Any, app_db: sessionmaker[Any], client: Any
) -> None:
    """Bo redacts words before Ana's mask: her mask survives, moved, still hiding the name;
    a redaction over her mask is refused."""
    clock, case_id, (ana, bo) = masked_note(app, app_db)
    bearer = staff_token(client, bo, clock)
    item = note_id(client, case_id, bearer)
    url = f"/api/v1/cases/{case_id}/items/{item}/redact"

    over = client.post(url, headers=auth(bearer), json={"start": 10, "end": 14})
    before = client.post(url, headers=auth(bearer), json={"text": "The buyer"})
    as_ana = client.get(f"/api/v1/cases/{case_id}", headers=auth(staff_token(client, ana, clock)))
    as_bo = client.get(f"/api/v1/cases/{case_id}", headers=auth(bearer))

    assert over.status_code == 409
    assert before.status_code == 200
    assert as_ana.json()["notes"][0]["body"] == NOTE.replace("The buyer", REDACTED_MARK)
    assert as_bo.json()["notes"][0]["body"] == (
        NOTE.replace("The buyer", REDACTED_MARK).replace(HIDDEN, MASK_MARK)
    )


def test_items_list_no_colleagues_mask_offsets(
    app: Any, app_db: sessionmaker[Any], client: Any
) -> None:
    """Bo's item list shows Ana's mask as a mark only: no offsets that give its length."""
    clock, case_id, (ana, bo) = masked_note(app, app_db)

    as_bo = client.get(
        f"/api/v1/cases/{case_id}/items", headers=auth(staff_token(client, bo, clock))
    )
    as_ana = client.get(
        f"/api/v1/cases/{case_id}/items", headers=auth(staff_token(client, ana, clock))
    )

    assert as_bo.json()["items"][0]["masks"] == []
    assert [m["mine"] for m in as_ana.json()["items"][0]["masks"]] == [True]
