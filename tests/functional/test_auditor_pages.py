"""Auditor pages and API: the filtered, paged trail, the chain check, statistics, refusals."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import sessionmaker
from support.staff_http import app_world, staff_token
from support.staff_world import SECRET, ZONE

from cases.audit.models import AuditEntry
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.db import unit_of_work
from cases.reports.intake import IdentityInput

CANARY = "CANARY-7f3a summary nobody outside the case may read"
CANARY_DETAIL = "CANARY-b41c details"
CANARY_NOTE = "CANARY-90de note"
CANARY_NAME = "CANARY-Li Hua"
PAGES = ("/staff/audit", "/staff/audit/verify", "/staff/statistics")
APIS = ("/api/v1/audit/entries", "/api/v1/audit/verify", "/api/v1/audit/statistics")


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    """An auditor, an admin, an investigator; one case with canaries in every sealed field."""
    with app_world(app, app_db) as made:
        db, clock = made.db, made.clock
        people = {
            "aud": made.staff("aud@example.com", "auditor"),
            "adm": made.staff("adm@example.com", "admin"),
            "ana": made.staff("ana@example.com", "investigator"),
        }
        filed = made.file(
            summary=CANARY,
            details=CANARY_DETAIL,
            identity=IdentityInput(name=CANARY_NAME, contact="canary@example.com"),
        )
        work = CaseworkService(db, clock, CaseworkConfig(ZONE, SECRET))
        ana = people["ana"].principal(db, clock)
        work.view(ana, filed.case.id)
        work.add_note(ana, filed.case.id, CANARY_NOTE)
    return {"clock": clock, "case": filed.case, **people}


def token(client: Any, world: dict[str, Any], name: str) -> str:
    return staff_token(client, world[name], world["clock"])


def bearer(client: Any, world: dict[str, Any], name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(client, world, name)}"}


def cookie(client: Any, world: dict[str, Any], name: str) -> dict[str, str]:
    """Headers that carry a staff session cookie, for the pages."""
    return {"Cookie": f"__Host-staff={token(client, world, name)}"}


def test_the_auditor_pages_show_no_report_content(client: Any, world: dict[str, Any]) -> None:
    """Trail (filtered by the case too), verify and statistics: no canary on any of them."""
    headers = cookie(client, world, "aud")
    urls = [*PAGES, f"/staff/audit?case={world['case'].reference}"]

    pages = [client.get(url, headers=headers) for url in urls]

    assert [p.status_code for p in pages] == [200] * len(urls)
    for page in pages:
        for canary in (CANARY, CANARY_DETAIL, CANARY_NOTE, CANARY_NAME, "CANARY"):
            assert canary not in page.text
    assert world["case"].reference in pages[3].text


def test_the_api_shows_no_report_content(client: Any, world: dict[str, Any]) -> None:
    """The three JSON twins answer the auditor without any canary in them."""
    headers = bearer(client, world, "aud")

    answers = [client.get(url, headers=headers) for url in APIS]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert all("CANARY" not in a.text for a in answers)


@pytest.mark.parametrize("name", ["adm", "ana"])
def test_others_are_refused(client: Any, world: dict[str, Any], name: str) -> None:
    """An admin and an investigator get 403 on the trail and its check; statistics: admins only."""
    headers, pages = bearer(client, world, name), cookie(client, world, name)

    answers = [client.get(url, headers=headers) for url in APIS[:2]]
    answers += [client.get(url, headers=pages) for url in PAGES[:2]]
    statistics = [client.get(APIS[2], headers=headers), client.get(PAGES[2], headers=pages)]

    assert [a.status_code for a in answers] == [403] * 4
    assert answers[0].json()["error"] == "forbidden"
    assert [a.status_code for a in statistics] == [200 if name == "adm" else 403] * 2


def test_no_session_goes_to_the_login(client: Any, world: dict[str, Any]) -> None:
    """Pages redirect to the login; the API answers 401."""
    page = client.get("/staff/audit", follow_redirects=False)

    api = client.get("/api/v1/audit/entries")

    assert (page.status_code, page.headers["location"]) == (303, "/staff/login")
    assert api.status_code == 401


def test_filters_by_action_case_role_and_actor(client: Any, world: dict[str, Any]) -> None:
    """Each filter narrows the entries to those that match it."""
    headers = bearer(client, world, "aud")
    ana_id, case = world["ana"].account.id, world["case"]

    def entries(**params: str) -> list[dict[str, Any]]:
        answer = client.get("/api/v1/audit/entries", headers=headers, params=params)
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])

    reads = entries(action="case.read")
    by_reference = entries(case=case.reference)
    by_role = entries(role="investigator")
    by_actor = entries(actor=ana_id)

    assert reads
    assert {e["action"] for e in reads} == {"case.read"}
    assert {e["case_id"] for e in by_reference} == {case.id}
    assert {"case.read", "case.note"} <= {e["action"] for e in by_reference}
    assert by_role
    assert all("investigator" in e["actor_roles"] for e in by_role)
    assert by_actor
    assert {e["actor_id"] for e in by_actor} == {ana_id}


def test_filters_by_date_range(client: Any, world: dict[str, Any]) -> None:
    """Entries are kept by the local day they were written on: a later range holds none."""
    headers = bearer(client, world, "aud")
    today = "2026-03-02"  # FixedClock 09:00 UTC is 17:00 in Shanghai

    same_day = client.get(
        "/api/v1/audit/entries", headers=headers, params={"since": today, "until": today}
    )
    later = client.get("/api/v1/audit/entries", headers=headers, params={"since": "2026-03-03"})

    assert same_day.json()["items"]
    assert later.json()["items"] == []


def test_bad_filters_are_422_naming_the_field(client: Any, world: dict[str, Any]) -> None:
    """A malformed date, an unknown role or a reversed range: 422 with the field; page too."""
    headers, pages = bearer(client, world, "aud"), cookie(client, world, "aud")

    bad_date = client.get("/api/v1/audit/entries?since=yesterday", headers=headers)
    bad_role = client.get("/api/v1/audit/entries?role=boss", headers=headers)
    reversed_range = client.get(
        "/api/v1/audit/entries?since=2026-03-05&until=2026-03-01", headers=headers
    )
    page = client.get("/staff/audit?since=yesterday", headers=pages)

    assert bad_date.status_code == 422
    assert "since" in bad_date.json()["fields"]
    assert bad_role.status_code == 422
    assert "role" in bad_role.json()["fields"]
    assert reversed_range.status_code == 422
    assert "until" in reversed_range.json()["fields"]
    assert page.status_code == 422
    assert 'aria-describedby="err-since"' in page.text


def test_pages_follow_on_without_gaps_or_repeats(client: Any, world: dict[str, Any]) -> None:
    """Keyset paging by seq: walking with next visits each entry once, newest first."""
    headers = bearer(client, world, "aud")
    seen: list[int] = []
    cursor: str | None = None

    while True:
        params = {"limit": "2", "action": "case.read", **({"before": cursor} if cursor else {})}
        body = client.get("/api/v1/audit/entries", headers=headers, params=params).json()
        seen.extend(item["seq"] for item in body["items"])
        cursor = body["next"]
        if cursor is None:
            break

    all_reads = client.get("/api/v1/audit/entries?action=case.read", headers=headers).json()
    assert seen == [item["seq"] for item in all_reads["items"]]
    assert seen == sorted(seen, reverse=True)
    assert len(seen) == len(set(seen))


def test_verify_reports_intact_then_the_first_edited_entry(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    """Intact with a count; after an edit, the edited entry's number and why, page and API."""
    headers, pages = bearer(client, world, "aud"), cookie(client, world, "aud")
    intact = client.get("/api/v1/audit/verify", headers=headers).json()
    with unit_of_work(app_db) as db:
        db.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(action="case.forged"))

    broken = client.get("/api/v1/audit/verify", headers=headers).json()
    page = client.get("/staff/audit/verify", headers=pages)

    assert intact["intact"] is True
    assert intact["checked"] >= 3
    assert (broken["intact"], broken["first_bad_seq"], broken["checked"]) == (False, 2, 1)
    assert "edited" in broken["problem"]
    assert page.context["result"].first_bad_seq == 2
    assert page.template.name == "auditor/verify.html"


