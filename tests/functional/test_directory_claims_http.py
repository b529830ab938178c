"""Over HTTP: an admin colluding with the accused sales director S1 cannot take the case about
S1 from its whole team for good through the directory (docs/access.md, "An admin's directory
change is a claim"). Linking each investigator to S1 and back, or uploading a directory in which
S1 reports to each of them and then the true one, keeps them away at once; a key holder whom
the change does not concern refuses the claims, and the team reads the case again once the
grant path has run. On the code before, the history kept them "S1" or "above S1" for ever."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from support.arrivals import list_arrivals
from support.puppets import puppet_of
from support.reporter_http import login
from support.staff_http import app_world, bearer, log_in
from support.staff_world import SECRET, Person

from cases.db import unit_of_work
from cases.staff.directory import DirectoryService, parse_csv
from cases.staff.models import DirectoryEdge, DirectoryLink
from portal.jobs import JobConfig, JobRunner

pytestmark = pytest.mark.db

HEADER = "employee_id,name,email,department,manager_id\n"
TRUE_LINES = (
    "V1,VP Gao,gao@corp.example,Sales,\n"
    "S1,Director Sun,sun@corp.example,Sales,{manager}\n"
    "R1,Rep Li,li@corp.example,Sales,S1\n"
    "C1,Inv One,inv1@corp.example,Compliance,\n"
    "C2,Inv Two,inv2@corp.example,Compliance,\n"
    "C3,Inv Three,inv3@corp.example,Compliance,\n"
)
SUMMARY = "Director Sun diverts the Acme orders"


class Scene:
    """Three investigators (C1, C2, C3 in the directory), an admin, and two reports: one about
    S1 that the reporter keeps away from inv3, one about someone else for all three."""

    def __init__(self, client: Any, app: Any, app_db: sessionmaker[Session]) -> None:
        self.client, self.app, self.app_db = client, app, app_db
        with app_world(app, app_db) as world:
            rows = parse_csv(HEADER + TRUE_LINES.format(manager="V1"))
            DirectoryService(world.db, world.clock, SECRET).import_rows(rows)
            self.inv: dict[str, Person] = {
                n: world.staff(f"inv{n}@corp.example", "investigator") for n in "123"
            }
            self.admin = world.staff("admin@corp.example", "admin")
            ids = {"channel": world.channel.id, "category": world.category("kickbacks").id}
        self.clock = world.clock
        body = {**ids, "details": "The Q3 orders went to a rival.", "identity": None}
        about_s1 = {
            **body,
            "summary": SUMMARY,
            "subjects": [{"name": "Director Sun", "employee_id": "S1"}],
            "exclude": [self.inv["3"].account.id],
        }
        other = {**body, "summary": "Expense claims", "subjects": [], "exclude": []}
        filed = client.post("/api/v1/reports", json=about_s1)
        assert filed.status_code == 201, filed.text
        assert client.post("/api/v1/reports", json=other).status_code == 201
        self.receipt = filed.json()["receipt"]
        list_arrivals(app_db, self.clock)
        self.headers = {n: bearer(client, p, self.clock) for n, p in self.inv.items()}
        self.case_id = self.case_about_s1()

    def case_about_s1(self) -> str:
        listed = self.client.get("/api/v1/cases", headers=self.headers["1"]).json()["items"]
        for item in listed:
            case = self.client.get(f"/api/v1/cases/{item['id']}", headers=self.headers["1"])
            if SUMMARY in case.text:
                return str(item["id"])
        raise AssertionError("inv1 does not read the case about S1")

    def reads(self, n: str) -> bool:
        case = self.client.get(f"/api/v1/cases/{self.case_id}", headers=self.headers[n])
        return case.status_code == 200 and SUMMARY in case.text

    def link_then_back(self) -> None:
        """Two requests per investigator: linked to S1, then back to their own entry."""
        token = log_in(self.client, self.admin, self.clock)
        for n in "12":
            staff_id = self.inv[n].account.id
            for employee_id in ("S1", f"C{n}"):
                done = self.client.post(
                    f"/admin/staff/{staff_id}/employee",
                    data={"csrf": token, "employee_id": employee_id},
                    follow_redirects=False,
                )
                assert done.status_code == 303, done.text

    def upload_s1_under_each(self) -> None:
        """S1 reports to C1, then to C2, then to the true manager V1 again."""
        token = log_in(self.client, self.admin, self.clock)
        for manager in ("C1", "C2", "V1"):
            text = HEADER + TRUE_LINES.format(manager=manager)
            done = self.client.post(
                "/admin/directory",
                data={"csrf": token},
                files={"file": ("dir.csv", text.encode(), "text/csv")},
            )
            assert done.status_code == 200, done.text

    def next_hour_jobs(self) -> None:
        """The jobs round of the next full hour; everyone logs in again afterwards."""
        self.clock.advance(hours=1)
        JobRunner(self.app_db, self.clock, JobConfig.of(self.app.state.settings)).run_once()
        self.headers = {n: bearer(self.client, p, self.clock) for n, p in self.inv.items()}


ATTACKS = {"link-then-back": Scene.link_then_back, "upload": Scene.upload_s1_under_each}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_refused_directory_claim_gives_the_team_its_case_back(
    client: Any, app: Any, app_db: sessionmaker[Session], attack: str
) -> None:
    """The attack keeps inv1 and inv2 away at once (safety first); inv3 refuses the claims, the
    reporter's next visit hands the key on, and at the next hour both read the case again.
    Nothing of the attack is left in the directory's history."""
    scene = Scene(client, app, app_db)
    assert scene.reads("1")
    assert scene.reads("2")

    ATTACKS[attack](scene)
    kept_away = not scene.reads("1") and not scene.reads("2")
    claims = client.get("/api/v1/staff/directory-claims", headers=scene.headers["3"])
    refused = [
        client.post(
            f"/api/v1/staff/directory-claims/{claim['id']}/refuse", headers=scene.headers["3"]
        )
        for claim in (claims.json() if claims.status_code == 200 else [])
    ]
    login(client, scene.receipt)
    scene.next_hour_jobs()
    with unit_of_work(app_db) as db:
        links = set(db.execute(select(DirectoryLink.employee_id)).scalars())
        edges = set(
            db.execute(select(DirectoryEdge.employee_id, DirectoryEdge.manager_employee_id))
        )

    assert kept_away
    assert scene.reads("1")
    assert scene.reads("2")
    assert claims.status_code == 200, claims.text
    assert len(claims.json()) == 2
    assert [r.status_code for r in refused] == [200, 200]
    assert "S1" not in links
    assert not {("S1", "C1"), ("S1", "C2")} & edges


