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
from support.staff_http import app_world, log_in
from support.staff_world import Person

from cases.clock import FixedClock
from cases.db import unit_of_work
from cases.org.models import Category, Channel
from cases.reports.models import Case, KeyWrap


class Scene:
    def __init__(self, filed: Any, admin: Person, officer: str, clock: FixedClock) -> None:
        self.filed = filed
        self.admin = admin
        self.officer = officer
        self.clock = clock


@pytest.fixture
def scene(app: Any, app_db: sessionmaker[Any]) -> Scene:
    with app_world(app, app_db) as made:
        admin = made.staff("admin@corp.example", "admin")
        made.staff("admin2@corp.example", "admin")
        officer = made.staff("officer@corp.example", "retaliation_officer")
        made.staff("inv@corp.example", "investigator")
        filed = made.file()
        return Scene(filed, admin, officer.account.id, made.clock)


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


def _complaint_holders(app_db: sessionmaker[Any]) -> set[str | None]:
    with unit_of_work(app_db) as db:
        case = db.scalars(select(Case).where(Case.linked_from_id.is_not(None))).one()
        return set(db.scalars(select(KeyWrap.staff_id).where(KeyWrap.case_id == case.id)))


def test_switching_the_channel_off_does_not_refuse_the_reporters_complaint(
    client: Any, scene: Scene, app_db: sessionmaker[Any]
) -> None:
    """The admin unticks "active" on the reporter's channel: the complaint is still 201 and
    reaches the retaliation officer."""
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

    answer = _complain(client, scene)

    assert answer.status_code == 201, answer.text
    assert scene.officer in _complaint_holders(app_db)


def test_switching_the_retaliation_category_off_does_not_refuse_the_complaint(
    client: Any, scene: Scene, app_db: sessionmaker[Any]
) -> None:
    """The admin unticks "reporters can choose it" on the retaliation category: new reports
    cannot choose it, but the reporter's complaint is still 201 for the officer."""
    _, category = _ids(app_db)
    token = log_in(client, scene.admin, scene.clock)
    off = client.post(
        f"/admin/categories/{category.id}",
        data={
            "csrf": token,
            "name_en": category.name_en,
            "name_zh": category.name_zh,
            "retaliation": "1",
        },
        follow_redirects=False,
    )
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
    token = log_in(client, scene.admin, scene.clock)
    off = client.post(
        f"/admin/categories/{category.id}",
        data={
            "csrf": token,
            "name_en": category.name_en,
            "name_zh": category.name_zh,
            "active": "1",
        },
        follow_redirects=False,
    )

    assert off.status_code == 409, off.text
    assert _ids(app_db)[1].retaliation is True
    answer = _complain(client, scene)
    assert answer.status_code == 201, answer.text
    assert scene.officer in _complaint_holders(app_db)
