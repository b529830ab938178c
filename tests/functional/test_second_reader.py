"""One investigator alone cannot bury a report: an unfounded conclusion or a flood dismissal
waits for a second, unrelated case reader (cases/workflow/second_reader.py).

The attack: an investigator colluding with the accused concludes the report about him
"unsubstantiated" and closes it at once, or files junk reports anonymously in the hour the
report is expected, so that it is flood-marked, and dismisses it unread with the junk. Before,
either took one person: the case left every colleague's working list as closed and the
retention job deleted it for good 36 months after that day. Now the move is accepted (the
CONTRACT's transition table answers 200 as before), but the case is listed to the team as
awaiting a second reader, the retention job keeps it, and its months count only from the day
a second reader who is neither the first nor related to them (an account the first made,
reset or approved, or one that made or approved the first's) agrees.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from support.arrivals import list_arrivals
from support.staff_http import app_world, bearer, log_in
from support.staff_world import SECRET, ZONE, Person

import crypto
from cases.audit.models import AuditEntry
from cases.clock import FixedClock, epoch
from cases.db import unit_of_work
from cases.deadlines import add_months
from cases.reports.models import Case
from cases.retention import RetentionConfig, RetentionService

NEW_PASSWORD = "my very own secret phrase 42"
PER_HOUR = 2


@dataclass
class Team:
    clock: FixedClock
    ana: Person  # the investigator who buries the report
    bob: Person  # an unrelated colleague on the team
    boss: Person  # an admin
    case_id: str


@pytest.fixture
def team(app: Any, app_db: sessionmaker[Session]) -> Team:
    """Two investigators and an admin; one report about the sales director, listed."""
    with app_world(app, app_db) as world:
        ana = world.staff("ana@corp.example", "investigator", name="Ana")
        bob = world.staff("bob@corp.example", "investigator", name="Bob")
        boss = world.staff("boss@corp.example", "admin", name="Boss")
        case_id = world.file("Kickbacks from the distributor").case.id
        clock = world.clock
    assert isinstance(clock, FixedClock)
    return Team(clock, ana, bob, boss, case_id)


def helper_of(client: Any, team: Team) -> dict[str, str]:
    """An investigator account the admin makes on the web and Ana approves for keys: Ana
    vouched for it, so it is hers to command (related, cases/retention/release.py)."""
    admin = bearer(client, team.boss, team.clock)
    body = {"email": "helper@corp.example", "name": "Helper", "roles": ["investigator"]}
    made = client.post("/api/v1/admin/accounts", headers=admin, json=body)
    assert made.status_code == 201, made.text
    token = made.json()["enrolment_url"].rsplit("/", 1)[-1]
    enrolled = client.post(
        "/api/v1/staff/enrolment", json={"token": token, "password": NEW_PASSWORD}
    )
    assert enrolled.status_code == 201, enrolled.text
    raw = enrolled.json()["totp_secret"]
    secret = base64.b32decode(raw + "=" * (-len(raw) % 8))
    ana = bearer(client, team.ana, team.clock)
    waiting = client.get("/api/v1/staff/approvals", headers=ana).json()
    approved = client.post(f"/api/v1/staff/approvals/{waiting[0]['id']}/approve", headers=ana)
    assert approved.status_code == 200, approved.text
    bearer(client, team.bob, team.clock)  # a colleague's login fulfils the grants still pending
    login = {
        "email": "helper@corp.example",
        "password": NEW_PASSWORD,
        "totp": crypto.totp_code(secret, epoch(team.clock.now())),
    }
    answer = client.post("/api/v1/staff/session", json=login)
    assert answer.status_code == 200, answer.text
    team.clock.advance(seconds=30)
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def retention_round(app_db: sessionmaker[Session], at: datetime) -> int:
    """The retention job's round at `at` (its own clock): how many cases it deleted."""
    with unit_of_work(app_db) as db:
        return RetentionService(db, FixedClock(at), RetentionConfig(ZONE, SECRET)).run()


def deleted(app_db: sessionmaker[Session], case_id: str) -> bool:
    with unit_of_work(app_db) as db:
        case = db.get(Case, case_id)
        assert case is not None
        return case.retention_deleted_on is not None


def listed(client: Any, auth: dict[str, str], case_id: str, query: str = "") -> dict[str, Any]:
    answer = client.get(f"/api/v1/cases?limit=200{query}", headers=auth)
    assert answer.status_code == 200, answer.text
    found = [item for item in answer.json()["items"] if item["id"] == case_id]
    assert found, f"{case_id} not in the list"
    return dict(found[0])


