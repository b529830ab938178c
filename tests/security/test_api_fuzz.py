"""Schemathesis against /api/v1/openapi.json: anonymous, reporter and staff callers alike.

Every operation the document lists is sent generated requests (valid and invalid ones) with
each caller's bearer token; half of them name a real case, file, item, subject or channel
instead of a made-up id, so the authorised paths are reached too. No answer may be a 5xx;
every answer must be a status the document lists for that operation, with the documented
content type and body; invalid input is never accepted; and an operation that needs a token
never succeeds without one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient
from support import scorecard
from support.evidence import staff_upload
from support.staff_http import app_world, staff_token
from support.staff_world import SECRET, ZONE, Person, World

from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import FixedClock
from cases.reports.models import CaseItem, CaseSubject

# Minutes on a busy two-core machine: more than the suite-wide timeout allows a test.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

# ~60 operations x 2 modes x EXAMPLES generated requests, each sent by 7 callers: > 5,000.
EXAMPLES = 7
MINIMUM_REQUESTS = 5000
# Documented statuses, content types and bodies; invalid input never answered with a 2xx.
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Closing the session would end the caller's token for every operation after it: run last.
LOGOUTS = {"closeReporterSession", "closeStaffSession"}


@dataclass
class Tally:
    """What the fuzzer sent and what came back wrong."""

    requests: int = 0
    server_errors: int = 0
    failures: dict[str, str] = field(default_factory=dict)


def reporter_token(client: TestClient, channel: str, category: str) -> str:
    report = {"channel": channel, "category": category, "summary": "Fuzz", "details": "Fuzz"}
    filed = client.post("/api/v1/reports", json=report)
    assert filed.status_code == 201, filed.text
    login = client.post("/api/v1/reporter/session", json={"receipt": filed.json()["receipt"]})
    assert login.status_code == 200, login.text
    token: str = login.json()["token"]
    return token


Seeded = tuple[World, dict[str, str], dict[str, Person]]


def seed(app: Any, app_db: sessionmaker[Session]) -> Seeded:
    """An organisation with a filed case holding a file and a message; ids by path parameter."""
    with app_world(app, app_db) as world:
        db, clock = world.db, world.clock
        people = {
            # Allowed pairs only (cases/staff/roles.py): each caller holds as many roles as
            # the separation-of-duties table lets one account hold.
            "investigator": world.staff("ina@example.com", "investigator", "retaliation_officer"),
            "admin": world.staff("root@example.com", "admin"),
            "auditor": world.staff("audrey@example.com", "auditor"),
            "keys": world.staff("kim@example.com", "custodian", "reward_approver"),
            "finance": world.staff("fin@example.com", "finance"),
        }
        filed = world.file()
        principal = people["investigator"].principal(db, clock)
        work = CaseworkService(db, clock, CaseworkConfig(ZONE, SECRET))
        work.add_message(principal, filed.case.id, "Thank you; we are looking into it.")
        db.flush()
        item = db.query(CaseItem).filter_by(case_id=filed.case.id).first()
        subject = db.query(CaseSubject).filter_by(case_id=filed.case.id).first()
        assert item is not None
        assert subject is not None
        ids = {
            "case_id": filed.case.id,
            "item_id": item.id,
            "subject_id": subject.id,
            "channel_id": world.channel.id,
            "category": world.category().id,
        }
    ids["file_id"] = staff_upload(
        app, people["investigator"], clock, ids["case_id"], "a.txt", b"evidence", "text/plain"
    )
    return world, ids, people


def exercise(
    operation: Any,
    mode: GenerationMode,
    callers: dict[str, dict[str, str]],
    ids: dict[str, str],
    session: Any,
    tally: Tally,
) -> None:
    """EXAMPLES generated requests, each sent as every caller; records every failed check."""
    strategy = operation.as_strategy(generation_mode=mode)
    label = f"{operation.label} [{mode.value}]"
    needs_token = bool(operation.definition.raw.get("security"))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy, real=st.booleans())
    def run(case: Any, real: bool) -> None:
        if real and case.path_parameters:
            for name in case.path_parameters:
                if name in ids:
                    case.path_parameters[name] = ids[name]
        for caller, headers in callers.items():
            response = case.call(headers=headers, session=session)
            tally.requests += 1
            if response.status_code >= 500:
                tally.server_errors += 1
            if needs_token and not headers and response.status_code < 300:
                tally.failures.setdefault(f"{label}: answered without a token", response.text)
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except FailureGroup as exc:  # kept, so that one run reports every finding
                titles = ", ".join(sorted({failure.title for failure in exc.exceptions}))
                tally.failures.setdefault(f"{label}: {titles}", f"as {caller}: {exc}")

    try:
        run()
    except Unsatisfiable:
        # Nothing to make invalid: an operation without parameters or body.
        assert mode is GenerationMode.NEGATIVE, f"{operation.label}: no valid request"


def test_api_answers_every_generated_request_as_documented(
    app: Any, app_db: sessionmaker[Session]
) -> None:
    """≥5,000 generated API requests from seven callers: no 5xx, every answer as documented."""
    world, ids, people = seed(app, app_db)
    clock = world.clock
    assert isinstance(clock, FixedClock)
    with TestClient(app, base_url="https://testserver") as client:
        tokens = {name: staff_token(client, person, clock) for name, person in people.items()}
        tokens["reporter"] = reporter_token(client, ids["channel_id"], ids["category"])
    callers: dict[str, dict[str, str]] = {"anonymous": {}}
    callers |= {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}

    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    ordered = sorted(operations, key=lambda op: op.definition.raw.get("operationId") in LOGOUTS)
    tally = Tally()
    with asgi.get_client(app) as session:
        for operation in ordered:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                exercise(operation, mode, callers, ids, session, tally)

    scorecard.record("api fuzz: requests tried", tally.requests)
    scorecard.record("api fuzz: 5xx answers", tally.server_errors)
    scorecard.record("api fuzz: answers not as documented", len(tally.failures))
    assert not tally.failures, "\n\n".join(f"{k}\n{v}" for k, v in tally.failures.items())
    assert tally.server_errors == 0
    assert tally.requests >= MINIMUM_REQUESTS
