"""What the schema fuzzer found, pinned: each finding stays fixed without waiting for the fuzzer.

- A multipart body the parser cannot read was a 500; it is a 400 with the JSON error shape.
- The CSV ledger was documented as JSON; the document now says text/csv, as the server sends.
- A number where the document says string was silently dropped (a subject was added without
  the employee id sent); such a field is now refused with a 422 and nothing is stored.
"""

from __future__ import annotations

from typing import Any

import pytest
from support.staff_http import app_world
from support.staff_world import build_world

from cases.clock import FixedClock
from cases.db import unit_of_work
from cases.reports.models import CaseSubject

BOUNDARY = "8f3b8abe83094b0760c4b2f1fcc7d358"
# What schemathesis sent: a boundary line followed by JSON where part headers should be.
MALFORMED = f"--{BOUNDARY}\r\n[1, true, {{}}]--{BOUNDARY}--\r\n".encode()


def reporter_auth(client: Any) -> dict[str, str]:
    channel = client.get("/api/v1/channels").json()[0]
    report = {
        "channel": channel["id"],
        "category": channel["categories"][0]["id"],
        "summary": "Orders diverted",
        "details": "To a rival",
    }
    filed = client.post("/api/v1/reports", json=report)
    assert filed.status_code == 201, filed.text
    login = client.post("/api/v1/reporter/session", json={"receipt": filed.json()["receipt"]})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['token']}"}


@pytest.mark.parametrize(
    "body",
    [MALFORMED, f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\n".encode() + b"\xff" * 9],
    ids=["json-instead-of-headers", "truncated"],
)
def test_unreadable_multipart_upload_is_a_400_not_a_500(
    client: Any, app_db: Any, body: bytes
) -> None:
    """A reporter's upload the multipart parser cannot read is a 400 error, never a 500."""
    with unit_of_work(app_db) as db:
        build_world(db, FixedClock()).staff("ina@example.com", "investigator", enrol=False)
    headers = {
        **reporter_auth(client),
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
    }

    answer = client.post("/api/v1/reporter/attachments", headers=headers, content=body)

    assert answer.status_code == 400, answer.text
    assert set(answer.json()) >= {"error", "message"}


def test_csv_ledger_is_documented_as_the_csv_it_is(client: Any, app: Any, app_db: Any) -> None:
    """The ledger export's documented success content type is the one the server answers."""
    with app_world(app, app_db) as world:
        clock = world.clock
        finance = world.staff("fay@example.com", "finance")
    body = {
        "email": finance.account.email,
        "password": finance.password,
        "totp": finance.code(clock),
    }
    token = client.post("/api/v1/staff/session", json=body).json()["token"]

    document = client.get("/api/v1/openapi.json").json()
    declared = document["paths"]["/api/v1/rewards/ledger.csv"]["get"]["responses"]["200"]
    answer = client.get("/api/v1/rewards/ledger.csv", headers={"Authorization": f"Bearer {token}"})

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].split(";")[0] == "text/csv"
    assert list(declared["content"]) == ["text/csv"]


def test_a_number_for_a_text_field_is_refused_not_dropped(
    client: Any, app: Any, app_db: Any
) -> None:
    """An employee id sent as a number is a 422 naming the field; no subject is added."""
    with app_world(app, app_db) as world:
        db, clock = world.db, world.clock
        ina = world.staff("ina@example.com", "investigator")
        case_id = world.file().case.id
    body = {"email": ina.account.email, "password": ina.password, "totp": ina.code(clock)}
    token = client.post("/api/v1/staff/session", json=body).json()["token"]
    with unit_of_work(app_db) as db:
        before = db.query(CaseSubject).filter_by(case_id=case_id).count()

    answer = client.post(
        f"/api/v1/cases/{case_id}/subjects",
        headers={"Authorization": f"Bearer {token}"},
        json={"name": "Li Na", "employee_id": 6946322},
    )

    with unit_of_work(app_db) as db:
        after = db.query(CaseSubject).filter_by(case_id=case_id).count()
    assert answer.status_code == 422, answer.text
    assert answer.json()["fields"] == {"employee_id": "invalid"}
    assert after == before


@pytest.mark.parametrize("before", [True, False])
def test_keep_names_outside_its_enum_is_refused_and_keeps_no_file(
    client: Any, app_db: Any, before: bool
) -> None:
    """`keep_names` other than yes/no is a 422, sent before or after the file, and the file
    is not kept (the fuzzer found it accepted when the field came after the file)."""
    with unit_of_work(app_db) as db:
        build_world(db, FixedClock()).staff("ina@example.com", "investigator", enrol=False)
    auth = reporter_auth(client)
    fields = [("keep_names", (None, "__not_in_enum__")), ("file", ("a.txt", b"hello"))]

    answer = client.post(
        "/api/v1/reporter/attachments",
        headers=auth,
        files=fields if before else fields[::-1],
    )
    listed = client.get("/api/v1/reporter/report", headers=auth).json()["attachments"]

    assert answer.status_code == 422, answer.text
    assert listed == []
