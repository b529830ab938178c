"""Staff over HTTP in functional tests: an app-bound world, API bearer tokens and page logins."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cases.clock import FixedClock
from cases.db import unit_of_work
from support.staff_world import Person, World, build_world

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@contextmanager
def app_world(app: Any, app_db: sessionmaker[Session]) -> Iterator[World]:
    """A World on the app's database, committed on exit; the app runs on the world's clock."""
    clock = FixedClock()
    app.state.clock = clock
    with unit_of_work(app_db) as db:
        yield build_world(db, clock)


def staff_token(client: Any, person: Person, clock: FixedClock) -> str:
    """Log in over the API (password and TOTP): the session token.

    The clock moves 30 seconds on, so the next login's TOTP code is a fresh one.
    """
    body = {"email": person.account.email, "password": person.password, "totp": person.code(clock)}
    answer = client.post("/api/v1/staff/session", json=body)
    assert answer.status_code == 200, answer.text
    clock.advance(seconds=30)
    token: str = answer.json()["token"]
    return token


def bearer(client: Any, person: Person, clock: FixedClock) -> dict[str, str]:
    """Log in over the API: the Authorization header for that session."""
    return {"Authorization": f"Bearer {staff_token(client, person, clock)}"}


def csrf(client: Any, path: str) -> str:
    """The CSRF token of the form on the page at `path`."""
    match = CSRF.search(client.get(path).text)
    assert match, path
    return match.group(1)


def landing(client: Any, person: Person, clock: FixedClock) -> tuple[str, str]:
    """Log in on the staff pages (password, then TOTP): the CSRF token and where the code
    step sends the browser. The clock moves 30 seconds on, as in `staff_token`."""
    token = csrf(client, "/staff/login")
    first = client.post(
        "/staff/login",
        data={"csrf": token, "email": person.account.email, "password": person.password},
        follow_redirects=False,
    )
    assert first.headers["location"] == "/staff/login/totp", first.text
    code = client.post(
        "/staff/login/totp",
        data={"csrf": token, "code": person.code(clock)},
        follow_redirects=False,
    )
    assert code.status_code == 303, code.text
    clock.advance(seconds=30)
    return token, str(code.headers["location"])


def log_in(client: Any, person: Person, clock: FixedClock) -> str:
    """Log in on the staff pages: the CSRF token the session's forms carry."""
    return landing(client, person, clock)[0]
