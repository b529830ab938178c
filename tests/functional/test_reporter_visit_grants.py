"""Over HTTP: an investigator who is owed a case key (new to the team, say) cannot tell when the
reporter logged in by watching the case open for them: a key the reporter's visit hands on
reaches staff at the next full hour, like the reporter's messages and files."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from support.arrivals import list_arrivals
from support.reporter_http import login
from support.staff_http import app_world, bearer
from support.staff_world import build_world, key_ring

from cases.db import unit_of_work
from cases.org.routing import Routing
from cases.reports.models import Case, PendingGrant
from portal.jobs import JobConfig, JobRunner


def test_a_key_handed_on_at_the_reporters_visit_reaches_staff_only_at_the_next_hour(
    client: Any, app: Any, app_db: sessionmaker[Any]
) -> None:
    """Hana joins the team after the filing and waits for the key; the reporter logs in at
    09:25. At 09:26 the case still says "awaiting access" for Hana (the API's case and list
    answers, and the content stays closed: on the code before, she read the report at once,
    so the minute it opened was the minute the reporter logged in); after the jobs round of
    10:00 she reads it."""
    with app_world(app, app_db) as made:
        made.staff("ana@corp.example", "investigator", name="Ana")
        ids = {"channel": made.channel.id, "category": made.category("order-diversion").id}
    clock = made.clock
    body = {**ids, "summary": "Order diverted", "details": "The Acme order went to Rival Ltd."}
    filed = client.post(
        "/api/v1/reports", json={**body, "subjects": [], "exclude": [], "identity": None}
    )
    assert filed.status_code == 201, filed.text
    list_arrivals(app_db, clock)
    with unit_of_work(app_db) as db:
        case_id = db.scalars(select(Case.id)).one()
        hana = build_world(db, clock).staff("hana@corp.example", "investigator", name="Hana")
        assert Routing(db, key_ring(db, clock=clock)).queue_for(hana.account, "joined") == 1
    clock.advance(minutes=20)
    headers = bearer(client, hana, clock)
    waiting = client.get(f"/api/v1/cases/{case_id}", headers=headers).json()

    clock.advance(minutes=4)  # 09:25
    login(client, filed.json()["receipt"])
    clock.advance(minutes=1)
    case = client.get(f"/api/v1/cases/{case_id}", headers=headers)
    listed = client.get("/api/v1/cases", headers=headers).json()
    items = client.get(f"/api/v1/cases/{case_id}/items", headers=headers)

    assert waiting["awaiting_access"] is True
    assert case.status_code == 200, case.text
    assert case.json()["awaiting_access"] is True
    assert "Rival Ltd" not in case.text
    assert [row["awaiting_access"] for row in listed["items"]] == [True]
    assert items.status_code == 404

    clock.advance(minutes=35)  # 10:00
    JobRunner(app_db, clock, JobConfig.of(app.state.settings)).run_once()
    later = client.get(f"/api/v1/cases/{case_id}", headers=bearer(client, hana, clock))
    with unit_of_work(app_db) as db:
        grants = db.scalars(select(PendingGrant.id)).all()

    assert later.json()["awaiting_access"] is False
    assert "Rival Ltd" in later.text
    assert grants == []
