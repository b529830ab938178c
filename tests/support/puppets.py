"""An admin's puppet: an investigator account the admin makes on the web (so holds its
enrolment link and can enrol it), which an honest key holder approves for keys in good faith.
It is related to the admin (cases/retention/release.py, `related`), and holds case keys."""

from __future__ import annotations

import base64
from typing import Any

import crypto
from cases.clock import FixedClock, epoch

PUPPET_PASSWORD = "my very own secret phrase 42"


def made_and_enrolled(
    client: Any, admin: dict[str, str], body: dict[str, Any], password: str = PUPPET_PASSWORD
) -> bytes:
    """An account the admin makes on the web and enrols through its link; its TOTP secret."""
    made = client.post("/api/v1/admin/accounts", headers=admin, json=body)
    assert made.status_code == 201, made.text
    token = made.json()["enrolment_url"].rsplit("/", 1)[-1]
    enrolled = client.post("/api/v1/staff/enrolment", json={"token": token, "password": password})
    assert enrolled.status_code == 201, enrolled.text
    raw = enrolled.json()["totp_secret"]
    return base64.b32decode(raw + "=" * (-len(raw) % 8))


def puppet_of(
    client: Any,
    admin: dict[str, str],
    approver: dict[str, str],
    clock: FixedClock,
    email: str = "helper@corp.example",
    then: Any = None,
) -> dict[str, str]:
    """Make, enrol and (by `approver`, in good faith) approve an investigator; its session.
    `then`, when given, runs after the approval (a colleague's login fulfilling grants)."""
    body = {"email": email, "name": "Helper", "roles": ["investigator"]}
    secret = made_and_enrolled(client, admin, body)
    waiting = client.get("/api/v1/staff/approvals", headers=approver).json()
    mine = [w for w in waiting if w.get("email", email) == email] or waiting
    approved = client.post(f"/api/v1/staff/approvals/{mine[0]['id']}/approve", headers=approver)
    assert approved.status_code == 200, approved.text
    if then is not None:
        then()
    login = {
        "email": email,
        "password": PUPPET_PASSWORD,
        "totp": crypto.totp_code(secret, epoch(clock.now())),
    }
    answer = client.post("/api/v1/staff/session", json=login)
    assert answer.status_code == 200, answer.text
    clock.advance(seconds=30)
    return {"Authorization": f"Bearer {answer.json()['token']}"}


__all__ = ["PUPPET_PASSWORD", "made_and_enrolled", "puppet_of"]
