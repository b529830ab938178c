"""A directory change never lifts an exclusion: who an account has been and whom each person
reported to are kept (migration 0025_directory_history), so an admin who re-imports the
directory, or edits it by hand, cannot hand the accused sales director the reports about
them or their rep (docs/access.md, "A directory change does not lift an exclusion")."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from support.staff_world import SECRET, ZONE, World, build_world

from cases.access.policy import may_see, visible_condition
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import FixedClock
from cases.errors import Invalid
from cases.reports.intake import SubjectInput
from cases.reports.models import Case, KeyWrap
from cases.staff.directory import DirectoryService, Row

SALES = [
    Row("D1", "Director Wu", "director@corp.example", "Sales", ""),
    Row("D2", "Director Zhou", "zhou@corp.example", "Sales", ""),
    Row("E3", "李强", "", "Sales", "D1"),
]


class Scene:
    """The sales director (D1, an investigator), a neutral investigator, and two reports: one
    names the director by employee id, one names his rep 李强."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.world: World = build_world(db, FixedClock())
        self.directory = DirectoryService(db, self.world.clock, SECRET)
        self.directory.import_rows(SALES)
        self.world.staff("director@corp.example", "investigator")
        self.world.staff("neutral@corp.example", "investigator")
        self.about_him = self.world.file(subjects=[SubjectInput(name="Wu", employee_id="D1")]).case
        self.about_rep = self.world.file(subjects=[SubjectInput(name="李强")]).case

    def kept_away(self, case: Case) -> bool:
        """Refused by may_see and absent from the case list."""
        account = self.world.people["director@corp.example"].account
        listed = set(self.db.scalars(select(Case.id).where(visible_condition(account, self.db))))
        return not may_see(self.db, account, case) and case.id not in listed

    def assign_director(self, case: Case) -> None:
        me = self.world.people["neutral@corp.example"].principal(self.db, self.world.clock)
        work = CaseworkService(self.db, self.world.clock, CaseworkConfig(ZONE, SECRET))
        work.assign(me, case.id, self.world.people["director@corp.example"].account.id)


@pytest.fixture
def scene(db_session: Session) -> Scene:
    found = Scene(db_session)
    assert found.kept_away(found.about_him)
    assert found.kept_away(found.about_rep)
    return found


def test_a_new_employee_id_for_the_accused_does_not_hand_him_the_reports(scene: Scene) -> None:
    """An import moves the director's e-mail to a fresh entry D9 and gives D1 another address:
    both reports stay away from him, and assigning him is refused with no key given."""
    scene.directory.import_rows(
        [
            Row("D1", "Director Wu", "old-d1@corp.example", "Sales", ""),
            Row("D9", "Director Wu", "director@corp.example", "Sales", ""),
            *SALES[1:],
        ]
    )
    scene.db.flush()

    assert scene.kept_away(scene.about_him)
    assert scene.kept_away(scene.about_rep)
    with pytest.raises(Invalid):
        scene.assign_director(scene.about_him)
    wraps = select(KeyWrap.staff_id).where(KeyWrap.case_id == scene.about_him.id)
    assert scene.world.people["director@corp.example"].account.id not in set(
        scene.db.scalars(wraps)
    )


def test_moving_the_named_rep_under_another_manager_keeps_the_former_one_away(
    scene: Scene,
) -> None:
    """李强 now reports to D2: D1 stays away from the report about 李强 (and D2 joins him)."""
    scene.directory.import_rows([*SALES[:2], Row("E3", "李强", "", "Sales", "D2")])
    scene.db.flush()

    assert scene.kept_away(scene.about_rep)
    with pytest.raises(Invalid):
        scene.assign_director(scene.about_rep)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE staff_accounts SET email = 'someone-else@corp.example' "
        "WHERE email = 'director@corp.example'",
        "UPDATE directory_entries SET employee_id = 'D1-OLD' WHERE employee_id = 'D1'",
        "UPDATE directory_entries SET email = NULL WHERE employee_id = 'D1'",
        "UPDATE directory_entries SET manager_employee_id = NULL WHERE employee_id = 'E3'",
        "DELETE FROM directory_entries WHERE employee_id IN ('D1', 'E3')",
    ],
    ids=["account-email", "entry-id", "entry-email", "rep-manager", "entries-deleted"],
)
def test_a_change_made_by_hand_in_the_database_lifts_no_exclusion(
    scene: Scene, statement: str
) -> None:
    """The same changes typed as SQL behind the portal's back: the history is kept by
    triggers, so the director stays away from both reports."""
    scene.db.execute(text(statement))
    scene.db.expire_all()

    assert scene.kept_away(scene.about_him)
    assert scene.kept_away(scene.about_rep)
