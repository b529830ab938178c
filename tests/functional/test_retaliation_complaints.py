"""Over HTTP (API and form): a complaint naming the HR head, a retaliation officer, never gives
her a key, and the reporter gets their 201 even when nobody eligible is left."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from support.reporter_http import login
from support.staff_http import app_world
from support.staff_world import SECRET

from cases.db import unit_of_work
from cases.notify.models import OutboxMessage
from cases.reports.intake import SubjectInput
from cases.reports.models import Case, KeyWrap
from cases.staff.directory import DirectoryService, Row

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    with app_world(app, app_db) as made:
        db, clock = made.db, made.clock
        DirectoryService(db, clock, SECRET).import_rows(
            [
                Row("C1", "Chief", "ceo@corp.example", "Board", ""),
                Row("H1", "周婷", "hr.head@corp.example", "HR", "C1"),
                Row("S1", "李娜", "sales.director@corp.example", "Sales", "C1"),
            ]
        )
        people = {
            "hr": made.staff("hr.head@corp.example", "retaliation_officer", employee_id="H1"),
            "officer": made.staff("officer@corp.example", "retaliation_officer"),
            "inv": made.staff("inv@corp.example", "investigator"),
            "admin": made.staff("admin@corp.example", "admin"),
        }
        filed = made.file(subjects=[SubjectInput(name="李娜")])
    return {"filed": filed, **{k: v.account.id for k, v in people.items()}}


def _reporter(client: Any, world: dict[str, Any]) -> dict[str, str]:
    return login(client, world["filed"].receipt.formatted())


def _complaint_holders(app_db: sessionmaker[Any]) -> set[str]:
    with unit_of_work(app_db) as db:
        case = db.scalars(select(Case).where(Case.linked_from_id.is_not(None))).one()
        return set(db.scalars(select(KeyWrap.staff_id).where(KeyWrap.case_id == case.id)))


def test_api_complaint_naming_the_hr_head_gives_her_no_key(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """POST /api/v1/reporter/retaliation naming "ZHOU TING": 201, the other officer holds the
    key, the HR head (and her chain) does not."""
    answer = client.post(
        "/api/v1/reporter/retaliation",
        headers=_reporter(client, world),
        json={
            "summary": "Moved to night shifts",
            "details": "Since my report the HR head...",
            "subjects": [{"name": "ZHOU TING"}],
        },
    )

    assert answer.status_code == 201, answer.text
    assert _complaint_holders(app_db) - {None} == {world["officer"]}


def test_api_complaint_with_nobody_eligible_is_still_201_and_held(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """Both officers and the investigator kept away: 201, no staff key, admins told it waits."""
    answer = client.post(
        "/api/v1/reporter/retaliation",
        headers=_reporter(client, world),
        json={
            "summary": "Threatened",
            "details": "By HR.",
            "subjects": [{"name": "Somebody", "employee_id": "h1"}],
            "exclude": [world["officer"], world["inv"]],
        },
    )

    assert answer.status_code == 201, answer.text
    assert _complaint_holders(app_db) - {None} == set()
    with unit_of_work(app_db) as db:
        kinds = list(
            db.scalars(select(OutboxMessage.to_address).where(OutboxMessage.kind == "case_waiting"))
        )
    assert kinds == ["admin@corp.example"]


def test_api_complaint_with_a_malformed_subject_list_is_422(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """A subjects value that is not a list of objects is refused and files nothing."""
    answer = client.post(
        "/api/v1/reporter/retaliation",
        headers=_reporter(client, world),
        json={"summary": "x", "details": "y", "subjects": "周婷"},
    )

    assert answer.status_code == 422
    with unit_of_work(app_db) as db:
        assert db.scalars(select(Case).where(Case.linked_from_id.is_not(None))).first() is None


def test_form_complaint_names_people_and_excludes_staff(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """The HTML form offers the people fields and the exclusion list; naming 周 婷 and ticking
    the investigator leaves only the other officer with the key."""
    csrf = CSRF.findall(client.get("/report").text)[0]
    login = client.post(
        "/status", data={"csrf": csrf, "receipt": world["filed"].receipt.formatted()}
    )
    assert login.status_code in (200, 303)
    page = client.get("/status/retaliation")
    assert 'name="subject_name"' in page.text
    assert world["inv"] in page.text

    answer = client.post(
        "/status/retaliation",
        data={
            "csrf": csrf,
            "summary": "Left out of meetings",
            "details": "Since my report.",
            "subject_name": ["周 婷", ""],
            "subject_id": ["", ""],
            "exclude": [world["inv"]],
        },
    )

    assert answer.status_code == 200, answer.text  # the confirmation page, after the redirect
    assert _complaint_holders(app_db) - {None} == {world["officer"]}