def test_the_former_statistics_address_suppresses_one_case(
    client: Any, world: dict[str, Any]
) -> None:
    """One case: the auditors' former API answers the shared statistics, every count "< 5"."""
    headers = bearer(client, world, "aud")

    former = client.get("/api/v1/audit/statistics", headers=headers).json()
    page = client.get(
        "/staff/audit/statistics?year=2026",
        headers=cookie(client, world, "aud"),
        follow_redirects=False,
    )

    assert former["total"] == {"value": None, "suppressed": True}
    assert all(row["cases"]["suppressed"] for row in former["per_category"])
    assert page.headers["location"] == "/staff/statistics?year=2026"


def test_reading_the_trail_is_itself_recorded(client: Any, world: dict[str, Any]) -> None:
    """Each look at the trail, the check and the statistics leaves an entry by the auditor."""
    headers = bearer(client, world, "aud")
    for url in APIS:
        client.get(url, headers=headers)

    own = client.get(
        "/api/v1/audit/entries", headers=headers, params={"actor": world["aud"].account.id}
    ).json()["items"]

    actions = {e["action"] for e in own}
    assert {"audit.trail_read", "audit.verified", "audit.statistics_read"} <= actions


def test_the_nav_links_each_role_to_its_pages(client: Any, world: dict[str, Any]) -> None:
    """The auditor's nav links the trail; an investigator's does not."""
    auditor_nav = client.get("/staff/audit", headers=cookie(client, world, "aud")).text
    ana = cookie(client, world, "ana")

    investigator_nav = client.get("/staff/cases", headers=ana).text

    assert 'href="/staff/audit"' in auditor_nav
    assert 'href="/staff/audit"' not in investigator_nav
