"""Disclosure, subjects, forged forms and retaliation complaints over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker
from support.reporter_http import login
from support.staff_http import app_world
from support.staff_http import bearer as staff_bearer
from support.staff_world import SECRET

from cases.access.models import DisclosureRequest
from cases.audit.models import AuditEntry
from cases.db import unit_of_work
from cases.reports.intake import IdentityInput
from cases.reports.models import Case, CaseSubject, KeyWrap
from cases.staff.directory import DirectoryService, Row


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    with app_world(app, app_db) as made:
        db, clock = made.db, made.clock
        DirectoryService(db, clock, SECRET).import_rows(
            [Row("E1", "Zhao Lei", "zhao@example.com", "Sales", "")]
        )
        people = {
            "ana": made.staff("ana@example.com", "investigator"),
            "bo": made.staff("bo@example.com", "investigator"),
            "cus": made.staff("cus@example.com", "custodian"),
            "both": made.legacy_staff("both@example.com", "investigator", "custodian"),
            "ro": made.staff("ro@example.com", "retaliation_officer"),
        }
        filed = made.file(identity=IdentityInput(name="Li Hua", contact="li@example.com"))
    return {"clock": clock, "filed": filed, **people}


def bearer(client: Any, world: dict[str, Any], name: str) -> dict[str, str]:
    return staff_bearer(client, world[name], world["clock"])


def reporter(client: Any, world: dict[str, Any]) -> dict[str, str]:
    return login(client, world["filed"].receipt.formatted())


def count(app_db: sessionmaker[Any], model: Any) -> int:
    with unit_of_work(app_db) as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_only_the_approved_investigator_reads_the_name(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """Ana asks, a custodian approves: Ana reads the name, Bo does not; the reporter is told."""
    case_id = world["filed"].case.id
    ana, bo, cus = (bearer(client, world, n) for n in ("ana", "bo", "cus"))
    asked = client.post(
        f"/api/v1/cases/{case_id}/disclosures", headers=ana, json={"reason": "Protect"}
    )
    queue = client.get("/api/v1/disclosures", headers=cus).json()["items"]
    notice_before = client.get("/api/v1/reporter/report", headers=reporter(client, world)).json()

    decided = client.post(
        f"/api/v1/disclosures/{asked.json()['id']}/decision",
        headers=cus,
        json={"decision": "approve", "reason": "Needed to arrange a transfer"},
    )

    assert asked.status_code == 201
    assert [item["reason"] for item in queue] == ["Protect"]
    assert notice_before["identity_disclosure"]["status"] == "pending"
    assert decided.status_code == 200
    ana_sees = client.get(f"/api/v1/cases/{case_id}/identity", headers=ana).json()
    bo_sees = client.get(f"/api/v1/cases/{case_id}/identity", headers=bo).json()
    assert ana_sees["identity"] == {"name": "Li Hua", "contact": "li@example.com"}
    assert bo_sees["identity"] is None
    notice = client.get("/api/v1/reporter/report", headers=reporter(client, world)).json()
    assert notice["identity_disclosure"]["status"] == "approved"
    with unit_of_work(app_db) as db:
        actions = set(db.scalars(select(AuditEntry.action).where(AuditEntry.case_id == case_id)))
    assert {"disclosure.requested", "disclosure.approved", "identity.read"} <= actions


def test_self_approval_is_refused_and_changes_nothing(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """An investigator who is also a custodian cannot approve their own request."""
    case_id = world["filed"].case.id
    both = bearer(client, world, "both")
    asked = client.post(f"/api/v1/cases/{case_id}/disclosures", headers=both, json={"reason": "x"})

    answer = client.post(
        f"/api/v1/disclosures/{asked.json()['id']}/decision",
        headers=both,
        json={"decision": "approve", "reason": "mine"},
    )

    assert answer.status_code == 403
    assert answer.json()["error"] == "self_approval"
    with unit_of_work(app_db) as db:
        assert db.scalars(select(DisclosureRequest.status)).one() == "pending"


def test_a_request_by_someone_not_on_the_case_is_404(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """The retaliation officer holds no key to this report: asking is 404 and stores nothing."""
    case_id = world["filed"].case.id

    answer = client.post(
        f"/api/v1/cases/{case_id}/disclosures",
        headers=bearer(client, world, "ro"),
        json={"reason": "curious"},
    )

    assert answer.status_code == 404
    assert count(app_db, DisclosureRequest) == 0


def test_an_unknown_employee_id_is_refused(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """Naming a subject by an employee ID the directory lacks is 422 and adds no subject."""
    case_id = world["filed"].case.id
    before = count(app_db, CaseSubject)

    answer = client.post(
        f"/api/v1/cases/{case_id}/subjects",
        headers=bearer(client, world, "ana"),
        json={"name": "Somebody", "employee_id": "NOPE-404"},
    )

    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid"
    assert count(app_db, CaseSubject) == before


def test_a_forged_form_is_refused(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """A recusal form without a valid CSRF token is 403 and the person keeps their key."""
    case_id = world["filed"].case.id
    token = bearer(client, world, "ana")["Authorization"].split()[1]
    # A Cookie header: the jar does not send a cookie set for the dotless "testserver".
    signed_in = {"Cookie": f"__Host-staff={token}"}

    answer = client.post(
        f"/staff/cases/{case_id}/recuse", data={"csrf": "forged"}, headers=signed_in
    )

    assert answer.status_code == 403
    with unit_of_work(app_db) as db:
        holders = set(db.scalars(select(KeyWrap.staff_id).where(KeyWrap.case_id == case_id)))
    assert world["ana"].account.id in holders


def test_a_retaliation_complaint_is_a_linked_case_for_officers_only(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """POST /api/v1/reporter/retaliation: a high-priority case, listed as linked, keyed to
    the retaliation officer and not to the original team."""
    headers = reporter(client, world)

    answer = client.post(
        "/api/v1/reporter/retaliation",
        headers=headers,
        json={"summary": "Moved to night shift", "details": "Since I reported, my manager..."},
    )

    assert answer.status_code == 201
    report = client.get("/api/v1/reporter/report", headers=headers).json()
    assert len(report["linked"]) == 1
    with unit_of_work(app_db) as db:
        case = db.scalars(select(Case).where(Case.linked_from_id.is_not(None))).one()
        holders = set(db.scalars(select(KeyWrap.staff_id).where(KeyWrap.case_id == case.id)))
    assert (case.kind, case.priority) == ("retaliation", "high")
    assert holders - {None} == {world["ro"].account.id}
