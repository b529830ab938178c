"""Staff pages added with administration: recording a phone report, and unassigning."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from support.arrivals import list_arrivals
from support.staff_http import app_world, log_in

import crypto
from cases.audit.models import AuditEntry
from cases.db import unit_of_work
from cases.reports.models import Case, CaseAssignee

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    with app_world(app, app_db) as made:
        clock = made.clock
        ana = made.staff("ana@example.com")
        bob = made.staff("bob@example.com")
        filed = made.file()
        category = f"{made.channel.id}:{made.category().id}"
    return {
        "clock": clock,
        "ana": ana,
        "bob": bob,
        "case": filed.case,
        "category": category,
        "db": app_db,
    }


def test_recorded_report_shows_the_receipt_once(client: Any, world: dict[str, Any]) -> None:
    """Filing a phone report shows a receipt that opens the case and is stored nowhere in clear."""
    token = log_in(client, world["ana"], world["clock"])
    form = {
        "csrf": token,
        "intake": "phone",
        "category": world["category"],
        "summary": "Kickbacks at the depot",
        "details": "Told by phone.",
    }

    answer = client.post("/staff/record", data=form)
    receipt = answer.context["receipt"]
    list_arrivals(world["db"], world["clock"])  # like any report, listed at the next full hour
    case_page = client.get(f"/staff/cases/{answer.context['case'].id}")
    with unit_of_work(world["db"]) as db:
        case = db.get(Case, answer.context["case"].id)
        audit = " ".join(db.scalars(select(AuditEntry.detail)))

    assert answer.template.name == "staff/recorded.html"
    assert answer.headers["cache-control"] == "no-store"
    assert crypto.parse_receipt(receipt).selector
    assert case is not None
    assert (case.intake, case.record_state) == ("phone", "pending")
    assert receipt not in audit
    assert receipt not in case_page.text
    assert case_page.context["view"].report["summary"] == "Kickbacks at the depot"


def test_recorded_report_refuses_missing_fields(client: Any, world: dict[str, Any]) -> None:
    """Without a summary the form comes back with the field error and nothing is filed."""
    token = log_in(client, world["ana"], world["clock"])
    form = {
        "csrf": token,
        "intake": "letter",
        "category": world["category"],
        "summary": "",
        "details": "x",
    }

    answer = client.post("/staff/record", data=form)
    with unit_of_work(world["db"]) as db:
        cases = list(db.scalars(select(Case.id)))

    assert answer.status_code == 422
    assert "summary" in answer.context["errors"]
    assert cases == [world["case"].id]


def test_unassign_button_removes_the_assignee(client: Any, world: dict[str, Any]) -> None:
    """After assigning a colleague, the unassign form removes them from the case."""
    token = log_in(client, world["ana"], world["clock"])
    path = f"/staff/cases/{world['case'].id}"
    client.post(f"{path}/assign", data={"csrf": token, "staff_id": world["bob"].account.id})

    shown = client.get(path)
    gone = client.post(
        f"{path}/unassign",
        data={"csrf": token, "staff_id": world["bob"].account.id},
        follow_redirects=False,
    )
    with unit_of_work(world["db"]) as db:
        left = list(db.scalars(select(CaseAssignee.staff_id)))

    assert f"{path}/unassign" in shown.text
    assert gone.status_code == 303
    assert left == []


def test_reporters_first_login_replaces_the_recorded_receipt(
    client: Any, world: dict[str, Any]
) -> None:
    """The recorder's copy of the receipt dies at the reporter's first login: a new receipt is
    returned once, opens the case, and the old one is refused from then on."""
    token = log_in(client, world["ana"], world["clock"])
    form = {
        "csrf": token,
        "intake": "phone",
        "category": world["category"],
        "summary": "Kickbacks at the depot",
        "details": "Told by phone.",
    }
    recorded = client.post("/staff/record", data=form).context["receipt"]
    client.cookies.clear()

    first = client.post("/api/v1/reporter/session", json={"receipt": recorded})
    fresh = first.json()["new_receipt"]
    again_old = client.post("/api/v1/reporter/session", json={"receipt": recorded})
    with_new = client.post("/api/v1/reporter/session", json={"receipt": fresh})
    report = client.get(
        "/api/v1/reporter/report",
        headers={"Authorization": f"Bearer {with_new.json()['token']}"},
    )

    assert first.status_code == 200
    assert fresh != recorded
    assert again_old.status_code == 401
    assert with_new.status_code == 200
    assert "new_receipt" not in with_new.json()
    assert report.status_code == 200
    assert report.json()["category"]


def test_status_page_says_the_receipt_changed(client: Any, world: dict[str, Any]) -> None:
    """Logging in on the status page with a recorded receipt shows the new code once."""
    token = log_in(client, world["ana"], world["clock"])
    form = {
        "csrf": token,
        "intake": "letter",
        "category": world["category"],
        "summary": "Invoices split",
        "details": "By letter.",
    }
    recorded = client.post("/staff/record", data=form).context["receipt"]
    client.cookies.clear()
    match = CSRF.search(client.get("/status").text)
    assert match

    answer = client.post("/status", data={"csrf": match.group(1), "receipt": recorded})

    assert answer.template.name == "reporter/new_receipt.html"
    assert crypto.parse_receipt(answer.context["receipt"]).selector
    assert answer.context["receipt"] != recorded
    assert answer.context["receipt"] in answer.text
