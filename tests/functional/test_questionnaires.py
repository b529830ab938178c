"""Questionnaires over HTTP: admins publish versions, reporters answer (form, API), staff read."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from support.arrivals import list_arrivals
from support.questionnaires import clear_holders, csrf, every_kind, log_in
from support.staff_world import Person, build_world

from cases.clock import FixedClock
from cases.db import unit_of_work
from cases.questionnaires.models import QuestionnaireVersion
from cases.reports.models import Case

ONCE = re.compile(r'name="once" value="([^"]+)"')


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    clock = FixedClock()
    app.state.clock = clock
    with unit_of_work(app_db) as db:
        made = build_world(db, clock)
        boss = made.staff("boss@example.com", "admin")
        ana = made.staff("ana@example.com")
        bob = made.staff("bob@example.com")
        ids = every_kind(made, boss, db, clock)
        channel, category = made.channel.id, made.category().id
    return {
        "clock": clock,
        "boss": boss,
        "ana": ana,
        "bob": bob,
        "ids": ids,
        "channel": channel,
        "category": category,
        "db": app_db,
    }


def body(world: dict[str, Any], answers: Any = None, **extra: Any) -> dict[str, Any]:
    ids = world["ids"]
    if answers is None:
        answers = {ids["date"]: "2026-03-01"}
    return {
        "channel": world["channel"],
        "category": world["category"],
        "summary": "Orders diverted",
        "details": "The Acme order went to a rival.",
        "answers": answers,
        **extra,
    }


def bearer(client: Any, person: Person, world: dict[str, Any]) -> dict[str, str]:
    login = {
        "email": person.account.email,
        "password": person.password,
        "totp": person.code(world["clock"]),
    }
    token = client.post("/api/v1/staff/session", json=login).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def case_json(client: Any, person: Person, world: dict[str, Any]) -> Any:
    list_arrivals(world["db"], world["clock"])  # the jobs round lists the cases at their hour
    headers = bearer(client, person, world)
    with unit_of_work(world["db"]) as db:
        case_id = db.scalars(select(Case.id).order_by(Case.reference)).all()
    return [client.get(f"/api/v1/cases/{cid}", headers=headers) for cid in case_id]


def test_channels_list_the_questions_with_both_wordings(client: Any, world: dict[str, Any]) -> None:
    """GET /api/v1/channels gives each question's id, type, required, choices and wordings."""
    channels = client.get("/api/v1/channels").json()

    questions = {q["id"]: q for q in channels[0]["questions"]}
    single = questions[world["ids"]["single_choice"]]
    assert single["type"] == "single_choice"
    assert single["label"] == {"en": "Source?", "zh_CN": "来源？"}
    assert single["choices"][1] == {"id": "2", "label": {"en": "Heard", "zh_CN": "听说"}}
    assert questions[world["ids"]["date"]]["required"] is True
    assert questions[world["ids"]["date"]]["category"] is None


def test_seeded_diversion_questions_are_listed(client: Any, app_db: sessionmaker[Any]) -> None:
    """A fresh install asks about diverted orders: customer, competitor, value, when, how known."""
    channel = client.get("/api/v1/channels").json()[0]

    diversion = next(c["id"] for c in channel["categories"] if "competitor" in c["name"])
    seeded = {q["id"]: q for q in channel["questions"]}
    assert list(seeded) == [
        "diversion-customer",
        "diversion-competitor",
        "diversion-value",
        "diversion-when",
        "diversion-source",
        "diversion-source-details",
    ]
    assert {q["category"] for q in seeded.values()} == {diversion}
    assert seeded["diversion-value"]["type"] == "amount"
    assert not any(q["required"] for q in seeded.values())