def test_the_approvals_page_shows_and_decides_a_claim(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """inv3's approvals page lists the admin's link of inv1 to S1 (the entry's own e-mail beside
    it) and confirms it: the link enters the history and inv1 stays away after the link back."""
    scene = Scene(client, app, app_db)
    scene.link_then_back()
    token = log_in(client, scene.inv["3"], scene.clock)

    page = client.get("/staff/approvals")
    claims = page.context["claims"]
    first = next(c for c in claims if c.account and c.account.email == "inv1@corp.example")
    done = client.post(
        f"/staff/approvals/claims/{first.claim.id}",
        data={"csrf": token, "do": "confirm"},
        follow_redirects=False,
    )
    with unit_of_work(app_db) as db:
        links = set(db.execute(select(DirectoryLink.staff_id, DirectoryLink.employee_id)))

    assert page.status_code == 200
    assert page.template.name == "staff/approvals.html"
    assert "sun@corp.example" in page.text
    assert done.status_code == 303
    assert (scene.inv["1"].account.id, "S1") in links
    assert (scene.inv["2"].account.id, "S1") not in links
    assert not scene.reads("1")


# Red team: an admin colluding with the accused decides his own directory claim through a
# puppet (docs/access.md, "An admin's directory change is a claim").
#
# The admin makes an investigator account on the web (he holds its enrolment link, so he is the
# one who enrols it), an honest key holder approves it for keys in good faith, and it holds case
# keys. The admin links inv1 and inv2 to the accused S1 and back; the claims keep both away at
# once. The puppet is "a key holder whom the change does not concern, never the admin who made
# it": on the code before it listed both claims and confirmed them, and the links entered the
# directory's history for good, so the team lost the case about S1 for ever. Now an account
# related to the claim's maker (made, reset, given a role, approved by it or the other way
# round: cases/retention/release.py) may refuse the admin's claims (a refusal only gives cases
# back, and an admin who made every account must not leave the team's cases taken) but never
# confirms one.


def test_the_admins_puppet_cannot_confirm_his_claims(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    scene = Scene(client, app, app_db)
    admin = bearer(client, scene.admin, scene.clock)
    puppet = puppet_of(
        client,
        admin,
        scene.headers["3"],
        scene.clock,
        then=lambda: bearer(client, scene.inv["1"], scene.clock),
    )
    scene.link_then_back()
    listed = client.get("/api/v1/staff/directory-claims", headers=puppet)
    honest = client.get("/api/v1/staff/directory-claims", headers=scene.headers["3"]).json()
    confirmed = [
        client.post(f"/api/v1/staff/directory-claims/{claim['id']}/confirm", headers=puppet)
        for claim in honest
    ]
    with unit_of_work(app_db) as db:
        links = set(db.execute(select(DirectoryLink.employee_id)).scalars())

    assert len(honest) == 2
    assert [r.status_code for r in confirmed] == [403, 403]
    assert "S1" not in links
    assert {r.json()["error"] for r in confirmed} == {"related_to_maker"}
    assert listed.status_code == 200, listed.text
    assert [c.get("may_confirm") for c in listed.json()] == [False, False]
    assert [c["may_confirm"] for c in honest] == [True, True]
