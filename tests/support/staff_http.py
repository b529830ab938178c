"""Staff over HTTP in functional tests: an app-bound world, API bearer tokens and page logins."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cases.clock import FixedClock
from cases.db import unit_of_work
from portal.start_pages import start_page
from support.staff_world import Person, World, build_world

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@contextmanager
def app_world(app: Any, app_db: sessionmaker[Session]) -> Iterator[World]:
    """A World on the app's database, committed on exit; the app runs on the world's clock."""
    clock = FixedClock()
    app.state.clock = clock
    with unit_of_work(app_db) as db:
        yield build_world(db, clock)


def bearer(client: Any, person: Person, clock: FixedClock) -> dict[str, str]:
    """Log in over the API (password and TOTP): the Authorization header for that session.

    The clock moves 30 seconds on, so the next login's TOTP code is a fresh one.
    """
    body = {"email": person.account.email, "password": person.password, "totp": person.code(clock)}
    answer = client.post("/api/v1/staff/session", json=body)
    assert answer.status_code == 200, answer.text
    clock.advance(seconds=30)
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def reporter_bearer(client: Any, receipt: str) -> dict[str, str]:
    """Log in over the reporter API with a formatted receipt: the Authorization header."""
    answer = client.post("/api/v1/reporter/session", json={"receipt": receipt})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def csrf(client: Any, path: str) -> str:
    """The CSRF token of the form on the page at `path`."""
    match = CSRF.search(client.get(path).text)
    assert match, path
    return match.group(1)


def log_in(client: Any, person: Person, clock: FixedClock) -> None:
    """Log in on the staff pages (password, then TOTP); lands on the person's start page."""
    token = csrf(client, "/staff/login")
    first = client.post(
        "/staff/login",
        data={"csrf": token, "email": person.account.email, "password": person.password},
        follow_redirects=False,
    )
    assert first.headers["location"] == "/staff/login/totp"
    code = client.post(
        "/staff/login/totp",
        data={"csrf": token, "code": person.code(clock)},
        follow_redirects=False,
    )
    assert code.headers["location"] == start_page(person.account.role_names)
