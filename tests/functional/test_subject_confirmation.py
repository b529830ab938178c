"""The confirmation step over HTTP: the case pages show a name that needs confirming, and a
non-candidate rejects or confirms it from the page or the API."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from support.staff_http import app_world, csrf, log_in
from support.staff_world import SECRET

from cases.access.policy import may_see
from cases.db import unit_of_work
from cases.reports.intake import SubjectInput
from cases.reports.models import Case, CaseSubject
from cases.staff.directory import DirectoryService, Row
from cases.staff.models import StaffAccount


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    with app_world(app, app_db) as made:
        db, clock = made.db, made.clock
        DirectoryService(db, clock, SECRET).import_rows(
            [
                Row("D1", "Director", "director@corp.example", "Sales", ""),
                Row("E3", "张伟", "zw@corp.example", "Sales", "D1"),
                Row("E7", "章伟", "other@corp.example", "Audit", ""),
            ]
        )
        director = made.staff("director@corp.example", "investigator", employee_id="D1")
        ana = made.staff("ana@example.com")
        filed = made.file(subjects=[SubjectInput(name="zhang wei")])
    return {
        "clock": clock,
        "ana": ana,
        "director": director.account.id,
        "case": filed.case.id,
    }


def _director_may_see(app_db: sessionmaker[Any], world: dict[str, Any]) -> bool:
    with unit_of_work(app_db) as db:
        director = db.get(StaffAccount, world["director"])
        case = db.get(Case, world["case"])
        assert director is not None
        assert case is not None
        return bool(may_see(db, director, case))


def test_the_pages_show_the_step_and_rejecting_frees_only_that_candidate(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """Two pinyin candidates: both chains are excluded and the page says why; rejecting 张伟
    from the access page frees the director, the other candidate stays to be decided."""
    log_in(client, world["ana"], world["clock"])
    case_page = client.get(f"/staff/cases/{world['case']}")
    access_path = f"/staff/cases/{world['case']}/access"
    token = csrf(client, access_path)
    page = client.get(access_path)
    excluded_before = not _director_may_see(app_db, world)
    with unit_of_work(app_db) as db:
        zhang = db.scalars(
            select(CaseSubject).where(
                CaseSubject.case_id == world["case"], CaseSubject.needs_confirmation.is_(True)
            )
        ).all()
    labels = [row.entry_name for row in page.context["subjects"]]
    target = next(row.id for row in page.context["subjects"] if row.entry_name == "张伟")

    answer = client.post(
        f"{access_path.removesuffix('/access')}/subjects/{target}/reject",
        data={"csrf": token},
        follow_redirects=False,
    )

    assert [s["needs_confirmation"] for s in case_page.context["view"].subjects] == [True]
    assert len(zhang) == 2
    assert sorted(labels) == ["张伟", "章伟"]
    assert "Not this person" in page.text
    assert excluded_before
    assert answer.status_code == 303
    assert _director_may_see(app_db, world)


def test_the_api_confirms_a_candidate_and_rejects_the_other(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """POST …/subjects/{id}/confirm on 张伟 keeps the director excluded and rejects 章伟."""
    person, clock = world["ana"], world["clock"]
    body = {"email": person.account.email, "password": person.password, "totp": person.code(clock)}
    token = client.post("/api/v1/staff/session", json=body).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get(f"/api/v1/cases/{world['case']}/subjects", headers=headers).json()
    target = next(row["id"] for row in listed["items"] if row["entry_name"] == "张伟")

    answer = client.post(
        f"/api/v1/cases/{world['case']}/subjects/{target}/confirm", headers=headers, json={}
    )

    after = client.get(f"/api/v1/cases/{world['case']}/subjects", headers=headers).json()
    assert answer.status_code == 200, answer.text
    assert sorted((r["entry_name"], r["matched_by"]) for r in after["items"]) == [
        ("", "rejected"),
        ("张伟", "confirmed"),
    ]
    assert not _director_may_see(app_db, world)


def test_an_admin_page_upload_with_aliases_removes_the_chain_at_once(
    client: Any, app: Any, app_db: sessionmaker[Any]
) -> None:
    """A report named "Tommy" before the directory knew him; the admin uploads a CSV whose
    aliases column says Tommy is E1043 under the director: the director loses the key now."""
    with app_world(app, app_db) as made:
        db, clock = made.db, made.clock
        DirectoryService(db, clock, SECRET).import_rows(
            [Row("D1", "Director", "director@corp.example", "Sales", "")]
        )
        director = made.staff("director@corp.example", "investigator", employee_id="D1")
        made.staff("ana@example.com")
        admin = made.staff("admin@example.com", "admin")
        case_id = made.file(subjects=[SubjectInput(name="tommy")]).case.id
    world = {"director": director.account.id, "case": case_id}
    assert _director_may_see(app_db, world)
    log_in(client, admin, clock)
    token = csrf(client, "/admin/directory")
    csv = (
        "employee_id,name,email,department,manager_id,aliases\n"
        "D1,Director,director@corp.example,Sales,,\n"
        "E1043,王强,,Sales,D1,Tommy Wang|Tommy\n"
    )

    answer = client.post(
        "/admin/directory",
        data={"csrf": token},
        files={"file": ("dir.csv", csv.encode(), "text/csv")},
    )

    assert answer.status_code == 200
    assert answer.context["result"].revoked == 1
    assert not _director_may_see(app_db, world)


def test_a_name_written_with_a_title_is_shown_as_found_within_it(
    client: Any, app: Any, app_db: sessionmaker[Any]
) -> None:
    """ "销售总监张伟" (sales director 张伟): the director above 张伟 is kept away, and the
    access page says the name was found within what was typed, to be confirmed."""
    with app_world(app, app_db) as made:
        DirectoryService(made.db, made.clock, SECRET).import_rows(
            [
                Row("D1", "Director", "director@corp.example", "Sales", ""),
                Row("E3", "张伟", "zw@corp.example", "Sales", "D1"),
            ]
        )
        director = made.staff("director@corp.example", "investigator", employee_id="D1")
        ana = made.staff("ana@example.com")
        filed = made.file(subjects=[SubjectInput(name="销售总监张伟")])
        clock = made.clock
    world = {"director": director.account.id, "case": filed.case.id}
    log_in(client, ana, clock)

    page = client.get(f"/staff/cases/{filed.case.id}/access")
    chinese = client.get(
        f"/staff/cases/{filed.case.id}/access", headers={"Accept-Language": "zh-CN"}
    )

    assert page.status_code == 200
    assert [(s.entry_name, s.matched_by) for s in page.context["subjects"]] == [("张伟", "within")]
    assert "their name is part of what was typed" in page.text
    assert "所填内容中包含此人的姓名" in chinese.text
    assert not _director_may_see(app_db, world)
