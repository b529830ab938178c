"""An admin colluding with the accused cannot silence a reporter's retaliation complaint by
switching off the reporter's channel, its retaliation category, or the category's
"retaliation" flag: the complaint is still filed (201) for the retaliation officers
(cases/access/reporting.py::file_retaliation, docs/access.md "Retaliation")."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from support.reporter_http import login
from support.staff_http import CSRF, app_world, log_in
from support.staff_world import Person

from cases.clock import FixedClock
from cases.db import unit_of_work
from cases.org.models import Category, Channel, ChannelMember, RoutingRule
from cases.reports.models import Case, KeyWrap


class Scene:
    def __init__(
        self, filed: Any, admin: Person, officer: str, inv: str, clock: FixedClock
    ) -> None:
        self.filed = filed
        self.admin = admin
        self.officer = officer
        self.inv = inv
        self.clock = clock
        self.topic = ""


@pytest.fixture
def scene(app: Any, app_db: sessionmaker[Any]) -> Scene:
    with app_world(app, app_db) as made:
        admin = made.staff("admin@corp.example", "admin")
        made.staff("admin2@corp.example", "admin")
        officer = made.staff("officer@corp.example", "retaliation_officer")
        inv = made.staff("inv@corp.example", "investigator")
        filed = made.file()
        scene = Scene(filed, admin, officer.account.id, inv.account.id, made.clock)
        scene.topic = made.category().name_en
        return scene


def _ids(app_db: sessionmaker[Any]) -> tuple[Channel, Category]:
    with unit_of_work(app_db) as db:
        channel = db.scalars(select(Channel).where(Channel.slug == "general")).one()
        category = next(c for c in channel.categories if c.retaliation)
        db.expunge_all()
        return channel, category


def _complain(client: Any, scene: Scene) -> Any:
    return client.post(
        "/api/v1/reporter/retaliation",
        headers=login(client, scene.filed.receipt.formatted()),
        json={"summary": "Moved to night shifts", "details": "Since my report."},
    )


def _save_category(client: Any, scene: Scene, category: Category, flag: str) -> Any:
    """The admin saves the category's form with its names and only `flag` ticked."""
    token = log_in(client, scene.admin, scene.clock)
    data = {"csrf": token, "name_en": category.name_en, "name_zh": category.name_zh, flag: "1"}
    return client.post(f"/admin/categories/{category.id}", data=data, follow_redirects=False)


def _complaint_holders(app_db: sessionmaker[Any]) -> set[str | None]:
    with unit_of_work(app_db) as db:
        case = db.scalars(select(Case).where(Case.linked_from_id.is_not(None))).one()
        return set(db.scalars(select(KeyWrap.staff_id).where(KeyWrap.case_id == case.id)))


def test_switching_the_channel_off_does_not_refuse_the_reporters_complaint(
    client: Any, scene: Scene, app_db: sessionmaker[Any]
) -> None:
    """The admin unticks "active" on the reporter's channel: the complaint form still offers
    the staff to keep away, and the complaint is still 201 and reaches the retaliation
    officer."""
    channel, _ = _ids(app_db)
    token = log_in(client, scene.admin, scene.clock)
    off = client.post(
        f"/admin/channels/{channel.id}",
        data={
            "csrf": token,
            "name_en": channel.name_en,
            "name_zh": channel.name_zh,
            "acknowledge_days": str(channel.acknowledge_days),
            "feedback_months": str(channel.feedback_months),
            "retention_months": str(channel.retention_months),
        },
        follow_redirects=False,
    )
    assert off.status_code == 303, off.text
    assert _ids(app_db)[0].active is False
    client.cookies.clear()
    form = CSRF.findall(client.get("/status").text)[0]
    client.post("/status", data={"csrf": form, "receipt": scene.filed.receipt.formatted()})
    page = client.get("/status/retaliation")
    status = client.get("/status")

    answer = _complain(client, scene)

    assert scene.topic in status.text  # the status page still names the report's topic
    assert page.status_code == 200
    assert scene.inv in page.text  # the staff the reporter may keep away are still offered
    assert answer.status_code == 201, answer.text
    assert scene.officer in _complaint_holders(app_db)


def test_switching_the_retaliation_category_off_does_not_refuse_the_complaint(
    client: Any, scene: Scene, app_db: sessionmaker[Any]
) -> None:
    """The admin unticks "reporters can choose it" on the retaliation category: new reports
    cannot choose it, but the reporter's complaint is still 201 for the officer."""
    _, category = _ids(app_db)
    off = _save_category(client, scene, category, "retaliation")
    assert off.status_code == 303, off.text

    answer = _complain(client, scene)

    assert answer.status_code == 201, answer.text
    assert scene.officer in _complaint_holders(app_db)


