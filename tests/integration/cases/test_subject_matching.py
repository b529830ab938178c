"""One matcher for every person named: spelling cannot dodge it, and every fact that changes
(directory import, confirming, adding a subject, linking an account) removes keys at once."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.staff_world import PROFILE, SECRET, ZONE, World, build_world, key_ring

from cases.access.matching import Matcher
from cases.access.policy import may_see, visible_condition
from cases.access.service import AccessService
from cases.audit.service import AuditLog
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import FixedClock
from cases.errors import Forbidden
from cases.org.admin import AdminConfig, AdminService
from cases.reports.intake import IntakeConfig, SubjectInput
from cases.reports.keys import CASE
from cases.reports.models import Case, CaseSubject, KeyWrap
from cases.staff.directory import DirectoryService, Row

CONFIG = IntakeConfig(ZONE, PROFILE, SECRET)


def _world(db: Session, person: Row) -> World:
    """A chain CEO (C1) > director (D1) > the person; all three, and a neutral, are staff."""
    world = build_world(db, FixedClock())
    DirectoryService(db, world.clock, SECRET).import_rows(
        [
            Row("C1", "Chief", "ceo@corp.example", "Board", ""),
            Row("D1", "Director", "director@corp.example", "Sales", "C1"),
            person,
        ]
    )
    world.staff("ceo@corp.example", "investigator", employee_id="C1")
    world.staff("director@corp.example", "investigator", employee_id="D1")
    world.staff(person.email, "investigator", employee_id=person.employee_id)
    world.staff("neutral@corp.example", "investigator")
    return world


def _holders(db: Session, case_id: str) -> set[str]:
    rows = db.scalars(select(KeyWrap.staff_id).where(KeyWrap.case_id == case_id))
    return {row for row in rows if row}


def _shut_out(db: Session, world: World, case: Case, *emails: str) -> None:
    """Each person is refused by may_see, absent from the list, and holds no key."""
    holders = _holders(db, case.id)
    for email in emails:
        account = world.people[email].account
        assert not may_see(db, account, case), email
        assert case.id not in set(db.scalars(select(Case.id).where(visible_condition(account))))
        assert account.id not in holders, email


ZHANG = Row("E3", "Zhang Wei", "zhang.wei@corp.example", "Sales", "D1")
ZHANG_HAN = Row("E3", "张伟", "zhang.wei@corp.example", "Sales", "D1")
VARIANTS = [
    (ZHANG, SubjectInput(name="zhang wei")),
    (ZHANG, SubjectInput(name="ZHANG WEI")),
    (ZHANG, SubjectInput(name="Zhang  Wei")),
    (ZHANG, SubjectInput(name="Wei Zhang")),
    (ZHANG, SubjectInput(name="Somebody", employee_id="Zhang.Wei@Corp.Example")),
    (ZHANG, SubjectInput(name="Somebody", employee_id="e3")),
    (ZHANG_HAN, SubjectInput(name="张 伟")),
    (ZHANG_HAN, SubjectInput(name="Zhang Wei")),
    # With a title, honorific or department, as people write about a boss.
    (ZHANG_HAN, SubjectInput(name="张伟经理")),
    # In traditional characters, alone and with a title.
    (ZHANG_HAN, SubjectInput(name="張偉")),
    (ZHANG_HAN, SubjectInput(name="銷售總監張偉")),
    (ZHANG_HAN, SubjectInput(name="销售总监张伟")),
    (ZHANG_HAN, SubjectInput(name="张伟（销售部）")),
    (ZHANG_HAN, SubjectInput(name="Sales director Zhang Wei")),
    (ZHANG, SubjectInput(name="Mr. Zhang Wei")),
    (ZHANG, SubjectInput(name="Zhang Wei (Sales Director)")),
    (Row("E3", "吕伟", "lv.wei@corp.example", "Sales", "D1"), SubjectInput(name="LYU Wei")),
]


VARIANT_IDS = [
    "lower",
    "upper",
    "double-space",
    "reversed",
    "email-in-id-field",
    "lowercase-id",
    "han-with-space",
    "pinyin-for-han",
    "han-with-title-after",
    "traditional-han",
    "traditional-han-with-title",
    "han-with-title-before",
    "han-with-department",
    "pinyin-with-title",
    "latin-with-honorific",
    "latin-with-title",
    "passport-spelling-of-u-umlaut",
]


@pytest.mark.parametrize(("person", "typed"), VARIANTS, ids=VARIANT_IDS)
def test_each_spelling_excludes_the_person_and_their_chain(
    db_session: Session, person: Row, typed: SubjectInput
) -> None:
    """Every spelling the issue lists keeps the report from the person, director and CEO."""
    world = _world(db_session, person)

    filed = world.file(subjects=[typed])

    _shut_out(db_session, world, filed.case, person.email, "director@corp.example")
    _shut_out(db_session, world, filed.case, "ceo@corp.example")
    assert _holders(db_session, filed.case.id) == {world.people["neutral@corp.example"].account.id}


def test_an_alias_from_the_directory_matches_and_waits_for_confirmation(
    db_session: Session,
) -> None:
    """A nickname in the directory's aliases column excludes the person until confirmed."""
    world = _world(
        db_session, Row("E3", "张伟", "zw@corp.example", "Sales", "D1", "Tom Zhang|小张")
    )

    filed = world.file(subjects=[SubjectInput(name="tom  ZHANG")])

    _shut_out(db_session, world, filed.case, "zw@corp.example", "director@corp.example")
    rows = db_session.scalars(select(CaseSubject).where(CaseSubject.case_id == filed.case.id))
    assert [(r.matched_by, r.needs_confirmation) for r in rows] == [("alias", True)]


