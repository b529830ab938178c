"""Thin routes over HTTP: one answer to an ended session, one unit of work per form post,
and a custodian queue whose cost does not grow with its length."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import sessionmaker
from support.staff_world import Person, build_world

from cases.clock import FixedClock
from cases.db import unit_of_work
from cases.reports.intake import IdentityInput

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
# Past the idle timeout of either kind of session (tests use the default limits).
ENDED = 3 * 3600


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    clock = FixedClock()
    app.state.clock = clock
    with unit_of_work(app_db) as db:
        made = build_world(db, clock)
        people = {
            name: made.staff(f"{name}@example.com", "investigator") for name in ("ana", "bo", "di")
        }
        people["cus"] = made.staff("cus@example.com", "custodian")
        filed = made.file(identity=IdentityInput(name="Li Hua", contact="li@example.com"))
    return {"clock": clock, "case": filed.case, "receipt": filed.receipt.formatted(), **people}


def csrf(client: Any, path: str) -> str:
    match = CSRF.search(client.get(path).text)
    assert match, path
    return match.group(1)


def staff_login(client: Any, person: Person, clock: FixedClock) -> str:
    """Logs in on the web (password, then code); the CSRF token of the login form."""
    token = csrf(client, "/staff/login")
    data = {"csrf": token, "email": person.account.email, "password": person.password}
    client.post("/staff/login", data=data, follow_redirects=False)
    data = {"csrf": token, "code": person.code(clock)}
    code = client.post("/staff/login/totp", data=data, follow_redirects=False)
    assert code.status_code == 303, code.text
    clock.advance(seconds=30)
    return token


def reporter_login(client: Any, receipt: str) -> str:
    token = csrf(client, "/report")
    login = client.post("/status", data={"csrf": token, "receipt": receipt}, follow_redirects=False)
    assert login.status_code == 303, login.text
    return token


def bearer(client: Any, person: Person, clock: FixedClock) -> dict[str, str]:
    body = {"email": person.account.email, "password": person.password, "totp": person.code(clock)}
    answer = client.post("/api/v1/staff/session", json=body)
    assert answer.status_code == 200, answer.text
    clock.advance(seconds=30)
    return {"Authorization": f"Bearer {answer.json()['token']}"}


@contextmanager
def counting(engine: Any, name: str) -> Iterator[list[int]]:
    """Counts an engine event (``checkout``: a connection handed to a session; or
    ``before_cursor_execute``: a statement) while the block runs."""
    seen = [0]

    def count(*_: Any) -> None:
        seen[0] += 1

    event.listen(engine, name, count)
    try:
        yield seen
    finally:
        event.remove(engine, name, count)


# --- one handler for Unauthorized ----------------------------------------------------------


@pytest.mark.parametrize(
    "page", ["/staff/cases", "/staff/disclosures", "/staff/approvals", "/admin", "/staff/rewards"]
)
def test_a_staff_page_after_the_session_ended_goes_to_the_staff_login(
    client: Any, world: dict[str, Any], page: str
) -> None:
    """A staff page whose session has ended answers 303 to the staff login, whatever its area."""
    staff_login(client, world["ana"], world["clock"])
    world["clock"].advance(seconds=ENDED)

    answer = client.get(page, follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/staff/login"


def test_a_reporter_form_after_the_session_ended_goes_back_to_the_receipt_form(
    client: Any, world: dict[str, Any]
) -> None:
    """A reporter's reply sent after their session ended: a redirect that drops the stale
    cookie, to the receipt form (401) with the words shown back, once; /status then asks for
    the receipt."""
    token = reporter_login(client, world["receipt"])
    world["clock"].advance(seconds=ENDED)

    sent = client.post(
        "/status/reply", data={"csrf": token, "body": "Still there?"}, follow_redirects=False
    )
    answer = client.get(sent.headers["location"])
    after = client.get("/status")

    assert sent.status_code == 303
    assert "__Host-reporter=" in sent.headers["set-cookie"]
    assert "Max-Age=0" in sent.headers["set-cookie"]
    assert answer.status_code == 401
    assert answer.template.name == "reporter/login.html"
    assert "Still there?" in answer.text
    assert after.template.name == "reporter/login.html"
    assert "Still there?" not in after.text


def test_the_api_answers_an_ended_session_with_401_json(client: Any, world: dict[str, Any]) -> None:
    """The same ended sessions on the API: 401 with the JSON error body, never a redirect."""
    headers = bearer(client, world["ana"], world["clock"])
    world["clock"].advance(seconds=ENDED)

    staff = client.get("/api/v1/cases", headers=headers, follow_redirects=False)
    reporter = client.get(
        "/api/v1/reporter/report", headers={"Authorization": "Bearer x.y"}, follow_redirects=False
    )

    assert staff.status_code == 401
    assert staff.json()["error"] == "login_required"
    assert reporter.status_code == 401
    assert reporter.json()["error"] == "no_session"


# --- one unit of work per form post --------------------------------------------------------


def test_a_refused_reporter_form_opens_one_database_session(
    app: Any, client: Any, world: dict[str, Any]
) -> None:
    """An empty reply is refused in one session, which also hands its words back for the
    status page the redirect leads to (shown with the 422)."""
    token = reporter_login(client, world["receipt"])

    with counting(app.state.engine, "checkout") as sessions:
        sent = client.post(
            "/status/reply", data={"csrf": token, "body": ""}, follow_redirects=False
        )
    answer = client.get(sent.headers["location"])

    assert sent.status_code == 303
    assert sessions[0] == 1
    assert answer.status_code == 422
    assert answer.template.name == "reporter/status.html"


def test_a_refused_staff_form_opens_one_session_after_the_gate(
    app: Any, client: Any, world: dict[str, Any]
) -> None:
    """A transition without a reason: the staff gate's check before the body, then one unit of
    work that refuses and renders the case page again."""
    token = staff_login(client, world["ana"], world["clock"])
    path = f"/staff/cases/{world['case'].id}"

    with counting(app.state.engine, "checkout") as sessions:
        answer = client.post(
            f"{path}/transition", data={"csrf": token, "status": "acknowledged", "reason": ""}
        )

    assert answer.status_code == 422
    assert answer.template.name == "staff/case.html"
    assert sessions[0] == 2


# --- the custodians' queue -----------------------------------------------------------------


def queue_statements(
    app: Any, client: Any, ask: Callable[[str], None], askers: list[str]
) -> tuple[int, int]:
    for name in askers:
        ask(name)
    with counting(app.state.engine, "before_cursor_execute") as statements:
        answer = client.get("/staff/disclosures")
    assert answer.status_code == 200
    return len(answer.context["requests"]), statements[0]


def test_the_custodian_queue_does_not_grow_per_request(
    app: Any, client: Any, world: dict[str, Any]
) -> None:
    """Three pending requests cost the queue page no more statements than one."""
    clock, case_id = world["clock"], world["case"].id

    def ask(name: str) -> None:
        headers = bearer(client, world[name], clock)
        answer = client.post(
            f"/api/v1/cases/{case_id}/disclosures", headers=headers, json={"reason": "Protect"}
        )
        assert answer.status_code == 201, answer.text

    ask("ana")
    staff_login(client, world["cus"], clock)

    one = queue_statements(app, client, ask, [])
    three = queue_statements(app, client, ask, ["bo", "di"])

    assert (one[0], three[0]) == (1, 3)
    assert three[1] == one[1]