@pytest.mark.parametrize(
    ("kind", "value", "code"),
    [
        ("date", None, "required"),
        ("date", "2026-02-30", "invalid_date"),
        ("date", "1/3/2026", "invalid_date"),
        ("single_choice", "9", "invalid_choice"),
        ("multiple_choice", ["1", "7"], "invalid_choice"),
        ("amount", {"amount": "12abc", "currency": "CNY"}, "invalid_amount"),
        ("amount", {"amount": "1200", "currency": "XQZ"}, "invalid_currency"),
        ("yes_no", "maybe", "invalid"),
        ("short_text", "x" * 201, "too_long"),
        ("long_text", True, "invalid"),
    ],
)
def test_api_refuses_each_bad_answer_by_field(
    client: Any, world: dict[str, Any], kind: str, value: Any, code: str
) -> None:
    """A bad answer is a 422 naming answers.<id> with its code, and nothing is filed."""
    qid = world["ids"][kind]
    answers = {world["ids"]["date"]: "2026-03-01"}
    if value is None:
        answers.pop(qid)
    else:
        answers[qid] = value

    answer = client.post("/api/v1/reports", json=body(world, answers))

    assert answer.status_code == 422
    assert answer.json()["fields"] == {f"answers.{qid}": code}
    with unit_of_work(world["db"]) as db:
        assert db.scalars(select(Case)).first() is None


def test_api_refuses_unknown_questions_and_bad_shapes(client: Any, world: dict[str, Any]) -> None:
    """An id the questionnaire lacks, or answers that are not an object, are refused."""
    unknown = client.post("/api/v1/reports", json=body(world, {"nope": "x"}))
    shaped = client.post("/api/v1/reports", json=body(world, ["x"]))

    assert unknown.status_code == 422
    assert unknown.json()["fields"]["answers.nope"] == "unknown_question"
    assert shaped.status_code == 422
    assert shaped.json()["fields"] == {"answers": "invalid"}


def test_required_questions_bind_api_clients_too(client: Any, world: dict[str, Any]) -> None:
    """A client that sends no answers files while nothing is required, and is told otherwise."""
    old_client = body(world)
    del old_client["answers"]

    refused = client.post("/api/v1/reports", json=old_client)
    with unit_of_work(world["db"]) as db:
        db.execute(update(QuestionnaireVersion).values(questions="[]"))
    accepted = client.post("/api/v1/reports", json=old_client)

    assert refused.status_code == 422
    assert refused.json()["fields"] == {f"answers.{world['ids']['date']}": "required"}
    assert accepted.status_code == 201


def test_every_kind_is_sealed_and_read_back_in_the_filed_wording(
    client: Any, world: dict[str, Any], engine: Engine
) -> None:
    """Answers are stored sealed (no canary in clear anywhere) and an edit after filing changes
    neither the old case's wording nor its answers; the new case gets the new wording."""
    ids = world["ids"]
    answers = {
        ids["short_text"]: "CANARYCUSTOMER",
        ids["long_text"]: "CANARYHOW",
        ids["single_choice"]: "2",
        ids["multiple_choice"]: ["1", "2"],
        ids["date"]: "2026-03-01",
        ids["amount"]: {"amount": "120,000.50", "currency": "usd"},
        ids["yes_no"]: True,
    }
    first = client.post("/api/v1/reports", json=body(world, answers))
    log_in(client, world["boss"], world["clock"])
    edit = f"/admin/channels/{world['channel']}/questions/{ids['short_text']}"
    saved = client.post(
        edit,
        data={
            "csrf": csrf(client, edit),
            "kind": "short_text",
            "label_en": "Which customer exactly?",
            "label_zh": "具体是哪个客户？",
        },
        follow_redirects=False,
    )
    second = client.post("/api/v1/reports", json=body(world, {ids["date"]: "2026-03-02"}))

    old, new = sorted(
        (r.json() for r in case_json(client, world["ana"], world)),
        key=lambda c: c["questionnaire"]["version"],
    )
    assert first.status_code == second.status_code == 201
    assert saved.status_code == 303
    assert clear_holders(engine, ["CANARYCUSTOMER", "CANARYHOW"]) == []
    shown = {a["question"]: a for a in old["questionnaire"]["answers"]}
    assert shown[ids["short_text"]]["label"]["en"] == "Customer?"
    assert shown[ids["short_text"]]["value"] == "CANARYCUSTOMER"
    assert shown[ids["amount"]]["value"] == {"amount": "120000.50", "currency": "USD"}
    assert shown[ids["multiple_choice"]]["value"] == ["1", "2"]
    assert shown[ids["yes_no"]]["value"] is True
    assert old["questionnaire"] == {**old["questionnaire"], "version": 2, "altered": False}
    renamed = {a["question"]: a for a in new["questionnaire"]["answers"]}[ids["short_text"]]
    assert renamed["label"]["en"] == "Which customer exactly?"
    assert renamed["value"] is None