def test_only_an_exact_identifier_settles_a_match(db_session: Session) -> None:
    """Id and name agreeing settle it; a name alone or a pinyin match waits for confirmation."""
    world = _world(db_session, ZHANG_HAN)

    exact = world.file(subjects=[SubjectInput(name="张伟", employee_id=" e3 ")])
    fuzzy = world.file(subjects=[SubjectInput(name="Zhang Wei")])

    def states(case: Case) -> list[tuple[str, bool]]:
        rows = db_session.scalars(select(CaseSubject).where(CaseSubject.case_id == case.id))
        return [(r.matched_by, r.needs_confirmation) for r in rows]

    assert states(exact.case) == [("id+name", False)]
    assert states(fuzzy.case) == [("pinyin", True)]


def test_an_id_named_before_the_directory_had_it_is_enforced_on_import(
    db_session: Session,
) -> None:
    """The issue's failure: "Wang Qiang, E1043" filed first; the import that puts E1043 under
    the director removes the director's key at once (and says so)."""
    world = _world(db_session, ZHANG)
    filed = world.file(subjects=[SubjectInput(name="Wang Qiang", employee_id="E1043")])
    director = world.people["director@corp.example"].account
    assert director.id in _holders(db_session, filed.case.id)
    admin = world.staff("admin@corp.example", "admin").principal(db_session, world.clock)

    result = AdminService(db_session, world.clock, AdminConfig(SECRET, PROFILE)).import_directory(
        admin, [Row("E1043", "王强", "", "Sales", "D1")]
    )

    assert result.revoked >= 2  # the director and the CEO above her
    _shut_out(db_session, world, filed.case, "director@corp.example", "ceo@corp.example")


def test_a_name_filed_before_the_person_joined_the_directory_is_matched_on_import(
    db_session: Session,
) -> None:
    """A name-only subject nobody had becomes a candidate when 王强 is imported later."""
    world = _world(db_session, ZHANG)
    filed = world.file(subjects=[SubjectInput(name="Wang Qiang")])
    access = AccessService(db_session, world.clock, AuditLog(db_session, world.clock, SECRET))

    report = DirectoryService(db_session, world.clock, SECRET).import_rows(
        [Row("E1043", "王强", "", "Sales", "D1")]
    )
    access.enforce_all()

    assert report.rematched_cases == {filed.case.id}
    _shut_out(db_session, world, filed.case, "director@corp.example", "ceo@corp.example")


def test_a_candidate_found_by_an_import_is_shown_and_can_be_confirmed(
    db_session: Session,
) -> None:
    """The case page lists the later candidate under the name as typed, marked to confirm;
    confirming it keeps the chain excluded."""
    world = _world(db_session, ZHANG)
    filed = world.file(subjects=[SubjectInput(name="Wang Qiang")])
    DirectoryService(db_session, world.clock, SECRET).import_rows(
        [Row("E1043", "王强", "", "Sales", "D1")]
    )
    neutral = world.people["neutral@corp.example"].principal(db_session, world.clock)
    key = key_ring(db_session).open_for_staff(filed.case.id, CASE, neutral)
    assert key is not None
    access = AccessService(db_session, world.clock, AuditLog(db_session, world.clock, SECRET))

    view = CaseworkService(db_session, world.clock, CaseworkConfig(ZONE, SECRET)).view(
        neutral, filed.case.id
    )
    rows = access.subjects(filed.case, key)
    candidate = next(row for row in rows if row.needs_confirmation)
    access.confirm_subject(neutral, filed.case, key, candidate.id)

    assert [(s["name"], s["needs_confirmation"]) for s in view.subjects] == [("Wang Qiang", True)]
    assert (candidate.name, candidate.matched_by, candidate.entry_name) == (
        "Wang Qiang",
        "pinyin",
        "王强",
    )
    _shut_out(db_session, world, filed.case, "director@corp.example", "ceo@corp.example")


