"""An admin's directory change that would keep someone away from cases is a claim
(cases/org/claims.py; docs/access.md, "An admin's directory change is a claim"): it counts for
exclusion at once, enters the history only when a key holder whom it does not concern
confirms it, and a confirmation written behind the portal's back is no confirmation."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from support.staff_world import PROFILE, SECRET, ZONE, Person, World, build_world, key_ring

from cases.access.models import PeopleVersion
from cases.access.policy import may_see
from cases.audit.service import AuditLog
from cases.clock import FixedClock
from cases.errors import Conflict, Forbidden, NotFound
from cases.keytrust import untrusted_rows
from cases.notify.service import NotifyConfig
from cases.org.admin import AdminConfig, AdminService
from cases.org.claims import ClaimService
from cases.reports.intake import SubjectInput
from cases.reports.keys import CASE
from cases.reports.models import Case
from cases.staff.directory import DirectoryService, Row
from cases.staff.models import DirectoryClaim, DirectoryLink

DIRECTORY = [
    Row("S1", "Director Sun", "sun@corp.example", "Sales", ""),
    Row("R1", "Rep Li", "li@corp.example", "Sales", "S1"),
    Row("C1", "Inv One", "inv1@corp.example", "Compliance", ""),
    Row("C2", "Inv Two", "inv2@corp.example", "Compliance", ""),
    Row("C3", "Inv Three", "inv3@corp.example", "Compliance", ""),
]


class Scene:
    """Three investigators and an admin who is (as an account made before the separation of
    duties table) an investigator too; a case about S1 and one about someone else."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.world: World = build_world(db, FixedClock())
        DirectoryService(db, self.world.clock, SECRET).import_rows(DIRECTORY)
        self.inv = {n: self.world.staff(f"inv{n}@corp.example", "investigator") for n in "123"}
        self.boss = self.world.legacy_staff("boss@corp.example", "admin", "investigator")
        self.case = self.world.file(
            subjects=[SubjectInput(name="Director Sun", employee_id="S1")]
        ).case
        self.world.file("Expense claims", subjects=[])
        audit = AuditLog(db, self.world.clock, SECRET)
        self.admin = AdminService(db, self.world.clock, AdminConfig(SECRET, PROFILE))
        self.claims = ClaimService(
            db, self.world.clock, audit, NotifyConfig("https://portal.example", ZONE)
        )

    def me(self, person: Person) -> object:
        return person.principal(self.db, self.world.clock)

    def link_then_back(self, n: str) -> DirectoryClaim:
        boss = self.boss.principal(self.db, self.world.clock)
        staff_id = self.inv[n].account.id
        self.admin.link_employee(boss, staff_id, "S1")
        self.admin.link_employee(boss, staff_id, f"C{n}")
        return self.db.scalars(
            select(DirectoryClaim).where(DirectoryClaim.staff_id == staff_id)
        ).one()

    def sees(self, n: str) -> bool:
        self.db.expire_all()
        case = self.db.get(Case, self.case.id)
        assert case is not None
        return bool(may_see(self.db, self.inv[n].account, case))

    def in_history(self, n: str) -> bool:
        key = (self.inv[n].account.id, "S1")
        return self.db.get(DirectoryLink, key) is not None


@pytest.fixture
def scene(db_session: Session) -> Scene:
    found = Scene(db_session)
    assert found.sees("1")
    return found


def test_a_confirmed_claim_stays_in_the_history_for_good(scene: Scene) -> None:
    """inv3 confirms that inv1 is S1: the link enters the history, inv1 stays away from the case
    about S1 after the admin links them back, and the claim can no longer be refused."""
    claim = scene.link_then_back("1")
    kept_away_at_once = not scene.sees("1")

    scene.claims.confirm(scene.inv["3"].principal(scene.db, scene.world.clock), claim.id)
    scene.admin.link_employee(
        scene.boss.principal(scene.db, scene.world.clock), scene.inv["1"].account.id, "C1"
    )

    assert kept_away_at_once
    assert scene.in_history("1")
    assert not scene.sees("1")
    assert claim.status == "confirmed"
    with pytest.raises(Conflict):
        scene.claims.refuse(scene.inv["2"].principal(scene.db, scene.world.clock), claim.id)
    assert scene.sees("2")


def test_neither_the_admin_nor_the_linked_account_decides_the_claim(scene: Scene) -> None:
    """The admin who made the claim (even holding keys), the account it links and an admin
    without keys are refused; an unconcerned key holder may decide."""
    claim = scene.link_then_back("1")
    clock = scene.world.clock
    plain_admin = scene.world.staff("admin@corp.example", "admin").principal(scene.db, clock)

    for person in (scene.boss, scene.inv["1"]):
        with pytest.raises(Forbidden):
            scene.claims.confirm(person.principal(scene.db, clock), claim.id)
    with pytest.raises(Forbidden):
        scene.claims.confirm(plain_admin, claim.id)
    deciders = {p.id for p in scene.claims.deciders(claim)}

    assert deciders == {scene.inv["2"].account.id, scene.inv["3"].account.id}
    assert not scene.in_history("1")
    assert not scene.sees("1")