def test_an_excluded_investigator_cannot_read_the_answers(
    client: Any, world: dict[str, Any]
) -> None:
    """The person the reporter excluded gets 404; a colleague reads the answers."""
    ids = world["ids"]
    answers = {ids["date"]: "2026-03-01", ids["short_text"]: "Acme"}
    exclude = [world["bob"].account.id]
    filed = client.post("/api/v1/reports", json=body(world, answers, exclude=exclude))

    (hidden,) = case_json(client, world["bob"], world)
    (seen,) = case_json(client, world["ana"], world)

    assert filed.status_code == 201
    assert hidden.status_code == 404
    assert "Acme" not in hidden.text
    assert {a["value"] for a in seen.json()["questionnaire"]["answers"]} >= {"Acme"}


def test_a_version_changed_in_the_database_shows_as_altered(
    client: Any, world: dict[str, Any]
) -> None:
    """Rewording a stored version by hand does not pass silently: the case says altered."""
    client.post("/api/v1/reports", json=body(world))
    with unit_of_work(world["db"]) as db:
        row = db.scalars(select(QuestionnaireVersion).where(QuestionnaireVersion.number == 2)).one()
        row.questions = row.questions.replace("When?", "Did you leak it?")

    (case,) = case_json(client, world["ana"], world)

    assert case.json()["questionnaire"]["altered"] is True


def form_fields(client: Any, world: dict[str, Any], **answers: Any) -> dict[str, Any]:
    page = client.get("/report").text
    return {
        "csrf": re.findall(r'name="csrf" value="([0-9a-f]+)"', page)[0],
        "once": ONCE.findall(page)[0],
        "channel": world["channel"],
        "category": world["category"],
        "summary": "Orders diverted",
        "details": "The Acme order went to a rival.",
        "mode": "anonymous",
        "website": "",
        **{f"answers.{world['ids'][kind]}": value for kind, value in answers.items()},
    }


NO_FILE = [("files", ("", b"", "application/octet-stream"))]


def test_form_keeps_answers_on_refusal_then_files(client: Any, world: dict[str, Any]) -> None:
    """A refused form comes back with every answer typed and a message per bad answer; fixed,
    it files, and the reporter's status page shows their own answers."""
    ids = world["ids"]
    fields = form_fields(client, world, short_text="Acme Ltd", multiple_choice=["1", "2"])
    fields[f"answers.{ids['amount']}.amount"] = "12abc"
    fields[f"answers.{ids['amount']}.currency"] = "EUR"

    refused = client.post("/report", data=fields, files=NO_FILE)
    fields[f"answers.{ids['amount']}.amount"] = "12000"
    fields[f"answers.{ids['date']}"] = "2026-03-01"
    fields[f"answers.{ids['yes_no']}"] = "yes"
    filed = client.post("/report", data=fields, files=NO_FILE)
    receipt = filed.context["receipt"]
    client.post("/status", data={"csrf": fields["csrf"], "receipt": receipt})
    status = client.get("/status")

    assert refused.status_code == 422
    errors = refused.context["errors"]
    assert set(errors) == {f"answers.{ids['date']}", f"answers.{ids['amount']}"}
    assert 'value="Acme Ltd"' in refused.text
    assert 'value="12abc"' in refused.text
    assert re.search(r'value="2" checked', refused.text)
    assert re.search(r'<option value="EUR" selected', refused.text)
    assert filed.status_code == 200  # the receipt page, after the redirect
    assert "Acme Ltd" in status.text
    assert "12000 EUR" in status.text
    assert status.context["view"].answers.items