def test_confirming_a_match_removes_keys_at_once(db_session: Session) -> None:
    """A key left with a candidate's manager (a stale wrap) is gone the moment someone confirms."""
    world = _world(db_session, ZHANG)
    filed = world.file(subjects=[SubjectInput(name="zhang wei")])
    neutral = world.people["neutral@corp.example"].principal(db_session, world.clock)
    key = key_ring(db_session).open_for_staff(filed.case.id, CASE, neutral)
    assert key is not None
    director = world.people["director@corp.example"].account
    key_ring(db_session).wrap_for_staff(filed.case.id, CASE, key, director)
    access = AccessService(db_session, world.clock, AuditLog(db_session, world.clock, SECRET))
    candidate = db_session.scalars(
        select(CaseSubject).where(CaseSubject.case_id == filed.case.id)
    ).one()

    revoked = access.confirm_subject(neutral, filed.case, key, candidate.id)

    assert [r.staff_id for r in revoked] == [director.id]
    assert candidate.matched_by == "confirmed"
    _shut_out(db_session, world, filed.case, "director@corp.example")


def test_a_candidate_cannot_settle_their_own_match(db_session: Session) -> None:
    """Only someone the policy lets see the case decides: a candidate's manager is refused."""
    world = _world(db_session, ZHANG)
    filed = world.file(subjects=[SubjectInput(name="zhang wei")])
    director = world.people["director@corp.example"].principal(db_session, world.clock)
    access = AccessService(db_session, world.clock, AuditLog(db_session, world.clock, SECRET))
    candidate = db_session.scalars(
        select(CaseSubject).where(CaseSubject.case_id == filed.case.id)
    ).one()

    with pytest.raises(Forbidden):
        access.reject_subject(director, filed.case, candidate.id)
    assert candidate.needs_confirmation


def test_a_rejected_candidate_is_not_proposed_again_by_a_reimport(db_session: Session) -> None:
    """Rejecting frees the person; re-importing the directory does not make them a candidate."""
    world = _world(db_session, ZHANG)
    filed = world.file(subjects=[SubjectInput(name="zhang wei")])
    neutral = world.people["neutral@corp.example"].principal(db_session, world.clock)
    access = AccessService(db_session, world.clock, AuditLog(db_session, world.clock, SECRET))
    candidate = db_session.scalars(
        select(CaseSubject).where(CaseSubject.case_id == filed.case.id)
    ).one()

    access.reject_subject(neutral, filed.case, candidate.id)
    DirectoryService(db_session, world.clock, SECRET).import_rows(
        [Row("E3", "Zhang Wei", "zhang.wei@corp.example", "Sales", "D1", "ZW")]
    )

    director = world.people["director@corp.example"].account
    assert may_see(db_session, director, filed.case)
    rows = list(db_session.scalars(select(CaseSubject).where(CaseSubject.case_id == filed.case.id)))
    assert [(r.matched_by, r.directory_hash) for r in rows] == [("rejected", None)]


def test_adding_a_subject_by_a_lowercase_id_removes_the_chain(db_session: Session) -> None:
    """An investigator naming "e3" (for E3) takes the key from E3's director and CEO at once."""
    world = _world(db_session, ZHANG)
    filed = world.file(subjects=[])
    neutral = world.people["neutral@corp.example"].principal(db_session, world.clock)
    key = key_ring(db_session).open_for_staff(filed.case.id, CASE, neutral)
    assert key is not None
    access = AccessService(db_session, world.clock, AuditLog(db_session, world.clock, SECRET))

    revoked = access.add_subject(
        neutral, filed.case, key, SubjectInput(name="?", employee_id="e3"), CONFIG
    )

    assert len(revoked) == 3  # the person, the director, the CEO
    _shut_out(db_session, world, filed.case, "director@corp.example", "ceo@corp.example")


