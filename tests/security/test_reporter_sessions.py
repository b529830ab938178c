"""Attacks on the reporter's session: ending it, or another's, without holding its token."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from support.reporter_http import login, report_body, seed
from support.staff_http import app_world, bearer

from cases.db import unit_of_work
from cases.sessions.models import UserSession


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
