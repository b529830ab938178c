"""Every route that shows decrypted case content adds a `case.read` entry: walked from the table."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker
from starlette.routing import Route
from support.evidence import staff_upload
from support.staff_http import app_world, staff_token
from support.staff_world import SECRET, ZONE

from cases.access.disclosure import DisclosureService
from cases.audit.models import AuditEntry
from cases.audit.service import AuditLog
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.db import unit_of_work
from cases.reports.intake import IdentityInput
from cases.rewards.service import Proposal, RewardConfig, RewardService

READS = ("case.read", "attachment.download")


@pytest.fixture
def scene(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    with app_world(app, app_db) as world:
        db, clock = world.db, world.clock
        ana = world.staff("ana@example.com", "investigator")
        cus = world.staff("cus@example.com", "custodian")
        case = world.file(identity=IdentityInput(name="Li Hua", contact="li@example.com")).case
        work = CaseworkService(db, clock, CaseworkConfig(ZONE, SECRET))
        me = ana.principal(db, clock)
        disclosures = DisclosureService(db, clock, AuditLog(db, clock, SECRET), ZONE)
        asked = disclosures.request(me, case, "We must interview the reporter about the invoices.")
        custodian = cus.principal(db, clock)
        disclosures.decide(custodian, asked.id, approve=True, reason="Needed for the interview.")
        work.transition(me, case.id, "acknowledged", "Received")
        work.transition(me, case.id, "concluded", "Done", "substantiated")
        proposal = Proposal("300000", "1000", "Smaller: partly known", exclusions_checked=True)
        RewardService(db, clock, RewardConfig(ZONE, SECRET)).propose(me, case.id, proposal)
        case_id = case.id
    file_id = staff_upload(app, ana, clock, case_id, "a.txt", b"hi", "text/plain")
    return {"clock": clock, "ana": ana, "cus": cus, "case": case_id, "file": file_id}


def reads(app_db: sessionmaker[Any], case_id: str) -> int:
    with unit_of_work(app_db) as db:
        stmt = select(func.count()).where(
            AuditEntry.case_id == case_id, AuditEntry.action.in_(READS)
        )
        return int(db.scalar(stmt) or 0)


def content_routes(app: Any) -> list[str]:
    return sorted(
        r.path
        for r in app.routes
        if isinstance(r, Route) and "{case_id}" in r.path and "GET" in (r.methods or ())
    )


def test_every_content_route_adds_a_read_entry(
    app: Any, client: Any, app_db: sessionmaker[Any], scene: dict[str, Any]
) -> None:
    """Each GET route on a case, called by an investigator holding its keys, leaves a read entry."""
    clock = scene["clock"]
    bearer = staff_token(client, scene["ana"], clock)
    params = {"case_id": scene["case"], "file_id": scene["file"]}
    silent = []

    routes = content_routes(app)
    for template in routes:
        path = re.sub(r"\{(\w+)\}", lambda g: params[g.group(1)], template)
        before = reads(app_db, scene["case"])
        client.cookies.clear()
        header = (
            {"Authorization": f"Bearer {bearer}"}
            if template.startswith("/api/")
            else {"Cookie": f"__Host-staff={bearer}"}
        )
        answer = client.get(path, headers=header, follow_redirects=False)
        assert answer.status_code == 200, (template, answer.status_code, answer.text[:200])
        if reads(app_db, scene["case"]) <= before:
            silent.append(template)

    assert "/api/v1/cases/{case_id}/items" in routes
    assert silent == []


def test_read_entries_name_the_view(
    client: Any, app_db: sessionmaker[Any], scene: dict[str, Any]
) -> None:
    """The API's items, subjects and protection views each say which view was read."""
    auth = {"Authorization": f"Bearer {staff_token(client, scene['ana'], scene['clock'])}"}

    for view in ("items", "subjects", "protection", "disclosures", "rewards"):
        client.get(f"/api/v1/cases/{scene['case']}/{view}", headers=auth)

    with unit_of_work(app_db) as db:
        details = db.scalars(
            select(AuditEntry.detail).where(
                AuditEntry.case_id == scene["case"], AuditEntry.action == "case.read"
            )
        ).all()
    views = {d.split('"view": "')[1].split('"')[0] for d in details if '"view"' in d}
    assert {"items", "subjects", "protection", "disclosures", "rewards"} <= views