def move(client: Any, auth: dict[str, str], case_id: str, status: str, **body: str) -> Any:
    payload = {"status": status, "reason": "Looked into it.", **body}
    return client.post(f"/api/v1/cases/{case_id}/transition", headers=auth, json=payload)


def agree(client: Any, auth: dict[str, str], case_id: str) -> Any:
    return client.post(f"/api/v1/cases/{case_id}/second-reading", headers=auth, json={})


def test_one_investigator_cannot_bury_a_report_as_unfounded(
    client: Any, app_db: sessionmaker[Session], team: Team
) -> None:
    """Ana concludes the report unsubstantiated and closes it (200 each, as the CONTRACT
    says); Bob's list still flags it; the retention job 40 months on keeps it; Ana and the
    account she approved cannot agree (403); Bob agrees, and the 36 months count from that
    day (on the code before, the job deleted it 40 months after Ana closed it)."""
    case_id, clock = team.case_id, team.clock
    helper = helper_of(client, team)
    ana = bearer(client, team.ana, clock)

    moves = [
        move(client, ana, case_id, "acknowledged").status_code,
        move(client, ana, case_id, "concluded", outcome="unsubstantiated").status_code,
        move(client, ana, case_id, "closed").status_code,
    ]
    bob = bearer(client, team.bob, clock)
    seen_by_bob = listed(client, bob, case_id)
    kept_after_40_months = retention_round(app_db, clock.now() + timedelta(days=40 * 31))
    own = agree(client, ana, case_id)
    related = agree(client, helper, case_id)
    clock.advance(days=40 * 31)
    bob = bearer(client, team.bob, clock)
    agreed = agree(client, bob, case_id)
    agreed_at = clock.now()
    kept_before_its_months = retention_round(
        app_db,
        datetime.combine(add_months(agreed_at.date(), 36), agreed_at.time()) - timedelta(days=2),
    )
    after = retention_round(
        app_db,
        datetime.combine(add_months(agreed_at.date(), 36), agreed_at.time()) + timedelta(days=2),
    )

    assert moves == [200, 200, 200]
    assert kept_after_40_months == 0
    assert seen_by_bob["status"] == "closed"
    assert seen_by_bob["awaiting_second_reader"] is True
    assert seen_by_bob["unconfirmed_by"] == team.ana.account.id
    assert own.status_code == 403, own.text
    assert own.json()["error"] == "not_a_second_reader"
    assert related.status_code == 403, related.text
    assert related.json()["error"] == "not_a_second_reader"
    assert agreed.status_code == 200, agreed.text
    assert agreed.json()["awaiting_second_reader"] is False
    assert kept_before_its_months == 0
    assert (after, deleted(app_db, case_id)) == (1, True)


def test_one_investigator_cannot_dismiss_a_report_unread_from_a_flood_of_their_own(
    client: Any, app: Any, app_db: sessionmaker[Session], team: Team
) -> None:
    """Ana files junk anonymously so the report that comes next is flood-marked, then
    dismisses everything marked (200); Bob's list shows the report dismissed unread and
    awaiting a second reader, the job 40 months on keeps it, Ana cannot agree, Bob can (on
    the code before, the job deleted the report with the junk)."""
    limits = replace(app.state.settings.limits, reports_per_channel_per_hour=PER_HOUR)
    app.state.settings = replace(app.state.settings, limits=limits)
    clock = team.clock
    with unit_of_work(app_db) as db:
        case = db.get(Case, team.case_id)
        assert case is not None
        channel, category = case.channel_id, case.category_id
    body = {"channel": channel, "category": category, "subjects": [], "exclude": []}
    for n in range(2 * PER_HOUR + 1):
        junk = {**body, "summary": f"junk {n}", "details": "Nothing.", "identity": None}
        assert client.post("/api/v1/reports", json=junk).status_code == 201
    genuine = {**body, "summary": "Orders diverted", "details": "To a rival.", "identity": None}
    assert client.post("/api/v1/reports", json=genuine).status_code == 201
    list_arrivals(app_db, clock)
    ana = bearer(client, team.ana, clock)
    marked = client.get("/api/v1/cases?flood=only&limit=200", headers=ana).json()["items"]
    report = next(item["id"] for item in marked if item["summary"] == "Orders diverted")

    dismissed = client.post(
        "/api/v1/flood/dismissals", headers=ana, json={"cases": [i["id"] for i in marked]}
    )
    bob = bearer(client, team.bob, clock)
    seen_by_bob = listed(client, bob, report, "&second=awaiting")
    log_in(client, team.bob, clock)
    apart = client.get("/staff/cases?second=awaiting&flood=").text
    kept = retention_round(app_db, clock.now() + timedelta(days=40 * 31))
    own = agree(client, ana, report)
    agreed = agree(client, bob, report)

    assert dismissed.status_code == 200, dismissed.text
    assert dismissed.json()["dismissed"] == len(marked)
    assert (kept, deleted(app_db, report)) == (0, False)
    assert seen_by_bob["status"] == "closed"
    assert seen_by_bob["awaiting_second_reader"] is True
    assert seen_by_bob["unconfirmed_by"] == team.ana.account.id
    assert seen_by_bob["unconfirmed_kind"] == "flood"
    assert "Dismissed unread from a flood, awaiting a second reader" in apart
    assert own.status_code == 403, own.text
    assert agreed.status_code == 200, agreed.text
    assert agreed.json()["awaiting_second_reader"] is False


