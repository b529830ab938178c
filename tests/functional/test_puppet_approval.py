"""An account approved by someone a case keeps away is kept away from that case too."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from support.staff_http import app_world
from support.staff_world import Person, build_world

import crypto
from cases.clock import FixedClock, epoch
from cases.db import unit_of_work
from cases.reports.intake import SubjectInput

NEW_PASSWORD = "my very own secret phrase 42"


def _bearer(client: Any, email: str, password: str, secret: bytes, clock: FixedClock) -> Any:
    code = crypto.totp_code(secret, epoch(clock.now()))
    body = {"email": email, "password": password, "totp": code}
    answer = client.post("/api/v1/staff/session", json=body)
    assert answer.status_code == 200, answer.text
    clock.advance(seconds=30)
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def _auth(client: Any, person: Person, clock: FixedClock) -> Any:
    assert person.totp_secret is not None
    return _bearer(client, person.account.email, person.password, person.totp_secret, clock)


def test_the_accused_cannot_approve_a_puppet_into_the_case_about_him(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """A colluding admin makes an account, the accused director (a key holder of the team)
    enrols it himself and approves it: neither the case about him filed before nor one filed
    after reaches the puppet, though the team's other cases do."""
    with app_world(app, app_db) as world:
        boss = world.staff("boss@example.com", "admin")
        ana = world.staff("ana@example.com", "investigator")
        dan = world.staff("dan@example.com", "investigator")
        other = world.file("Unrelated").case.id
        before = world.file(subjects=[SubjectInput(name="D", email="dan@example.com")]).case.id
        clock = world.clock
    admin = _auth(client, boss, clock)
    made = client.post(
        "/api/v1/admin/accounts",
        headers=admin,
        json={"email": "helper@example.com", "name": "Helper", "roles": ["investigator"]},
    )
    assert made.status_code == 201, made.text
    token = made.json()["enrolment_url"].rsplit("/", 1)[-1]
    enrolled = client.post(
        "/api/v1/staff/enrolment", json={"token": token, "password": NEW_PASSWORD}
    )
    assert enrolled.status_code == 201, enrolled.text
    raw = enrolled.json()["totp_secret"]
    secret = base64.b32decode(raw + "=" * (-len(raw) % 8))
    accused = _auth(client, dan, clock)
    waiting = client.get("/api/v1/staff/approvals", headers=accused).json()
    approved = client.post(f"/api/v1/staff/approvals/{waiting[0]['id']}/approve", headers=accused)
    _auth(client, ana, clock)  # a colleague's login fulfils the grants still pending
    with unit_of_work(app_db) as db:
        after = (
            build_world(db, clock)
            .file(subjects=[SubjectInput(name="D", email="dan@example.com")])
            .case.id
        )
    puppet = _bearer(client, "helper@example.com", NEW_PASSWORD, secret, clock)

    seen = {
        c: client.get(f"/api/v1/cases/{c}", headers=puppet).status_code
        for c in (other, before, after)
    }
    listed = client.get("/api/v1/cases", headers=puppet).json()
    assert approved.status_code == 200, approved.text
    assert [item["id"] for item in listed["items"]] == [other]
    assert listed["total"] == 1
    assert seen == {other: 200, before: 404, after: 404}
