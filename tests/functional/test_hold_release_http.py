"""Ending a legal hold over HTTP takes two independent people; one alone deletes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from support.foureyes import NOW, HeldCase, awaiting_key, deleted, held_case, retention
from support.puppets import made_and_enrolled
from support.staff_http import bearer

import crypto
from cases.clock import FixedClock, epoch
from cases.db import unit_of_work

NEW_PASSWORD = "my very own secret phrase 42"


@pytest.fixture
def held(app: Any, app_db: sessionmaker[Session]) -> HeldCase:
    clock = FixedClock(NOW)
    app.state.clock = clock
    with unit_of_work(app_db) as db:
        return held_case(db, clock)


def jobs_round(app_db: sessionmaker[Session], held: HeldCase) -> tuple[int, bool]:
    """The retention job's round: how many cases it deleted, and whether this one is gone."""
    with unit_of_work(app_db) as db:
        removed = retention(db, held.world.clock).run()
    with unit_of_work(app_db) as db:
        return removed, deleted(db, held.case_id)


def auth(client: Any, held: HeldCase, name: str) -> dict[str, str]:
    clock = held.world.clock
    assert isinstance(clock, FixedClock)
    return bearer(client, getattr(held, name), clock)


def puppet_admin(
    client: Any, held: HeldCase, admin: dict[str, str], email: str = "second@corp.example"
) -> dict[str, str]:
    """A second admin account the admin makes on the web and enrols through its link."""
    body = {"email": email, "name": "Second", "roles": ["admin"]}
    secret = made_and_enrolled(client, admin, body, NEW_PASSWORD)
    clock = held.world.clock
    login = {
        "email": email,
        "password": NEW_PASSWORD,
        "totp": crypto.totp_code(secret, epoch(clock.now())),
    }
    answer = client.post("/api/v1/staff/session", json=login)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def test_one_admin_alone_cannot_get_a_held_case_deleted_over_http(
    client: Any, app_db: sessionmaker[Session], held: HeldCase
) -> None:
    """The admin's release by reference answers 202 (a proposal); the jobs round keeps the case."""
    admin = auth(client, held, "boss")

    answer = client.post(
        "/api/v1/admin/holds/release", headers=admin, json={"reference": held.reference}
    )
    removed, gone = jobs_round(app_db, held)
    listed = client.get("/api/v1/admin/holds", headers=admin).json()["items"]

    assert (removed, gone) == (0, False)
    assert answer.status_code == 202, answer.text
    assert answer.json()["held"] is True
    assert answer.json()["release"]["proposed_by"] == held.boss.account.id
    assert [item["reference"] for item in listed] == [held.reference]
    assert listed[0]["release"] is not None


def test_one_investigator_alone_cannot_get_a_held_case_deleted_over_http(
    client: Any, app_db: sessionmaker[Session], held: HeldCase
) -> None:
    """The case page's JSON release (with no body, as before) is a proposal: the case stays."""
    ana = auth(client, held, "ana")

    answer = client.post(f"/api/v1/cases/{held.case_id}/hold/release", headers=ana)
    removed, gone = jobs_round(app_db, held)

    assert (removed, gone) == (0, False)
    assert answer.status_code == 202, answer.text


def test_the_proposer_their_puppet_and_the_accused_cannot_approve_over_http(
    client: Any, app_db: sessionmaker[Session], held: HeldCase
) -> None:
    """Own approval 403; a second admin account the proposer made 403; the accused 404."""
    admin = auth(client, held, "boss")
    puppet = puppet_admin(client, held, admin)
    accused = auth(client, held, "dan")
    by_reference = {"reference": held.reference}
    client.post("/api/v1/admin/holds/release", headers=admin, json=by_reference)

    own = client.post("/api/v1/admin/holds/release/approve", headers=admin, json=by_reference)
    made = client.post("/api/v1/admin/holds/release/approve", headers=puppet, json=by_reference)
    named = client.post(f"/api/v1/cases/{held.case_id}/hold/release/approve", headers=accused)
    removed, gone = jobs_round(app_db, held)

    assert own.status_code == 403, own.text
    assert made.status_code == 403, made.text
    assert made.json()["error"] == "not_a_second_person"
    assert named.status_code == 404, named.text
    assert (removed, gone) == (0, False)


