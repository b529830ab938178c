"""A small organisation for case-list tests: a management chain and cases naming its people."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

import crypto
from cases.clock import FixedClock
from cases.reports.intake import SubjectInput
from cases.reports.models import Case
from cases.staff.directory import DirectoryService, Row
from support.staff_world import SECRET, Person, World, build_world

CHAIN = (
    Row("E1", "Boss", "boss@corp.example", "Sales", ""),
    Row("E4", "Rep", "rep@corp.example", "Sales", "E1"),
    Row("E9", "Viewer Person", "viewer@corp.example", "Audit", ""),
    Row("E8", "Other Person", "other@corp.example", "Audit", ""),
)


@dataclass
class Related:
    """Cases about the rep E4 (one hidden from the viewer) and about the boss E1."""

    world: World
    viewer: str
    origin: Case  # names E4 exactly
    visible_twin: Case  # names E4 exactly: related
    hidden_twin: Case  # names E4 exactly, but the reporter excluded the viewer
    by_name: Case  # names "Rep" by name only: possibly related
    unrelated: Case  # names E1
    lonely: Case  # names E8; its only twin is hidden from the viewer
    lonely_hidden: Case


def related_world(db: Session) -> Related:
    world = build_world(db, FixedClock())
    DirectoryService(db, world.clock, SECRET).import_rows(CHAIN)
    viewer = world.staff("viewer@corp.example", "investigator", employee_id="E9")
    world.staff("colleague@corp.example", "investigator")
    hide = [viewer.account.id]

    def named(employee_id: str = "", name: str = "", exclude: list[str] | None = None) -> Case:
        subject = SubjectInput(name=name or "Someone", employee_id=employee_id)
        return world.file(subjects=[subject], exclude=exclude or []).case

    return Related(
        world=world,
        viewer="viewer@corp.example",
        origin=named("E4", "Rep"),
        visible_twin=named("E4"),
        hidden_twin=named("E4", exclude=hide),
        by_name=named(name="Rep"),
        unrelated=named("E1", "Boss"),
        lonely=named("E8", "Other Person"),
        lonely_hidden=named("E8", exclude=hide),
    )


def seed_related(database_url: str) -> Related:
    """related_world committed into a live server's database."""
    from cases.db import make_engine, session_factory, unit_of_work
    from support.db import TEST_SECRET

    engine = make_engine(database_url)
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        made = related_world(db)
    engine.dispose()
    return made


def browser_login(page: Any, base_url: str, person: Person) -> None:
    """Password and TOTP through the staff login pages; ends on the start page."""
    assert person.totp_secret is not None
    page.goto(f"{base_url}/staff/login")
    page.fill("#email", person.account.email)
    page.fill("#password", person.password)
    page.locator("form[action$='/staff/login'] button[type=submit]").click()
    page.wait_for_load_state("load")
    page.fill("#code", crypto.totp_code(person.totp_secret, time.time()))
    page.locator("form[action$='/staff/login/totp'] button[type=submit]").click()
    page.wait_for_load_state("load")


CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def csrf_token(client: Any, path: str) -> str:
    match = CSRF.search(client.get(path).text)
    assert match, path
    return match.group(1)


def client_login(client: Any, person: Person, clock: Any) -> str:
    """Staff login over the test client (password, then TOTP); returns a CSRF token."""
    token = csrf_token(client, "/staff/login")
    client.post(
        "/staff/login",
        data={"csrf": token, "email": person.account.email, "password": person.password},
    )
    answer = client.post(
        "/staff/login/totp",
        data={"csrf": token, "code": person.code(clock)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return csrf_token(client, "/staff/cases")


@dataclass
class Searchable:
    """An investigator, a case with a distinctive word they may open, one hidden from them."""

    person: Person
    seen: Case
    hidden: Case
    others: list[Case]


def seed_searchable(database_url: str, word: str) -> Searchable:
    from cases.db import make_engine, session_factory, unit_of_work
    from support.db import TEST_SECRET

    engine = make_engine(database_url)
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        world = build_world(db, FixedClock())
        ana = world.staff("ana@example.com")
        world.staff("bo@example.com")
        seen = world.file(f"Orders diverted to {word} Trading").case
        hidden = world.file(f"{word} again", exclude=[ana.account.id]).case
        others = [world.file(f"Unrelated matter {n}").case for n in range(2)]
    engine.dispose()
    return Searchable(ana, seen, hidden, others)