def test_the_last_retaliation_category_keeps_its_flag(
    client: Any, scene: Scene, app_db: sessionmaker[Any]
) -> None:
    """Unticking "send to retaliation officers" on the portal's only retaliation category is
    refused (409), the flag stays, and the reporter's complaint is still 201 for the officer."""
    _, category = _ids(app_db)
    off = _save_category(client, scene, category, "active")

    assert off.status_code == 409, off.text

    assert _ids(app_db)[1].retaliation is True
    answer = _complain(client, scene)
    assert answer.status_code == 201, answer.text
    assert scene.officer in _complaint_holders(app_db)


@pytest.fixture
def team(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    """The General channel with no team set (so every investigator receives its reports), three
    investigators and a colluding admin."""
    with app_world(app, app_db) as made:
        admin = made.staff("admin@corp.example", "admin")
        ana = made.staff("ana@corp.example", "investigator")
        bob = made.staff("bob@corp.example", "investigator")
        carol = made.staff("carol@corp.example", "investigator")
        return {
            "carol": carol.account.id,
            "admin": admin,
            "ana": ana.account.id,
            "bob": bob.account.id,
            "channel": made.channel.id,
            "category": made.category().id,
            "clock": made.clock,
        }


def _rule(client: Any, token: str, category: str, staff_id: str, action: str) -> Any:
    return client.post(
        f"/admin/categories/{category}/rules",
        data={"csrf": token, "staff_id": staff_id, "action": action},
        follow_redirects=False,
    )


def test_routing_rules_cannot_send_a_categorys_reports_to_nobody(
    client: Any, team: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """The admin adds a "skip" rule for each investigator of the category: the one that would
    leave it with nobody is refused (409), and a report filed next reaches the one left (on the
    code before, it reached nobody and waited for the recovery key)."""
    token = log_in(client, team["admin"], team["clock"])
    first = [_rule(client, token, team["category"], team[p], "remove") for p in ("ana", "bob")]
    last = _rule(client, token, team["category"], team["carol"], "remove")
    client.cookies.clear()
    filed = client.post(
        "/api/v1/reports",
        json={
            "channel": team["channel"],
            "category": team["category"],
            "summary": "Kickbacks from a supplier",
            "details": "The sales director takes a cut of every order.",
            "subjects": [],
            "exclude": [],
            "identity": None,
        },
    )

    assert [answer.status_code for answer in first] == [303, 303]
    assert last.status_code == 409, last.text
    assert filed.status_code == 201, filed.text
    with unit_of_work(app_db) as db:
        case = db.scalars(select(Case)).one()
        holders = set(db.scalars(select(KeyWrap.staff_id).where(KeyWrap.case_id == case.id)))
    assert team["carol"] in holders


def test_a_team_change_cannot_leave_a_category_with_nobody(
    client: Any, team: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """Team {ana, bob}, ana skipped in the category by a rule: taking bob off the team would
    leave the category's reports to nobody, and is refused (409); so is dropping the "add"
    rule that is a category's only way to someone."""
    with unit_of_work(app_db) as db:
        db.add_all(
            ChannelMember(channel_id=team["channel"], staff_id=team[p]) for p in ("ana", "bob")
        )
    token = log_in(client, team["admin"], team["clock"])
    assert _rule(client, token, team["category"], team["ana"], "remove").status_code == 303

    off = client.post(
        f"/admin/channels/{team['channel']}/members/{team['bob']}/remove",
        data={"csrf": token},
        follow_redirects=False,
    )

    assert off.status_code == 409, off.text
    with unit_of_work(app_db) as db:
        kept = db.get(ChannelMember, (team["channel"], team["bob"]))
        rule = db.scalars(select(RoutingRule).where(RoutingRule.staff_id == team["ana"])).one()
    assert kept is not None
    assert rule.action == "remove"
    with unit_of_work(app_db) as db:
        db.add(RoutingRule(category_id=team["category"], staff_id=team["bob"], action="remove"))
        db.add(RoutingRule(category_id=team["category"], staff_id=team["carol"], action="add"))
    dropped = client.post(
        f"/admin/rules/{_rule_id(app_db, team['carol'])}/remove",
        data={"csrf": token},
        follow_redirects=False,
    )
    assert dropped.status_code == 409, dropped.text
    assert _rule_id(app_db, team["carol"])


def _rule_id(app_db: sessionmaker[Any], staff_id: str) -> str:
    with unit_of_work(app_db) as db:
        return str(db.scalars(select(RoutingRule.id).where(RoutingRule.staff_id == staff_id)).one())
