"""Every answer of a real API journey matches the schema the OpenAPI document gives for it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from sqlalchemy.orm import sessionmaker
from support.arrivals import list_arrivals
from support.staff_world import ZONE, Person, build_world

from cases.clock import FixedClock, floor_hour
from cases.db import unit_of_work
from cases.rewards.answers import release as release_answers

PASSWORD = "correct horse battery staple 7"


@dataclass
class Checked:
    """A TestClient that checks each answer against the document and records what it saw."""

    client: Any
    document: dict[str, Any]
    seen: set[tuple[str, str, int]] = field(default_factory=set)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.client.request(method, path, **kwargs)
        operation_id, described = self.described(method, path, answer.status_code)
        self.seen.add((operation_id, method, answer.status_code))
        content = described.get("content", {})
        media = answer.headers.get("content-type", "").split(";")[0]
        if answer.status_code == 204 or not answer.content:
            assert not content.get("application/json"), f"{operation_id}: no body, one described"
            return answer
        assert media in content, f"{operation_id} {answer.status_code}: {media} is not described"
        if media == "application/json":
            schema = self.resolved(content[media]["schema"])
            Draft202012Validator(schema).validate(answer.json())
        return answer

    def described(self, method: str, path: str, status: int) -> tuple[str, dict[str, Any]]:
        """The operation a request reaches and the response it documents for this status."""
        bare = path.split("?")[0]
        for template, item in self.document["paths"].items():
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
            if re.match(pattern, bare) and method.lower() in item:
                operation = item[method.lower()]
                responses = operation["responses"]
                assert str(status) in responses, (
                    f"{operation['operationId']} answered {status}, which the document does not "
                    f"list ({sorted(responses)})"
                )
                return operation["operationId"], responses[str(status)]
        raise AssertionError(f"{method} {bare} is not in the document")

    def resolved(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            return dict(self.document["components"]["schemas"][ref.rsplit("/", 1)[1]])
        return schema


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    clock = FixedClock()
    app.state.clock = clock
    with unit_of_work(app_db) as db:
        made = build_world(db, clock)
        people = {
            "ana": made.staff("ana@example.com", "investigator"),
            "cus": made.staff("cus@example.com", "custodian"),
            "dai": made.staff("dai@example.com", "reward_approver"),
            "fin": made.staff("fin@example.com", "finance"),
            "aud": made.staff("aud@example.com", "auditor"),
            "adm": made.staff("adm@example.com", "admin"),
        }
        ids = {"channel": made.channel.id, "category": made.category().id}
    return {"clock": clock, "ids": ids, "db": app_db, **people}


def staff_token(api: Checked, person: Person, clock: FixedClock) -> dict[str, str]:
    body = {"email": person.account.email, "password": PASSWORD, "totp": person.code(clock)}
    answer = api.call("POST", "/api/v1/staff/session", json=body)
    assert answer.status_code == 200, answer.text
    clock.advance(seconds=30)
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def _file_and_talk(api: Checked, ids: dict[str, str]) -> dict[str, str]:
    """The reporter's half: channels, filing, the session, a message, a file."""
    assert api.call("GET", "/api/v1/channels").status_code == 200
    assert api.call("GET", f"/api/v1/channels/{ids['channel']}/recipients").status_code == 200
    report = {
        "channel": ids["channel"],
        "category": ids["category"],
        "summary": "Orders diverted to a competitor",
        "details": "Sales rep Wang moved the Acme order to a rival on 1 March.",
        "subjects": [{"name": "Wang Wei"}],
        "identity": {"name": "Li Hua", "contact": "li@example.com"},
    }
    filed = api.call("POST", "/api/v1/reports", json=report)
    assert filed.status_code == 201, filed.text
    session = api.call(
        "POST", "/api/v1/reporter/session", json={"receipt": filed.json()["receipt"]}
    )
    me = {"Authorization": f"Bearer {session.json()['token']}"}
    assert api.call("POST", "/api/v1/reporter/messages", headers=me, json={"body": "Hi"}).is_success
    upload = {"file": ("note.txt", b"the invoice numbers", "text/plain")}
    assert api.call("POST", "/api/v1/reporter/attachments", headers=me, files=upload).is_success
    return me


def _work_the_case(api: Checked, auth: dict[str, str]) -> str:
    """The investigator's half: list, read, reply, note, move, and the access actions."""
    case_id: str = api.call("GET", "/api/v1/cases", headers=auth).json()["items"][0]["id"]
    case = f"/api/v1/cases/{case_id}"
    assert api.call("GET", case, headers=auth).status_code == 200
    assert api.call("POST", f"{case}/messages", headers=auth, json={"body": "Thanks"}).is_success
    assert api.call("POST", f"{case}/notes", headers=auth, json={"body": "Check"}).is_success
    for status, extra in (
        ("acknowledged", {}),
        ("investigating", {}),
        ("concluded", {"outcome": "substantiated"}),
    ):
        move = {"status": status, "reason": "Next step", **extra}
        assert api.call("POST", f"{case}/transition", headers=auth, json=move).is_success
    bodies = {
        "subjects": {"name": "Zhao Lei"},
        "risk": {"likelihood": "low", "who": "the sales director", "measures": "none yet"},
        "measures": {"description": "Keep the reporter's shift", "follow_up_on": "2099-01-01"},
        "disclosures": {"reason": "We need to ask the reporter about the invoices."},
    }
    for name, sent in bodies.items():
        assert api.call("POST", f"{case}/{name}", headers=auth, json=sent).is_success
    for name in ("subjects", "protection", "items", "disclosures", "rewards"):
        assert api.call("GET", f"{case}/{name}", headers=auth).status_code == 200
    item = api.call("GET", f"{case}/items", headers=auth).json()["items"][0]
    mask = {"start": 0, "end": 1}
    assert api.call("POST", f"{case}/items/{item['id']}/masks", headers=auth, json=mask).is_success
    return case_id


