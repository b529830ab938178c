"""Over HTTP: an investigator named only in a report's text (filed through the API) gets 404
on the case and no key; a colleague sees the candidate, labelled, on the access page."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from support.arrivals import list_arrivals
from support.reporter_http import fields, form_tokens, login
from support.staff_http import app_world, bearer, log_in
from support.staff_world import Person

from cases.db import unit_of_work
from cases.reports.models import Case, KeyWrap
from portal.jobs import JobConfig, JobRunner


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    with app_world(app, app_db) as made:
        zhang = made.staff("zw@corp.example", "investigator", name="张伟")
        ana = made.staff("ana@corp.example", "investigator", name="Ana")
        category = made.category("order-diversion")
        ids = {"channel": made.channel.id, "category": category.id}
    return {"clock": made.clock, "zhang": zhang, "ana": ana, "ids": ids}


def _file(client: Any, app_db: sessionmaker[Any], ids: dict[str, str], details: str) -> str:
    with unit_of_work(app_db) as db:
        before = set(db.scalars(select(Case.id)))
    body = {**ids, "summary": "订单", "details": details, "subjects": [], "exclude": []}
    answer = client.post("/api/v1/reports", json={**body, "identity": None})
    assert answer.status_code == 201, answer.text
    list_arrivals(app_db, getattr(client.app.state, "clock", None))  # listed at its hour
    with unit_of_work(app_db) as db:
        (case_id,) = set(db.scalars(select(Case.id))) - before
    return case_id


def _holds_key(app_db: sessionmaker[Any], person: Person, case_id: str) -> bool:
    with unit_of_work(app_db) as db:
        stmt = select(KeyWrap.id).where(
            KeyWrap.case_id == case_id, KeyWrap.staff_id == person.account.id
        )
        return db.scalars(stmt).first() is not None


@pytest.mark.parametrize(
    "details",
    [
        "销售总监张伟让我把订单转给另一家公司。",
        "last week wei zhang told me to move the order.",
        # Traditional characters, a name run together, the account's e-mail.
        "銷售總監張偉讓我把訂單轉給另一家公司。",
        "ZhangWei told me to move the order.",
        "the order was moved after ZW@corp.example approved it.",
    ],
)
def test_an_account_named_only_in_the_details_gets_404_and_no_key(
    client: Any, app_db: sessionmaker[Any], world: dict[str, Any], details: str
) -> None:
    """张伟, named inside a title, as "wei zhang", in traditional characters, run together or
    by his e-mail, cannot open the case on the API or the page."""
    case_id = _file(client, app_db, world["ids"], details)
    headers = bearer(client, world["zhang"], world["clock"])

    api = client.get(f"/api/v1/cases/{case_id}", headers=headers)
    log_in(client, world["zhang"], world["clock"])
    page = client.get(f"/staff/cases/{case_id}")

    assert api.status_code == 404
    assert page.status_code == 404
    assert not _holds_key(app_db, world["zhang"], case_id)
    assert _holds_key(app_db, world["ana"], case_id)


def test_the_access_page_says_the_name_was_in_the_report_text(
    client: Any, app_db: sessionmaker[Any], world: dict[str, Any]
) -> None:
    """A colleague sees the text candidate, marked to confirm, in English and in Chinese."""
    case_id = _file(client, app_db, world["ids"], "销售总监张伟让我把订单转给另一家公司。")
    log_in(client, world["ana"], world["clock"])

    english = client.get(f"/staff/cases/{case_id}/access", headers={"Accept-Language": "en"})
    chinese = client.get(f"/staff/cases/{case_id}/access", headers={"Accept-Language": "zh-CN"})

    [row] = english.context["subjects"]
    assert (row.name, row.matched_by, row.entry_name) == ("张伟", "text", "张伟")
    assert "needs confirming: named in the report text" in english.text
    assert "待确认：在举报正文中被提及" in chinese.text


def test_a_later_message_naming_an_investigator_closes_the_case_to_them_at_the_hour(
    client: Any, app: Any, app_db: sessionmaker[Any], world: dict[str, Any]
) -> None:
    """Over HTTP: a report naming nobody reaches 张伟; the reporter then writes that 张伟 covers
    for the accused. Until the jobs round of the next hour 张伟 still has the case (without the
    message); after it, 404 on the API and the page, and no key; Ana reads the message."""
    clock = world["clock"]
    clock.advance(minutes=20)
    case_id, receipt = _filed_receipt(client, app_db, world["ids"])
    reporter = login(client, receipt)
    words = "张伟一直在帮他隐瞒这件事。"
    zhang = bearer(client, world["zhang"], clock)
    assert client.get(f"/api/v1/cases/{case_id}", headers=zhang).status_code == 200

    sent = client.post("/api/v1/reporter/messages", json={"body": words}, headers=reporter)
    still = client.get(f"/api/v1/cases/{case_id}", headers=zhang)
    clock.advance(hours=1)
    config = JobConfig.of(app.state.settings)
    JobRunner(app_db, clock, config).run_once()
    zhang = bearer(client, world["zhang"], clock)
    after = client.get(f"/api/v1/cases/{case_id}", headers=zhang)
    ana = client.get(f"/api/v1/cases/{case_id}", headers=bearer(client, world["ana"], clock))

    assert sent.status_code == 201
    assert still.status_code == 200
    assert words not in still.text
    assert after.status_code == 404
    assert not _holds_key(app_db, world["zhang"], case_id)
    assert words in ana.text


def _filed_receipt(client: Any, app_db: sessionmaker[Any], ids: dict[str, str]) -> tuple[str, str]:
    """File through the API a report that names nobody: (case id, receipt)."""
    with unit_of_work(app_db) as db:
        before = set(db.scalars(select(Case.id)))
    body = {**ids, "summary": "订单", "details": "上个月的订单被转给了竞争对手。"}
    answer = client.post(
        "/api/v1/reports", json={**body, "subjects": [], "exclude": [], "identity": None}
    )
    assert answer.status_code == 201, answer.text
    list_arrivals(app_db, getattr(client.app.state, "clock", None))  # listed at its hour
    with unit_of_work(app_db) as db:
        (case_id,) = set(db.scalars(select(Case.id))) - before
    return case_id, str(answer.json()["receipt"])


def test_a_file_named_after_an_investigator_keeps_the_case_from_him(
    client: Any, app_db: sessionmaker[Any], world: dict[str, Any]
) -> None:
    """A report whose words name nobody, filed on the form with "张伟报销单.txt", its name
    kept for staff: 张伟 gets 404 and no key; the neutral investigator holds it."""
    with unit_of_work(app_db) as db:
        before = set(db.scalars(select(Case.id)))
    form = {
        **fields(world["ids"], form_tokens(client)),
        "details": "订单被转走了，见附件。",
        "subject_name": [""],
        "subject_id": [""],
        "keep_names": "yes",
    }
    files = [("files", ("张伟报销单.txt", io.BytesIO(b"expense claims"), "text/plain"))]

    answer = client.post("/report", data=form, files=files, follow_redirects=False)
    with unit_of_work(app_db) as db:
        (case_id,) = set(db.scalars(select(Case.id))) - before
    list_arrivals(app_db, getattr(client.app.state, "clock", None))  # listed at its hour
    headers = bearer(client, world["zhang"], world["clock"])

    assert answer.status_code == 303
    assert client.get(f"/api/v1/cases/{case_id}", headers=headers).status_code == 404
    assert not _holds_key(app_db, world["zhang"], case_id)
    assert _holds_key(app_db, world["ana"], case_id)


def test_a_later_file_named_after_an_investigator_closes_the_case_to_him_at_its_hour(
    client: Any, app: Any, app_db: sessionmaker[Any], world: dict[str, Any]
) -> None:
    """Over HTTP: a report naming nobody reaches 张伟; the reporter later adds "张伟报销单.txt",
    keeping its name. At the jobs round of the file's hour 张伟 loses the case (404, no key)
    before the file is listed, so he never sees its name; Ana sees the file by that name."""
    clock = world["clock"]
    clock.advance(minutes=20)
    case_id, receipt = _filed_receipt(client, app_db, world["ids"])
    reporter = login(client, receipt)
    zhang = bearer(client, world["zhang"], clock)
    assert client.get(f"/api/v1/cases/{case_id}", headers=zhang).status_code == 200

    upload = {
        "keep_names": (None, "yes"),
        "file": ("张伟报销单.txt", io.BytesIO(b"expense claims"), "text/plain"),
    }
    added = client.post("/api/v1/reporter/attachments", headers=reporter, files=upload)
    still = client.get(f"/api/v1/cases/{case_id}", headers=zhang)
    clock.advance(hours=1)
    JobRunner(app_db, clock, JobConfig.of(app.state.settings)).run_once()
    zhang = bearer(client, world["zhang"], clock)
    after = client.get(f"/api/v1/cases/{case_id}", headers=zhang)
    ana = client.get(f"/api/v1/cases/{case_id}", headers=bearer(client, world["ana"], clock))

    assert added.status_code == 201, added.text
    assert still.status_code == 200
    assert "张伟报销单" not in still.text
    assert after.status_code == 404
    assert not _holds_key(app_db, world["zhang"], case_id)
    assert [f["name"] for f in ana.json()["attachments"]] == ["张伟报销单.txt"]