def test_linking_an_account_to_an_employee_id_removes_keys_at_once(db_session: Session) -> None:
    """An account linked to the director's entry loses the key of a report on her report."""
    world = _world(db_session, ZHANG)
    other = world.staff("second.mailbox@corp.example", "investigator")
    filed = world.file(subjects=[SubjectInput(name="X", employee_id="E3")])
    assert other.account.id in _holders(db_session, filed.case.id)
    admin = world.staff("admin@corp.example", "admin").principal(db_session, world.clock)

    AdminService(db_session, world.clock, AdminConfig(SECRET, PROFILE)).link_employee(
        admin, other.account.id, "D1"
    )

    _shut_out(db_session, world, filed.case, "second.mailbox@corp.example")


def test_the_matcher_finds_every_candidate_of_a_common_name(db_session: Session) -> None:
    """Two people share a name: both are candidates, so both chains stay excluded."""
    world = _world(db_session, ZHANG)
    DirectoryService(db_session, world.clock, SECRET).import_rows(
        [Row("E7", "章 伟", "", "Audit", "")]
    )

    found = Matcher(db_session, SECRET).candidates("Zhang Wei")

    assert [(c.employee_id, c.exact) for c in found] == [("E3", False), ("E7", False)]


def _states(db: Session, case: Case) -> list[tuple[str, bool]]:
    rows = db.scalars(select(CaseSubject).where(CaseSubject.case_id == case.id))
    return sorted((r.matched_by, r.needs_confirmation) for r in rows)


def test_a_name_within_what_was_typed_waits_for_confirmation(db_session: Session) -> None:
    """ "销售总监张伟": 张伟 is a candidate to confirm ("within"), never settled by it."""
    world = _world(db_session, ZHANG_HAN)

    filed = world.file(subjects=[SubjectInput(name="销售总监张伟")])

    assert _states(db_session, filed.case) == [("within", True)]
    found = Matcher(db_session, SECRET).candidates("张伟经理")
    assert [(c.employee_id, c.kind, c.exact) for c in found] == [("E3", "within", False)]


def test_a_whole_name_match_keeps_the_names_within_it_out(db_session: Session) -> None:
    """张伟强 is in the directory: "张伟强" means them, and 张伟 (whose name is inside it)
    is not a candidate. Without 张伟强 in the directory, 张伟 is one."""
    world = _world(db_session, ZHANG_HAN)
    matcher = Matcher(db_session, SECRET)
    assert [(c.employee_id, c.kind) for c in matcher.candidates("张伟强")] == [("E3", "within")]

    DirectoryService(db_session, world.clock, SECRET).import_rows(
        [Row("E8", "张伟强", "zwq@corp.example", "Audit", "")]
    )

    assert [(c.employee_id, c.kind) for c in matcher.candidates("张伟强")] == [("E8", "name")]
    assert [(c.employee_id, c.kind) for c in matcher.candidates("张伟强经理")] == [
        ("E3", "within"),
        ("E8", "within"),
    ]
    assert matcher.candidates("Mr Zhang") == []  # one word is nobody, with a title or not


def test_a_name_within_is_found_when_the_person_joins_the_directory_later(
    db_session: Session,
) -> None:
    """ "Wang Qiang (Sales)" filed before 王强 was imported: the import makes 王强 a candidate
    and takes the keys of the chain above at once."""
    world = _world(db_session, ZHANG)
    filed = world.file(subjects=[SubjectInput(name="Sales manager Wang Qiang")])
    director = world.people["director@corp.example"].account
    assert director.id in _holders(db_session, filed.case.id)
    access = AccessService(db_session, world.clock, AuditLog(db_session, world.clock, SECRET))

    report = DirectoryService(db_session, world.clock, SECRET).import_rows(
        [Row("E1043", "王强", "", "Sales", "D1")]
    )
    access.enforce_all()

    assert report.rematched_cases == {filed.case.id}
    assert ("within", True) in _states(db_session, filed.case)
    _shut_out(db_session, world, filed.case, "director@corp.example", "ceo@corp.example")


def test_an_import_adds_no_name_within_beside_a_whole_match(db_session: Session) -> None:
    """ "张伟强" matched 张伟强 at filing; importing someone named 张伟 later adds nothing."""
    world = _world(db_session, Row("E8", "张伟强", "zwq@corp.example", "Sales", "D1"))
    filed = world.file(subjects=[SubjectInput(name="张伟强")])
    assert _states(db_session, filed.case) == [("name", True)]

    report = DirectoryService(db_session, world.clock, SECRET).import_rows(
        [Row("E9", "张伟", "zw9@corp.example", "Audit", "")]
    )

    assert report.rematched_cases == set()
    assert _states(db_session, filed.case) == [("name", True)]