def test_every_answer_of_a_journey_matches_its_documented_schema(
    client: Any, world: dict[str, Any]
) -> None:
    """Reporter, investigator, custodian, rewards and audit answers validate; errors too."""
    document = client.get("/api/v1/openapi.json").json()
    api = Checked(client, document)
    clock = world["clock"]
    me = _file_and_talk(api, world["ids"])
    list_arrivals(world["db"], clock)  # the jobs round lists the case and file at their hour
    ana = staff_token(api, world["ana"], clock)
    case_id = _work_the_case(api, ana)
    case = f"/api/v1/cases/{case_id}"

    cus = staff_token(api, world["cus"], clock)
    pending = api.call("GET", "/api/v1/disclosures", headers=cus).json()["items"]
    decision = {"decision": "approve", "reason": "Needed to protect the reporter."}
    api.call("POST", f"/api/v1/disclosures/{pending[0]['id']}/decision", headers=cus, json=decision)
    api.call("GET", f"{case}/identity", headers=ana)

    dai, fin, aud = (staff_token(api, world[n], clock) for n in ("dai", "fin", "aud"))
    proposal = {"recovered_loss": "300000", "exclusions_checked": True}
    reward = api.call("POST", f"{case}/rewards", headers=ana, json=proposal).json()
    api.call("GET", "/api/v1/rewards/queue", headers=dai)
    api.call(
        "POST", f"/api/v1/rewards/{reward['id']}/decision", headers=dai, json={"approve": True}
    )
    api.call("GET", "/api/v1/reporter/reward", headers=me)
    api.call("GET", "/api/v1/reporter/report", headers=me)
    payout = {"name": "Li Hua", "account": "CN00 1234", "contact": "li@example.com"}
    api.call("POST", "/api/v1/reporter/reward/accept", headers=me, json=payout)
    # Staff see the acceptance from the next full hour, when the jobs round releases it.
    clock.current = floor_hour(clock.current) + timedelta(hours=1)
    with unit_of_work(world["db"]) as db:
        release_answers(db, clock.now(), ZONE)
    ana, fin, aud = (staff_token(api, world[n], clock) for n in ("ana", "fin", "aud"))
    api.call("GET", "/api/v1/rewards/payouts", headers=fin)
    api.call(
        "POST", f"/api/v1/rewards/{reward['id']}/payment", headers=fin, json={"reference": "B1"}
    )
    for who in (fin, aud):
        api.call("GET", "/api/v1/rewards/ledger", headers=who)
    for name in ("audit/entries", "audit/verify", "audit/statistics"):
        api.call("GET", f"/api/v1/{name}", headers=aud)

    # Refusals answer the Error shape, under a status the document lists.
    api.call("GET", "/api/v1/cases/no-such-case", headers=ana)
    api.call("POST", "/api/v1/reports", json={"channel": 5})
    api.call("POST", "/api/v1/reports", content=b"x", headers={"content-type": "text/plain"})
    api.call("DELETE", "/api/v1/reporter/session", headers=me)
    api.call("DELETE", "/api/v1/staff/session", headers=ana)

    answered = {(operation, status) for operation, _method, status in api.seen}
    assert {
        ("fileReport", 201),
        ("getReporterReport", 200),
        ("getCase", 200),
        ("transitionCase", 200),
        ("decideDisclosure", 200),
        ("getCaseIdentity", 200),
        ("acceptReporterReward", 200),
        ("recordRewardPayment", 201),
        ("getRewardLedger", 200),
        ("getCaseStatistics", 200),
        ("getCase", 404),
        ("fileReport", 422),
        ("fileReport", 415),
    } <= answered
    assert len({operation for operation, _status in answered}) >= 35


def test_the_checker_refuses_an_answer_its_schema_does_not_allow(client: Any) -> None:
    """The validation above can fail: a filed report without its receipt is refused."""
    document = client.get("/api/v1/openapi.json").json()
    api = Checked(client, document)
    _operation, described = api.described("POST", "/api/v1/reports", 201)
    schema = api.resolved(described["content"]["application/json"]["schema"])
    validator = Draft202012Validator(schema)

    validator.validate(
        {"receipt": "R", "acknowledge_by": "2026-03-09", "feedback_by": "2026-06-01"}
    )
    with pytest.raises(ValidationError):
        validator.validate({"acknowledge_by": "2026-03-09", "feedback_by": "2026-06-01"})
    with pytest.raises(AssertionError, match="does not list"):
        api.described("POST", "/api/v1/reports", 418)