STEPS = ("case.transition", "case.awaiting_second_reader", "case.second_reader_")


def actions(app_db: sessionmaker[Session], case_id: str) -> list[str]:
    """The audit trail's workflow entries of the case, in order."""
    with unit_of_work(app_db) as db:
        stmt = select(AuditEntry.action).where(AuditEntry.case_id == case_id)
        return [a for a in db.scalars(stmt.order_by(AuditEntry.seq)) if a.startswith(STEPS)]


def test_a_second_reader_who_disagrees_reopens_and_one_who_agrees_uses_the_page(
    client: Any, app_db: sessionmaker[Session], team: Team
) -> None:
    """Bob reopens Ana's "not actionable" (200, the flag goes); Ana concludes it again alone;
    Bob agrees on the case page's button (303 with its notice). Each step is audited."""
    case_id, clock = team.case_id, team.clock
    ana = bearer(client, team.ana, clock)
    move(client, ana, case_id, "acknowledged")
    move(client, ana, case_id, "concluded", outcome="not_actionable")
    bob = bearer(client, team.bob, clock)

    reopened = move(client, bob, case_id, "investigating")
    after_reopen = listed(client, bob, case_id)
    move(client, ana, case_id, "concluded", outcome="not_actionable")
    waiting = client.get(f"/api/v1/cases/{case_id}", headers=bob).json()["second_reading"]
    token = log_in(client, team.bob, clock)
    listing = client.get("/staff/cases")
    page = client.get(f"/staff/cases/{case_id}")
    ending = re.search(r'name="ending" value="([^"]*)"', page.text)
    assert ending is not None
    agreed = client.post(
        f"/staff/cases/{case_id}/second-reading",
        data={"csrf": token, "ending": ending.group(1)},
        follow_redirects=False,
    )
    closed = move(client, bob, case_id, "closed")
    with unit_of_work(app_db) as db:
        case = db.get(Case, case_id)
        assert case is not None
        state = (case.unconfirmed_by, case.closed_on is not None)

    assert reopened.status_code == 200, reopened.text
    assert after_reopen["awaiting_second_reader"] is False
    assert waiting["kind"] == "concluded"
    assert waiting["by"] == team.ana.account.id
    assert (waiting["may_agree"], waiting["possible"]) == (True, True)
    assert "Concluded unfounded by one reader, awaiting a second reader" in listing.text
    assert "1 case was ended by one reader alone and awaits a second reader." in listing.text
    assert "Concluded unfounded by Ana alone, awaiting a second reader." in page.text
    assert agreed.status_code == 303, agreed.text
    assert "done=agreed" in agreed.headers["location"]
    assert closed.status_code == 200, closed.text
    assert state == (None, True)
    assert actions(app_db, case_id) == [
        "case.transition",  # acknowledged
        "case.transition",  # concluded, not actionable, by Ana
        "case.awaiting_second_reader",
        "case.transition",  # reopened by Bob
        "case.second_reader_reopened",
        "case.transition",  # concluded again by Ana
        "case.awaiting_second_reader",
        "case.second_reader_agreed",  # Bob, on the page
        "case.transition",  # closed
    ]


