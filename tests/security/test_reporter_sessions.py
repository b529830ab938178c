"""Attacks on the reporter's session: ending it, or another's, without holding its token."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from support.reporter_http import login, report_body, seed
from support.staff_http import app_world, bearer

import crypto
from cases.db import unit_of_work
from cases.reports.models import Receipt
from cases.sessions.models import UserSession
from crypto._receipt import check_character


def test_a_session_hash_read_from_the_database_ends_no_session(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """Someone who read `user_sessions.id_hash` (a database reader, a backup) cannot log the
    reporter, or a staff member, out by sending that hash as the token to the reporter's logout."""
    ids = seed(app_db)
    filed = client.post("/api/v1/reports", json=report_body(ids))
    assert filed.status_code == 201, filed.text
    me = login(client, filed.json()["receipt"])
    with app_world(app, app_db) as world:
        clock, ana = world.clock, world.staff("ana@example.com")
    staff = bearer(client, ana, clock)
    with unit_of_work(app_db) as db:
        hashes = list(db.scalars(select(UserSession.id_hash)))
    assert len(hashes) == 2

    ended = [
        client.delete("/api/v1/reporter/session", headers={"Authorization": f"Bearer {h}"})
        for h in hashes
    ]

    assert {answer.status_code for answer in ended} == {204}
    assert client.get("/api/v1/reporter/report", headers=me).status_code == 200
    assert client.get("/api/v1/cases", headers=staff).status_code == 200
    with unit_of_work(app_db) as db:
        assert sorted(db.scalars(select(UserSession.id_hash))) == sorted(hashes)


def test_a_database_reader_cannot_lock_the_reporter_out_with_the_stored_selector(
    client: Any, app_db: sessionmaker[Session]
) -> None:
    """DESIGN.md "Availability": a correct receipt is never refused because of other people's
    wrong guesses, also when the guesser read the receipt's selector from the database."""
    ids = seed(app_db)
    filed = client.post("/api/v1/reports", json=report_body(ids))
    receipt = filed.json()["receipt"]
    with unit_of_work(app_db) as db:
        selector = db.scalars(select(Receipt.selector)).one()
    guesses = [wrong_guess(selector, n) for n in range(8)]

    tried = [client.post("/api/v1/reporter/session", json={"receipt": g}) for g in guesses]
    mine = client.post("/api/v1/reporter/session", json={"receipt": receipt})

    assert {answer.status_code for answer in tried} <= {401, 429}
    assert mine.status_code == 200, mine.text


def test_a_receipt_filed_before_the_tag_gets_it_at_its_next_correct_entry(
    client: Any, app_db: sessionmaker[Session]
) -> None:
    """A receipt stored without a tag (filed before migration 0016) is refused while throttled
    as before, and gets its tag at its next correct entry, after which guesses lock it no more."""
    ids = seed(app_db)
    receipt = client.post("/api/v1/reports", json=report_body(ids)).json()["receipt"]
    with unit_of_work(app_db) as db:
        db.execute(update(Receipt).values(quick_tag=None))
        selector = db.scalars(select(Receipt.selector)).one()

    entered = client.post("/api/v1/reporter/session", json={"receipt": receipt})
    for n in range(8):
        client.post("/api/v1/reporter/session", json={"receipt": wrong_guess(selector, n)})
    again = client.post("/api/v1/reporter/session", json={"receipt": receipt})

    assert entered.status_code == 200
    assert again.status_code == 200, again.text
    with unit_of_work(app_db) as db:
        assert db.scalars(select(Receipt.quick_tag)).one() is not None


def wrong_guess(selector: str, n: int) -> str:
    """A well-formed receipt with this selector and a made-up verifier."""
    payload = selector + f"{n:016d}"
    return crypto.parse_receipt(payload + check_character(payload)).formatted()
