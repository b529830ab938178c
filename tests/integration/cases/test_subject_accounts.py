"""Portal accounts are people the matcher knows, directory or not: a report naming an
investigator by the account's name or e-mail never reaches them, nor the managers above the
directory entry the account is linked to, nor an account made after the report."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.staff_world import SECRET, World, build_world, key_ring

from cases.access.policy import eligible, may_see, visible_condition
from cases.access.service import AccessService
from cases.audit.service import AuditLog
from cases.clock import FixedClock
from cases.reports.intake import SubjectInput
from cases.reports.keys import CASE
from cases.reports.models import Case, CaseSubject, KeyWrap
from cases.staff.directory import DirectoryService, Row


def _holders(db: Session, case: Case) -> set[str]:
    rows = db.scalars(select(KeyWrap.staff_id).where(KeyWrap.case_id == case.id))
    return {row for row in rows if row}


def _kept_away(db: Session, world: World, case: Case, email: str) -> None:
    account = world.people[email].account
    assert not may_see(db, account, case), email
    assert case.id not in set(db.scalars(select(Case.id).where(visible_condition(account))))
    assert account.id not in _holders(db, case), email


NAMINGS = [
    SubjectInput(name="Li Qiang"),
    SubjectInput(name="QIANG LI"),
    SubjectInput(name="李强"),
    SubjectInput(name="Sales manager Li Qiang"),
    SubjectInput(name="Somebody", email="Li.Qiang@corp.example"),
    SubjectInput(name="li.qiang@corp.example"),
]


@pytest.mark.parametrize(
    "typed", NAMINGS, ids=["name", "reversed", "han", "with-title", "email", "email-as-name"]
)
def test_an_account_the_directory_does_not_know_is_kept_away_when_named(
    db_session: Session, typed: SubjectInput
) -> None:
    """No directory at all (a small company that never imported one): the investigator
    named by the account's name, its pinyin or its e-mail gets neither the case nor its key."""
    world = build_world(db_session, FixedClock())
    world.staff("li.qiang@corp.example", "investigator", name="Li Qiang")
    world.staff("neutral@corp.example", "investigator")

    filed = world.file(subjects=[typed])

    _kept_away(db_session, world, filed.case, "li.qiang@corp.example")
    assert world.people["neutral@corp.example"].account.id in _holders(db_session, filed.case)


def test_the_account_e_mail_is_exact_and_a_name_waits_for_confirmation(
    db_session: Session,
) -> None:
    """The account's e-mail settles who was meant; its name is a candidate to confirm. The
    access page shows the account behind each row."""
    world = build_world(db_session, FixedClock())
    li = world.staff("li.qiang@corp.example", "investigator", name="Li Qiang")
    world.staff("neutral@corp.example", "investigator")
    by_mail = world.file(subjects=[SubjectInput(name="x", email="li.qiang@corp.example")])
    by_name = world.file(subjects=[SubjectInput(name="Li Qiang")])
    neutral = world.people["neutral@corp.example"].principal(db_session, world.clock)
    access = AccessService(db_session, world.clock, AuditLog(db_session, world.clock, SECRET))

    rows = []
    for filed in (by_mail, by_name):
        key = key_ring(db_session).open_for_staff(filed.case.id, CASE, neutral)
        assert key is not None
        rows += [
            (r.matched_by, r.needs_confirmation, r.entry_name)
            for r in access.subjects(filed.case, key)
        ]

    assert rows == [("email", False, "Li Qiang"), ("name", True, "Li Qiang")]
    assert li.account.id not in _holders(db_session, by_name.case)


def test_an_account_named_by_its_own_name_keeps_its_managers_away_too(
    db_session: Session,
) -> None:
    """王伟 is E3 under a director in the directory; their account calls them "David Wang",
    which the directory does not know. Named as David Wang, both 王伟 and the director above
    are kept away, as if the directory entry had been named."""
    world = build_world(db_session, FixedClock())
    DirectoryService(db_session, world.clock, SECRET).import_rows(
        [
            Row("D1", "Director", "director@corp.example", "Sales", ""),
            Row("E3", "王伟", "wang.wei@corp.example", "Sales", "D1"),
        ]
    )
    world.staff("director@corp.example", "investigator", employee_id="D1")
    world.staff("david@corp.example", "investigator", name="David Wang", employee_id="E3")
    world.staff("neutral@corp.example", "investigator")

    filed = world.file(subjects=[SubjectInput(name="David Wang")])

    _kept_away(db_session, world, filed.case, "david@corp.example")
    _kept_away(db_session, world, filed.case, "director@corp.example")
    rows = db_session.scalars(select(CaseSubject).where(CaseSubject.case_id == filed.case.id))
    assert [(r.matched_by, r.needs_confirmation) for r in rows] == [("name", True)]


def test_an_account_made_after_the_report_is_kept_away(db_session: Session) -> None:
    """The report named li.qiang@… before that account existed: once it is made (by the CLI or
    an admin), the policy refuses it and no investigator can hand it the key."""
    world = build_world(db_session, FixedClock())
    world.staff("neutral@corp.example", "investigator")
    filed = world.file(subjects=[SubjectInput(name="Li Qiang (sales)")])
    by_mail = world.file(subjects=[SubjectInput(name="?", email="li.qiang@corp.example")])

    li = world.staff("li.qiang@corp.example", "investigator", name="Li Qiang")

    for case in (filed.case, by_mail.case):
        assert not may_see(db_session, li.account, case)
        assert eligible(db_session, [li.account], case) == []