def test_a_team_of_one_is_told_no_second_reader_is_possible_and_the_case_is_kept(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """The only investigator concludes "unsubstantiated" and closes: the page says nobody can
    be the second reader and how the recovery path helps; the retention job keeps the case."""
    with app_world(app, app_db) as world:
        solo = world.staff("solo@corp.example", "investigator", name="Solo")
        case_id = world.file().case.id
        clock = world.clock
    assert isinstance(clock, FixedClock)
    auth = bearer(client, solo, clock)
    move(client, auth, case_id, "acknowledged")
    move(client, auth, case_id, "concluded", outcome="unsubstantiated")
    move(client, auth, case_id, "closed")

    state = client.get(f"/api/v1/cases/{case_id}", headers=auth).json()["second_reading"]
    log_in(client, solo, clock)
    page = client.get(f"/staff/cases/{case_id}")
    kept = retention_round(app_db, clock.now() + timedelta(days=40 * 31))

    assert (state["possible"], state["may_agree"]) == (False, False)
    assert "Nobody else on this case can be the second reader" in page.text
    assert "portal recover" in page.text
    assert (kept, deleted(app_db, case_id)) == (0, False)


def test_a_founded_conclusion_needs_no_second_reader(
    client: Any, app_db: sessionmaker[Session], team: Team
) -> None:
    """Concluded "substantiated" and closed by one reader: not flagged, retention counts from
    the closing day, and agreeing is 409 (nothing waits)."""
    case_id, clock = team.case_id, team.clock
    ana = bearer(client, team.ana, clock)
    move(client, ana, case_id, "acknowledged")
    move(client, ana, case_id, "concluded", outcome="substantiated")
    move(client, ana, case_id, "closed")
    bob = bearer(client, team.bob, clock)

    item = listed(client, bob, case_id)
    nothing = agree(client, bob, case_id)
    removed = retention_round(app_db, clock.now() + timedelta(days=37 * 31))

    assert item["awaiting_second_reader"] is False
    assert nothing.status_code == 409, nothing.text
    assert (removed, deleted(app_db, case_id)) == (1, True)


# Red team: a second reader's agreement sent from a stale case page (cases/workflow/
# second_reader.py).
#
# Ana concludes the report about her friend "not actionable"; Bob opens the case page and reads
# her ending. Before he presses "Agree", Ana reopens the case (the reporter's new evidence has
# come in) and concludes it "not actionable" again, alone. On the code before, Bob's press agreed
# to an ending his page never showed: the flag went and the case's retention months began. Now
# the page's form names the ending it showed, and an agreement to one that is gone is refused
# (409 ending_changed); the case stays awaiting a second reader. The API does the same when the
# body names the ending (getCase's second_reading.ending).


ENDING = re.compile(r'name="ending" value="([^"]*)"')


def test_an_agreement_from_a_stale_page_does_not_agree_to_a_later_ending(
    client: Any, app_db: sessionmaker[Session], team: Team
) -> None:
    case_id, clock = team.case_id, team.clock
    ana = bearer(client, team.ana, clock)
    move(client, ana, case_id, "acknowledged")
    move(client, ana, case_id, "concluded", outcome="not_actionable")
    token = log_in(client, team.bob, clock)
    page = client.get(f"/staff/cases/{case_id}").text
    shown = ENDING.search(page)
    bob_api = bearer(client, team.bob, clock)
    seen_by_api = client.get(f"/api/v1/cases/{case_id}", headers=bob_api).json()

    clock.advance(minutes=10)
    assert move(client, ana, case_id, "investigating").status_code == 200
    assert move(client, ana, case_id, "concluded", outcome="not_actionable").status_code == 200
    stale = client.post(
        f"/staff/cases/{case_id}/second-reading",
        data={"csrf": token, "ending": shown.group(1) if shown else ""},
        follow_redirects=False,
    )
    stale_api = client.post(
        f"/api/v1/cases/{case_id}/second-reading",
        headers=bob_api,
        json={"ending": seen_by_api["second_reading"].get("ending", "")},
    )
    with unit_of_work(app_db) as db:
        case = db.get(Case, case_id)
        assert case is not None
        waiting = case.unconfirmed_by
    fresh = client.get(f"/api/v1/cases/{case_id}", headers=bob_api).json()["second_reading"]
    agreed = client.post(
        f"/api/v1/cases/{case_id}/second-reading",
        headers=bob_api,
        json={"ending": (fresh or {}).get("ending", "")},
    )

    assert stale.status_code == 409, stale.text
    assert waiting == team.ana.account.id
    assert stale_api.status_code == 409, stale_api.text
    assert stale_api.json()["error"] == "ending_changed"
    assert shown is not None
    assert agreed.status_code == 200, agreed.text
