"""Every page without a path parameter renders for every role: no template error reaches anyone."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import Route
from support.staff_http import app_world

from cases.sessions.service import SessionPolicy, SessionService
from portal.auth import STAFF_COOKIE

ROLES = (
    "admin",
    "investigator",
    "custodian",
    "reward_approver",
    "finance",
    "auditor",
    "retaliation_officer",
)


def _pages(app: Any) -> list[str]:
    return sorted(
        route.path
        for route in app.routes
        if isinstance(route, Route)
        and "GET" in (route.methods or ())
        and "{" not in route.path
        and not route.path.startswith("/api/")
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_page_renders_for_every_role(
    client: Any, app: Any, app_db: sessionmaker[Session], role: str
) -> None:
    """Each GET page answers without a server error for a logged-in person of this role."""
    with app_world(app, app_db) as world:
        db, clock = world.db, world.clock
        world.staff("colleague@corp.example", "investigator")
        world.file()
        person = world.staff(f"{role}@corp.example", role)
        key = person.principal(db, clock).private_key
        token = SessionService(db, clock).open(
            "staff", key, SessionPolicy(3600, 3600), staff_id=person.account.id
        )
    client.cookies.set(STAFF_COOKIE, token)

    answers = {path: client.get(path, follow_redirects=False).status_code for path in _pages(app)}

    assert len(answers) > 15
    assert {path: code for path, code in answers.items() if code >= 500} == {}
    assert {p: c for p, c in answers.items() if c not in {200, 303, 403, 404, 405}} == {}
