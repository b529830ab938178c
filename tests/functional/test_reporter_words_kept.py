"""Over HTTP: an investigator on the case (the HR head, on the accused's side) cannot destroy
what the reporter wrote, nor take a colleague's reply out of the reporter's sight, by
redacting it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from support.arrivals import list_arrivals
from support.reporter_http import login
from support.staff_http import app_world, bearer, log_in

from cases.access.redaction import MASK_MARK, REDACTED_MARK
from cases.audit.models import AuditEntry
from cases.db import unit_of_work
from cases.reports.models import Case
from portal.jobs import JobConfig, JobRunner

WORDS = "Wang Wei told me on Friday to move the Acme order to Rival Ltd."
REPLY = "Thank you. We have found the transfer order and are looking into it."


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    """Two investigators of the channel: Hana (the HR head) and Bo."""
    with app_world(app, app_db) as made:
        hana = made.staff("hana@corp.example", "investigator", name="Hana")
        bo = made.staff("bo@corp.example", "investigator", name="Bo")
        category = made.category("order-diversion")
        ids = {"channel": made.channel.id, "category": category.id}
    return {"app": app, "clock": made.clock, "hana": hana, "bo": bo, "ids": ids}


def _conversation(client: Any, app_db: sessionmaker[Any], world: dict[str, Any]) -> str:
    """A report filed over the API, then a message from its reporter, released at its hour
    by the jobs round: the receipt."""
    body = {**world["ids"], "summary": "Order diverted", "details": "See my message."}
    filed = client.post(
        "/api/v1/reports", json={**body, "subjects": [], "exclude": [], "identity": None}
    )
    assert filed.status_code == 201, filed.text
    receipt = str(filed.json()["receipt"])
    list_arrivals(app_db, world["clock"])
    sent = client.post(
        "/api/v1/reporter/messages", json={"body": WORDS}, headers=login(client, receipt)
    )
    assert sent.status_code == 201, sent.text
    world["clock"].advance(hours=1)
    JobRunner(app_db, world["clock"], JobConfig.of(world["app"].state.settings)).run_once()
    return receipt


def _case_id(app_db: sessionmaker[Any]) -> str:
    with unit_of_work(app_db) as db:
        return str(db.scalars(select(Case.id)).one())


def _item(client: Any, case_id: str, headers: dict[str, str], author: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/cases/{case_id}/items", headers=headers)
    assert answer.status_code == 200, answer.text
    item: dict[str, Any] = next(i for i in answer.json()["items"] if i["author"] == author)
    return item


def _reporter_messages(client: Any, receipt: str) -> list[str]:
    answer = client.get("/api/v1/reporter/report", headers=login(client, receipt))
    assert answer.status_code == 200, answer.text
    return [m["body"] for m in answer.json()["messages"]]


def _entries(app_db: sessionmaker[Any], action: str) -> int:
    with unit_of_work(app_db) as db:
        return len(list(db.scalars(select(AuditEntry.seq).where(AuditEntry.action == action))))


def test_an_investigator_cannot_erase_a_reporters_message(
    client: Any, app_db: sessionmaker[Any], world: dict[str, Any]
) -> None:
    """Hana redacts the reporter's whole message, then a single word of it, over the API and
    the page's form: each is refused (409) and changes nothing; the reporter still reads
    their words, and so does Bo."""
    receipt = _conversation(client, app_db, world)
    case_id = _case_id(app_db)
    hana = bearer(client, world["hana"], world["clock"])
    item = _item(client, case_id, hana, "reporter")
    url = f"/api/v1/cases/{case_id}/items/{item['id']}/redact"

    whole = client.post(url, headers=hana, json={"start": 0, "end": len(WORDS)})
    word = client.post(url, headers=hana, json={"text": "Rival Ltd"})
    bo = _item(client, case_id, bearer(client, world["bo"], world["clock"]), "reporter")

    assert whole.status_code == 409, whole.text
    assert whole.json()["error"] == "reporter_words"
    assert word.status_code == 409, word.text
    assert bo["body"] == WORDS
    assert not bo["redacted"]
    assert _reporter_messages(client, receipt) == [WORDS]
    assert _entries(app_db, "item.redacted") == 0


def test_the_access_page_offers_no_redaction_of_a_reporters_message(
    client: Any, app_db: sessionmaker[Any], world: dict[str, Any]
) -> None:
    """The page has no redaction form for the reporter's message (it says why), and its form
    posted by hand is refused and deletes nothing."""
    receipt = _conversation(client, app_db, world)
    case_id = _case_id(app_db)
    item = _item(client, case_id, bearer(client, world["hana"], world["clock"]), "reporter")
    token = log_in(client, world["hana"], world["clock"])

    page = client.get(f"/staff/cases/{case_id}/access", headers={"Accept-Language": "en"})
    posted = client.post(
        f"/staff/cases/{case_id}/items/{item['id']}/redact",
        data={"csrf": token, "text": "Rival Ltd"},
        follow_redirects=False,
    )

    assert page.status_code == 200
    assert f"/items/{item['id']}/redact" not in page.text
    assert f"/items/{item['id']}/masks" in page.text
    assert "never deleted" in page.text
    assert posted.status_code == 409, posted.text
    assert _reporter_messages(client, receipt) == [WORDS]


def test_a_redacted_staff_reply_still_reaches_the_reporter(
    client: Any, app_db: sessionmaker[Any], world: dict[str, Any]
) -> None:
    """Bo answers the reporter; Hana redacts one word of Bo's reply. The reporter still reads
    the reply, with the redaction mark where the word was (on the code before, the whole
    message vanished from the reporter's page and API)."""
    receipt = _conversation(client, app_db, world)
    case_id = _case_id(app_db)
    bo = bearer(client, world["bo"], world["clock"])
    answered = client.post(f"/api/v1/cases/{case_id}/messages", headers=bo, json={"body": REPLY})
    assert answered.status_code in {200, 201}, answered.text
    hana = bearer(client, world["hana"], world["clock"])
    item = _item(client, case_id, hana, "staff")

    redacted = client.post(
        f"/api/v1/cases/{case_id}/items/{item['id']}/redact",
        headers=hana,
        json={"text": "transfer order"},
    )

    assert redacted.status_code == 200, redacted.text
    assert _reporter_messages(client, receipt) == [
        WORDS,
        REPLY.replace("transfer order", REDACTED_MARK),
    ]


def test_a_mask_on_the_reporters_words_lapses_when_its_author_leaves_the_case(
    client: Any, app_db: sessionmaker[Any], world: dict[str, Any]
) -> None:
    """Hana masks the reporter's whole message, then recuses: nobody could ever lift her mask
    again (only its author may), so it lapses and Bo reads the reporter's words on the API,
    the items list and the page (on the code before, "▒▒▒" for good)."""
    _conversation(client, app_db, world)
    case_id = _case_id(app_db)
    hana = bearer(client, world["hana"], world["clock"])
    item = _item(client, case_id, hana, "reporter")
    masked = client.post(
        f"/api/v1/cases/{case_id}/items/{item['id']}/masks",
        headers=hana,
        json={"start": 0, "end": len(WORDS)},
    )
    bo = bearer(client, world["bo"], world["clock"])
    while_there = _item(client, case_id, bo, "reporter")["body"]

    recused = client.post(f"/api/v1/cases/{case_id}/recusal", headers=hana, json={})
    case = client.get(f"/api/v1/cases/{case_id}", headers=bo)
    items = _item(client, case_id, bo, "reporter")
    log_in(client, world["bo"], world["clock"])
    page = client.get(f"/staff/cases/{case_id}")

    assert masked.status_code == 201, masked.text
    assert while_there == MASK_MARK
    assert recused.status_code == 200, recused.text
    assert [m["body"] for m in case.json()["messages"]] == [WORDS]
    assert items["body"] == WORDS
    assert WORDS in page.text