def test_admin_pages_add_move_delete_and_are_admin_only(client: Any, world: dict[str, Any]) -> None:
    """Admins add, reorder and delete questions by plain forms, each a new version; an
    investigator is refused the page and the API."""
    path = f"/admin/channels/{world['channel']}/questions"
    log_in(client, world["ana"], world["clock"])
    refused_page = client.get(path)
    client.cookies.clear()
    log_in(client, world["boss"], world["clock"])
    token = csrf(client, path)
    added = client.post(
        path,
        data={
            "csrf": token,
            "kind": "single_choice",
            "label_en": "Who else knows?",
            "label_zh": "还有谁知道？",
            "category": world["category"],
            "required": "1",
            "choices_en": "Nobody\nA colleague",
            "choices_zh": "没有人\n一位同事",
        },
        follow_redirects=False,
    )
    bad = client.post(
        path,
        data={
            "csrf": token,
            "kind": "multiple_choice",
            "label_en": "X",
            "label_zh": "",
            "choices_en": "One",
            "choices_zh": "一",
        },
    )
    with unit_of_work(world["db"]) as db:
        newest = db.scalars(
            select(QuestionnaireVersion).order_by(QuestionnaireVersion.number.desc())
        ).first()
    assert newest is not None
    qid = re.findall(r'"id":"([0-9a-f]{32})"', newest.questions)[-1]
    client.post(f"{path}/{qid}/move", data={"csrf": token, "move": "up"})
    client.post(f"{path}/{qid}/delete", data={"csrf": token})
    page = client.get(path)

    assert refused_page.status_code == 403
    assert added.status_code == 303
    assert bad.status_code == 422
    assert set(bad.context["errors"]) == {"label_zh", "choices_en"}
    assert page.status_code == 200
    assert [v.number for v in page.context["versions"]] == [5, 4, 3, 2, 1]
    assert "Who else knows?" not in page.text


def test_admin_api_replaces_the_list_as_a_new_version(client: Any, world: dict[str, Any]) -> None:
    """PUT publishes the whole list as the next version; GET reads it; others get 403."""

    def token(person: Person) -> dict[str, str]:
        return bearer(client, person, world)

    path = f"/api/v1/admin/channels/{world['channel']}/questionnaire"
    admin = token(world["boss"])
    keep = {
        "id": world["ids"]["date"],
        "type": "date",
        "label": {"en": "When exactly?", "zh_CN": "具体何时？"},
    }
    choice = {
        "type": "yes_no",
        "label": {"en": "Ongoing?", "zh_CN": "仍在发生？"},
        "required": True,
    }

    put = client.put(path, json={"questions": [keep, choice]}, headers=admin)
    got = client.get(path, headers=admin)
    bad = client.put(path, json={"questions": [{"type": "nope"}]}, headers=admin)
    other = client.get(path, headers=token(world["ana"]))

    assert put.status_code == 200
    assert put.json()["version"] == 3
    assert got.json()["questions"][0]["id"] == world["ids"]["date"]
    assert got.json()["questions"][0]["required"] is False
    assert got.json()["questions"][1]["type"] == "yes_no"
    assert bad.status_code == 422
    assert other.status_code == 403


def test_the_language_switch_keeps_answers(client: Any, world: dict[str, Any]) -> None:
    """Switching the form's language carries every typed answer over, in the other wording."""
    fields = form_fields(client, world, short_text="Acme Ltd", single_choice="2")

    switched = client.post("/report/language", data={**fields, "switch_lang": "zh-CN"})

    assert switched.status_code == 200
    assert 'value="Acme Ltd"' in switched.text
    assert re.search(r'value="2" checked', switched.text)
    assert "客户？" in switched.text


def test_the_reporter_api_shows_the_reporters_own_answers(
    client: Any, world: dict[str, Any]
) -> None:
    """The reporter's report (by receipt) carries their answers in the filed wording."""
    answers = {world["ids"]["date"]: "2026-03-01", world["ids"]["short_text"]: "Acme"}
    receipt = client.post("/api/v1/reports", json=body(world, answers)).json()["receipt"]
    token = client.post("/api/v1/reporter/session", json={"receipt": receipt}).json()["token"]

    report = client.get("/api/v1/reporter/report", headers={"Authorization": f"Bearer {token}"})

    part = report.json()["questionnaire"]
    shown = {a["label"]["en"]: a["value"] for a in part["answers"]}
    assert part["version"] == 2
    assert shown["Customer?"] == "Acme"
    assert shown["When?"] == "2026-03-01"
    assert shown["Still going?"] is None