def test_a_confirmation_forged_in_the_database_is_ignored(scene: Scene) -> None:
    """A status set to "confirmed" by SQL without the server secret: the link does not enter
    the history, the claim still waits and is reported, and a key holder can refuse it, after
    which inv1 is owed the case again."""
    claim = scene.link_then_back("1")
    scene.db.execute(
        text("UPDATE directory_claims SET status = 'confirmed', decided_by = :by WHERE id = :id"),
        {"by": scene.inv["2"].account.id, "id": claim.id},
    )
    scene.db.expire_all()
    inv3 = scene.inv["3"].principal(scene.db, scene.world.clock)

    waiting = [v.claim.id for v in scene.claims.pending(inv3)]
    reported = {u.row_id for u in untrusted_rows(scene.db, SECRET)}
    scene.claims.refuse(inv3, claim.id)

    assert waiting == [claim.id]
    assert claim.id in reported
    assert not scene.in_history("1")
    assert scene.sees("1")
    assert key_ring(scene.db).holds(scene.case.id, CASE, scene.inv["1"].account.id)


def test_a_claim_row_written_by_hand_is_nobodys_to_decide(scene: Scene) -> None:
    """A claim inserted by SQL (no MAC) keeps excluding, like every claim, but no key holder
    can confirm or refuse it: it is reported instead."""
    scene.db.execute(
        text(
            "INSERT INTO directory_claims (id, kind, staff_id, employee_id, made_by, made_at, "
            "status) VALUES ('forged', 'link', :staff, 'S1', :by, :at, 'pending')"
        ),
        {
            "staff": scene.inv["2"].account.id,
            "by": scene.boss.account.id,
            "at": scene.world.clock.now(),
        },
    )
    inv3 = scene.inv["3"].principal(scene.db, scene.world.clock)

    with pytest.raises(NotFound):
        scene.claims.refuse(inv3, "forged")
    assert not scene.sees("2")
    assert "forged" in {u.row_id for u in untrusted_rows(scene.db, SECRET)}


def test_an_import_claims_only_what_the_directory_did_not_already_prove(scene: Scene) -> None:
    """An admin's upload: a new hire's entry with an account's e-mail, and a new rep under
    V1 (no account above), stay as today; S1's row given inv2's e-mail, R1 moved under C3, and
    R2 put under S1 (whom the first claim makes inv2) are claims, and keep inv2 away at once.
    While the directory still says so, the claim cannot be refused."""
    boss = scene.boss.principal(scene.db, scene.world.clock)
    hire = scene.world.staff("new.hire@corp.example", "investigator")

    scene.admin.import_directory(
        boss,
        [
            Row("S1", "Director Sun", "inv2@corp.example", "Sales", ""),
            Row("R1", "Rep Li", "li@corp.example", "Sales", "C3"),
            Row("R2", "Rep Wu", "wu@corp.example", "Sales", "S1"),
            Row("R3", "Rep Ma", "ma@corp.example", "Sales", "V1"),
            Row("V1", "VP Gao", "gao@corp.example", "Sales", ""),
            Row("H1", "New Hire", "new.hire@corp.example", "Compliance", ""),
            *DIRECTORY[2:],
        ],
    )
    made = {
        (c.kind, c.staff_id, c.employee_id, c.manager_employee_id)
        for c in scene.db.scalars(select(DirectoryClaim))
    }

    assert made == {
        ("link", scene.inv["2"].account.id, "S1", None),
        ("edge", None, "R1", "C3"),
        ("edge", None, "R2", "S1"),
    }
    assert scene.db.get(DirectoryLink, (hire.account.id, "H1")) is not None
    assert not scene.sees("2")
    link = scene.db.scalars(select(DirectoryClaim).where(DirectoryClaim.kind == "link")).one()
    with pytest.raises(Conflict):
        scene.claims.refuse(scene.inv["1"].principal(scene.db, scene.world.clock), link.id)


def test_a_refused_claim_moves_the_token_of_the_text_scan(scene: Scene) -> None:
    """The text scan's names follow the chains, claims included: a refusal (a deleted claim
    and nothing else) moves the people_version token, so every process builds its set anew."""
    claim = scene.link_then_back("1")

    def token() -> str:
        return scene.db.execute(select(PeopleVersion.token)).scalar_one()

    before = token()
    scene.claims.refuse(scene.inv["3"].principal(scene.db, scene.world.clock), claim.id)

    assert token() != before
