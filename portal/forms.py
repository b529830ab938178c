"""The one shape of an HTML form post: parse, call the domain in one unit of work, answer.

`submit` opens the request's only database session, finds the caller, runs the domain's work
inside a savepoint and, when the domain refuses, undoes that work and renders the form again
from the same session: a refused form costs no second session. On success `done` answers
(usually a redirect; a page it renders reads the same session) and the unit of work commits.
A missing session (`Unauthorized`) is never a form error: it reaches the app's one handler
(portal/signin.py), which sends the browser to its login page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from cases.db import unit_of_work
from cases.errors import CaseError, Unauthorized

Caller = TypeVar("Caller")
Outcome = TypeVar("Outcome")
Refusal = TypeVar("Refusal", bound=CaseError)


def submit(
    request: Request,
    caller: Callable[[Request, Session], Caller],
    act: Callable[[Session, Caller], Outcome],
    done: Callable[[Session, Caller, Outcome], Response],
    again: Callable[[Session, Caller, Refusal], Response],
    refused: tuple[type[Refusal], ...],
) -> Response:
    """`act` in one unit of work; a refusal of the `refused` kinds renders `again` instead."""
    with unit_of_work(request.app.state.db) as db:
        who = caller(request, db)
        try:
            with db.begin_nested():
                outcome = act(db, who)
        except refused as problem:
            if isinstance(problem, Unauthorized):
                raise
            return again(db, who, problem)
        if isinstance(outcome, refused):
            # Handed back rather than raised: what the work recorded (an audited failed
            # match) is kept, and the form comes back all the same.
            return again(db, who, outcome)
        return done(db, who, outcome)
