"""The case list over HTTP: search by POST, bulk forms, saved views, and the API's filters."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from support.caselist import client_login, related_world
from support.staff_world import build_world

from cases.audit.models import AuditEntry
from cases.clock import FixedClock
from cases.db import unit_of_work
from cases.reports.keys import CASE, staff_holder
from cases.reports.models import Case, KeyWrap, Status


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    clock = FixedClock()
    app.state.clock = clock
    with unit_of_work(app_db) as db:
        made = build_world(db, clock)
        ana = made.staff("ana@example.com")
        bo = made.staff("bo@example.com")
        seen = made.file("Orders to Zephyr Trading").case
        hidden = made.file("Zephyr kickbacks", exclude=[ana.account.id]).case
        other = made.file("A late invoice").case
    return {"clock": clock, "ana": ana, "bo": bo, "seen": seen, "hidden": hidden, "other": other}


def token(client: Any, world: dict[str, Any], who: str = "ana") -> dict[str, str]:
    person = world[who]
    body = {
        "email": person.account.email,
        "password": person.password,
        "totp": person.code(world["clock"]),
    }
    answer = client.post("/api/v1/staff/session", json=body)
    world["clock"].advance(seconds=30)
    client.cookies.clear()
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def test_search_form_finds_a_visible_word_and_never_a_hidden_one(
    client: Any, world: dict[str, Any]
) -> None:
    """POST /staff/cases/search lists and counts only the case the viewer may open."""
    csrf = client_login(client, world["ana"], world["clock"])

    answer = client.post("/staff/cases/search?status=new", data={"csrf": csrf, "q": "zephyr"})

    assert answer.status_code == 200
    assert [r.id for r in answer.context["page"].rows] == [world["seen"].id]
    assert answer.context["search"].total == 1
    assert answer.context["summaries"] == {world["seen"].id: "Orders to Zephyr Trading"}
    assert world["hidden"].reference not in answer.text
    assert "zephyr" not in str(answer.url)


def test_list_shows_summaries_the_viewer_opens_and_audits_each(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """Each summary on the list is opened with the viewer's key and recorded as a read."""
    client_login(client, world["ana"], world["clock"])

    answer = client.get("/staff/cases?sort=received&order=desc&size=25")

    assert answer.context["summaries"][world["other"].id] == "A late invoice"
    assert world["hidden"].id not in answer.context["summaries"]
    with unit_of_work(app_db) as db:
        reads = db.scalars(
            select(AuditEntry.case_id).where(
                AuditEntry.action == "case.read", AuditEntry.detail.contains('"summary"')
            )
        )
        assert set(reads) == {world["seen"].id, world["other"].id}


@pytest.mark.parametrize("damage", ["key wrap", "sealed report"])
def test_one_damaged_case_costs_its_summary_not_the_list(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any], damage: str
) -> None:
    """A database writer who alters one case's key wrap or sealed report must not take the
    whole list down for every investigator: the page and the API still answer 200, list the
    damaged case, and show every other summary."""
    seen, other = world["seen"], world["other"]
    with unit_of_work(app_db) as db:
        if damage == "key wrap":
            wrap = db.scalars(
                select(KeyWrap).where(
                    KeyWrap.case_id == seen.id,
                    KeyWrap.key_kind == CASE,
                    KeyWrap.holder == staff_holder(world["ana"].account.id),
                )
            ).one()
            wrap.wrapped = _flipped(wrap.wrapped)
        else:
            case = db.get(Case, seen.id)
            assert case is not None
            assert case.content
            case.content = _flipped(case.content)
    headers = token(client, world)

    api = client.get("/api/v1/cases", headers=headers)
    client_login(client, world["ana"], world["clock"])
    page = client.get("/staff/cases")

    assert api.status_code == 200
    summaries = {item["id"]: item["summary"] for item in api.json()["items"]}
    assert summaries[other.id] == "A late invoice"
    assert seen.id in summaries
    assert summaries[seen.id] is None
    assert page.status_code == 200
    assert page.context["summaries"][other.id] == "A late invoice"
    assert seen.id not in page.context["summaries"]
    assert seen.reference in page.text


def _flipped(blob: bytes) -> bytes:
    middle = len(blob) // 2
    return blob[:middle] + bytes([blob[middle] ^ 0x01]) + blob[middle + 1 :]