def test_two_puppet_admins_of_one_admin_cannot_end_a_hold_over_http(
    client: Any, app_db: sessionmaker[Session], held: HeldCase
) -> None:
    """The admin makes two admin accounts; one proposes, the other's approval is 403 (it holds
    no case key) and the jobs round keeps the case."""
    admin = auth(client, held, "boss")
    first = puppet_admin(client, held, admin, "first@corp.example")
    second = puppet_admin(client, held, admin, "second@corp.example")
    by_reference = {"reference": held.reference}

    proposed = client.post("/api/v1/admin/holds/release", headers=first, json=by_reference)
    approved = client.post("/api/v1/admin/holds/release/approve", headers=second, json=by_reference)
    removed, gone = jobs_round(app_db, held)

    assert proposed.status_code == 202, proposed.text
    assert approved.status_code == 403, approved.text
    assert approved.json()["error"] == "not_a_second_person"
    assert (removed, gone) == (0, False)


def test_an_investigator_awaiting_the_key_cannot_approve_over_http(
    client: Any, app_db: sessionmaker[Session], held: HeldCase
) -> None:
    """A fresh investigator with only a pending grant sees the case, but approving is 403."""
    with unit_of_work(app_db) as db:
        eve = awaiting_key(db, held, "eve@corp.example")
    clock = held.world.clock
    assert isinstance(clock, FixedClock)
    admin, fresh = auth(client, held, "boss"), bearer(client, eve, clock)
    client.post("/api/v1/admin/holds/release", headers=admin, json={"reference": held.reference})

    approved = client.post(f"/api/v1/cases/{held.case_id}/hold/release/approve", headers=fresh)
    removed, gone = jobs_round(app_db, held)

    assert approved.status_code == 403, approved.text
    assert approved.json()["error"] == "not_a_second_person"
    assert (removed, gone) == (0, False)


def test_two_people_end_the_hold_over_http_and_the_jobs_round_then_deletes(
    client: Any, app_db: sessionmaker[Session], held: HeldCase
) -> None:
    """An admin proposes, an investigator on the case approves (200, not held): then deleted."""
    admin, ana = auth(client, held, "boss"), auth(client, held, "ana")
    client.post(
        "/api/v1/admin/holds/release",
        headers=admin,
        json={"reference": held.reference, "reason": "Court case closed"},
    )

    approved = client.post(f"/api/v1/cases/{held.case_id}/hold/release/approve", headers=ana)
    removed, gone = jobs_round(app_db, held)

    assert approved.status_code == 200, approved.text
    assert approved.json()["held"] is False
    assert (removed, gone) == (1, True)


def test_an_expired_proposal_does_nothing_over_http(
    client: Any, app_db: sessionmaker[Session], held: HeldCase
) -> None:
    """A week unapproved, the proposal is gone: a late approval is 409 and the case stays."""
    ana = auth(client, held, "ana")
    client.post(f"/api/v1/cases/{held.case_id}/hold/release", headers=ana, json={"reason": "x"})
    clock = held.world.clock
    assert isinstance(clock, FixedClock)
    clock.advance(days=7)
    bob = auth(client, held, "bob")

    late = client.post(f"/api/v1/cases/{held.case_id}/hold/release/approve", headers=bob)
    refused = client.post(f"/api/v1/cases/{held.case_id}/hold/release/refuse", headers=bob)
    removed, gone = jobs_round(app_db, held)

    assert late.status_code == 409, late.text
    assert refused.status_code == 409, refused.text
    assert (removed, gone) == (0, False)
