"""Red team: an admin colluding with the accused decides his own directory claim through a
puppet (docs/access.md, "An admin's directory change is a claim").

The admin makes an investigator account on the web (he holds its enrolment link, so he is the
one who enrols it), an honest key holder approves it for keys in good faith, and it holds case
keys. The admin links inv1 and inv2 to the accused S1 and back; the claims keep both away at
once. The puppet is "a key holder whom the change does not concern, never the admin who made
it": on the code before it listed both claims and confirmed them, and the links entered the
directory's history for good, so the team lost the case about S1 for ever. Now an account
related to the claim's maker (made, reset, given a role, approved by it or the other way
round: cases/retention/release.py) may refuse the admin's claims (a refusal only gives cases
back, and an admin who made every account must not leave the team's cases taken) but never
confirms one."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from support.puppets import puppet_of
from support.staff_http import bearer

from cases.db import unit_of_work
from cases.staff.models import DirectoryLink
from tests.functional.test_directory_claims_http import Scene

pytestmark = pytest.mark.db


def test_the_admins_puppet_cannot_confirm_his_claims(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    scene = Scene(client, app, app_db)
    admin = bearer(client, scene.admin, scene.clock)
    puppet = puppet_of(
        client,
        admin,
        scene.headers["3"],
        scene.clock,
        then=lambda: bearer(client, scene.inv["1"], scene.clock),
    )
    scene.link_then_back()
    listed = client.get("/api/v1/staff/directory-claims", headers=puppet)
    honest = client.get("/api/v1/staff/directory-claims", headers=scene.headers["3"]).json()
    confirmed = [
        client.post(f"/api/v1/staff/directory-claims/{claim['id']}/confirm", headers=puppet)
        for claim in honest
    ]
    with unit_of_work(app_db) as db:
        links = set(db.execute(select(DirectoryLink.employee_id)).scalars())

    assert len(honest) == 2
    assert [r.status_code for r in confirmed] == [403, 403]
    assert "S1" not in links
    assert {r.json()["error"] for r in confirmed} == {"related_to_maker"}
    assert listed.status_code == 200, listed.text
    assert [c.get("may_confirm") for c in listed.json()] == [False, False]
    assert [c["may_confirm"] for c in honest] == [True, True]