def test_bulk_form_transitions_all_or_refuses_all(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """A bulk acknowledgement moves both; including a hidden case refuses and changes none."""
    csrf = client_login(client, world["ana"], world["clock"])
    both = [world["seen"].id, world["other"].id]
    form = {"csrf": csrf, "action": "transition", "status": "acknowledged", "reason": "Logged"}

    refused = client.post("/staff/cases/bulk", data={**form, "case": [*both, world["hidden"].id]})
    with unit_of_work(app_db) as db:
        after_refusal = set(db.scalars(select(Case.status).where(Case.id.in_(both))))
    done = client.post(
        "/staff/cases/bulk?status=new", data={**form, "case": both}, follow_redirects=False
    )

    assert refused.status_code == 404
    assert refused.context["bulk_error"]
    assert after_refusal == {Status.NEW}
    assert done.status_code == 303
    assert done.headers["location"].startswith("/staff/cases?status=new")
    with unit_of_work(app_db) as db:
        assert set(db.scalars(select(Case.status).where(Case.id.in_(both)))) == {
            Status.ACKNOWLEDGED
        }


def test_saved_view_round_trip(client: Any, world: dict[str, Any]) -> None:
    """Saving stores the filters of the query string and lists the view; deleting removes it."""
    csrf = client_login(client, world["ana"], world["clock"])

    saved = client.post(
        "/staff/views?status=new&due=overdue&q=ignored",
        data={"csrf": csrf, "name": "Late new"},
        follow_redirects=False,
    )
    listing = client.get(saved.headers["location"])
    view = listing.context["views"][0]
    deleted = client.post(
        f"/staff/views/{view.id}/delete", data={"csrf": csrf}, follow_redirects=False
    )

    assert saved.headers["location"].startswith("/staff/cases?status=new&due=overdue")
    assert (view.name, view.query) == ("Late new", "status=new&due=overdue")
    assert deleted.status_code == 303
    assert client.get("/staff/cases").context["views"] == []


def test_api_list_takes_the_filters_and_search_takes_a_body(
    client: Any, world: dict[str, Any]
) -> None:
    """GET /api/v1/cases filters by the query string; POST /api/v1/cases/search finds words."""
    auth = token(client, world)

    listed = client.get("/api/v1/cases?sort=reference&order=desc&size=25", headers=auth).json()
    found = client.post("/api/v1/cases/search", headers=auth, json={"q": "ZEPHYR"}).json()
    by_ref = client.post(
        "/api/v1/cases/search", headers=auth, json={"q": world["hidden"].reference}
    ).json()

    references = [item["reference"] for item in listed["items"]]
    assert references == sorted(references, reverse=True)
    assert world["hidden"].id not in {item["id"] for item in listed["items"]}
    assert {item["summary"] for item in listed["items"]} == {
        "Orders to Zephyr Trading",
        "A late invoice",
    }
    assert [item["id"] for item in found["items"]] == [world["seen"].id]
    assert (found["total"], found["cut"], found["window"]) == (1, False, 2000)
    assert by_ref["items"] == []
    assert by_ref["total"] == 0


def test_api_bulk_refusal_names_the_case_and_reason(client: Any, world: dict[str, Any]) -> None:
    """A refused bulk answers with the case's reference and the single action's reason."""
    auth = token(client, world)
    ids = [world["seen"].id, world["other"].id]
    client.post(
        f"/api/v1/cases/{ids[1]}/transition",
        headers=auth,
        json={"status": "acknowledged", "reason": "first"},
    )

    answer = client.post(
        "/api/v1/cases/bulk",
        headers=auth,
        json={"action": "transition", "cases": ids, "status": "acknowledged", "reason": "x"},
    )

    assert answer.status_code == 409
    body = answer.json()
    assert body["error"] == "bulk_refused"
    assert body["case"] == world["other"].reference
    assert body["reason"]["error"] == "transition_not_allowed"


def test_case_json_lists_related_cases_the_viewer_may_see_only(
    client: Any, app: Any, app_db: sessionmaker[Any]
) -> None:
    """GET /api/v1/cases/{id} carries `related`: the visible twin and the possible one only."""
    with unit_of_work(app_db) as db:
        made = related_world(db)
    app.state.clock = made.world.clock
    person = made.world.people[made.viewer]
    body = {
        "email": person.account.email,
        "password": person.password,
        "totp": person.code(made.world.clock),
    }
    auth = {
        "Authorization": f"Bearer {client.post('/api/v1/staff/session', json=body).json()['token']}"
    }

    case = client.get(f"/api/v1/cases/{made.origin.id}", headers=auth).json()

    related = {item["reference"]: item["certain"] for item in case["related"]}
    assert related == {made.visible_twin.reference: True, made.by_name.reference: False}
    assert made.hidden_twin.reference not in str(case)
