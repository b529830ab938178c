"""Names written only in a report's text keep those people, and everyone above them, away from
the case until an investigator decides (cases/access/mentions.py, docs/access.md)."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session
from support.questionnaires import every_kind
from support.staff_world import SECRET, World, build_world, key_ring

from cases.access.mentions import scan_set
from cases.access.models import CaseSubjectKey, PeopleVersion
from cases.access.policy import may_see, visible_condition
from cases.access.service import AccessService
from cases.audit.service import AuditLog
from cases.clock import FixedClock
from cases.reports.intake import SubjectInput
from cases.reports.keys import CASE
from cases.reports.models import Case, CaseSubject, KeyWrap
from cases.staff.directory import DirectoryService, Row

SALES = [
    Row("D1", "Director", "director@corp.example", "Sales", ""),
    Row("E3", "李强", "", "Sales", "D1"),
    # In the directory, but nobody who could read a case is above them: not looked for.
    Row("E8", "高明", "", "Logistics", ""),
]


def _world(db: Session) -> World:
    """A sales director (an investigator) above 李强, a neutral investigator, and 张伟, an
    investigator the directory does not know."""
    world = build_world(db, FixedClock())
    DirectoryService(db, world.clock, SECRET).import_rows(SALES)
    world.staff("director@corp.example", "investigator", employee_id="D1")
    world.staff("zw@corp.example", "investigator", name="张伟")
    world.staff("neutral@corp.example", "investigator")
    return world


def _file(world: World, details: str, summary: str = "订单问题", **changes: object) -> Case:
    return world.file(summary=summary, **{"details": details, "subjects": [], **changes}).case


def _shut_out(db: Session, world: World, case: Case, email: str) -> None:
    """Refused by may_see, absent from the list, and holding no wrapped key of the case."""
    account = world.people[email].account
    holders = set(db.scalars(select(KeyWrap.staff_id).where(KeyWrap.case_id == case.id)))
    assert not may_see(db, account, case)
    assert case.id not in set(db.scalars(select(Case.id).where(visible_condition(account))))
    assert account.id not in holders


def _candidates(db: Session, case: Case) -> list[tuple[str, bool]]:
    rows = db.scalars(select(CaseSubject).where(CaseSubject.case_id == case.id))
    return sorted((row.matched_by, row.needs_confirmation) for row in rows)


def _neutral_holds_key(db: Session, world: World, case: Case) -> bytes:
    neutral = world.people["neutral@corp.example"].principal(db, world.clock)
    key = key_ring(db).open_for_staff(case.id, CASE, neutral)
    assert key is not None
    return key


def test_an_account_named_inside_a_chinese_title_is_shut_out(db_session: Session) -> None:
    """销售总监张伟 in the details: the investigator 张伟 gets no key and cannot see the case."""
    world = _world(db_session)

    case = _file(world, "销售总监张伟让我把订单转给另一家公司。")

    _shut_out(db_session, world, case, "zw@corp.example")
    assert _candidates(db_session, case) == [("text", True)]
    _neutral_holds_key(db_session, world, case)


def test_a_lowercase_pinyin_spelling_in_english_text_shuts_out_the_chinese_name(
    db_session: Session,
) -> None:
    """ "wei zhang" in English text finds the account named 张伟."""
    world = _world(db_session)

    case = _file(world, "Last week wei zhang asked me to move the order.", summary="Orders")

    _shut_out(db_session, world, case, "zw@corp.example")


def test_the_manager_of_a_rep_named_only_in_the_text_does_not_receive_the_case(
    db_session: Session,
) -> None:
    """李强 is in the directory with no account; his director, an investigator, is kept away."""
    world = _world(db_session)

    case = _file(world, "李强收了供应商的回扣。")

    _shut_out(db_session, world, case, "director@corp.example")
    assert may_see(db_session, world.people["zw@corp.example"].account, case)


def test_a_rep_named_by_employee_id_or_traditional_name_keeps_his_director_away(
    db_session: Session,
) -> None:
    """ "工号E3" and "李強" (traditional) both name 李强: his director gets no key either way,
    and the find is stored as what it is (an id in the id field), to confirm or reject."""
    world = _world(db_session)

    by_id = _file(world, "工号E3的销售收了供应商的回扣。")
    traditional = _file(world, "李強收了供應商的回扣。")

    _shut_out(db_session, world, by_id, "director@corp.example")
    _shut_out(db_session, world, traditional, "director@corp.example")
    assert _candidates(db_session, by_id) == [("text", True)]
    access = AccessService(db_session, world.clock, AuditLog(db_session, world.clock, SECRET))
    rows = access.subjects(by_id, _neutral_holds_key(db_session, world, by_id))
    assert [(r.name, r.employee_id, r.entry_name) for r in rows] == [("", "E3", "李强")]


def test_the_loss_estimate_and_summary_are_scanned_too(db_session: Session) -> None:
    """The summary and the loss estimate are the reporter's text as much as the details."""
    world = _world(db_session)

    in_summary = _file(world, "Nothing else to add.", summary="Kickbacks by Li Qiang")
    in_loss = _file(world, "见附件。", loss_estimate="张伟经手的订单约 50 万")

    _shut_out(db_session, world, in_summary, "director@corp.example")
    _shut_out(db_session, world, in_loss, "zw@corp.example")


def test_the_answers_to_the_channel_questions_are_scanned_too(db_session: Session) -> None:
    """A name written in a free-text answer keeps that person's manager away as well."""
    world = _world(db_session)
    ids = every_kind(world, world.staff("boss@corp.example", "admin"), db_session, world.clock)

    case = _file(
        world,
        "见下。",
        answers={ids["date"]: "2026-03-01", ids["long_text"]: "经手人是李强。"},
    )

    _shut_out(db_session, world, case, "director@corp.example")


def test_a_text_candidate_is_confirmed_or_rejected_like_a_typed_one(db_session: Session) -> None:
    """Confirming keeps the director away; rejecting (on another case) frees him, as for any
    rejected candidate, and both are audited through the existing path."""
    world = _world(db_session)
    confirmed_case = _file(world, "李强收了回扣。")
    rejected_case = _file(world, "李强收了回扣。")
    neutral = world.people["neutral@corp.example"].principal(db_session, world.clock)
    access = AccessService(db_session, world.clock, AuditLog(db_session, world.clock, SECRET))
    director = world.people["director@corp.example"].account
    confirmed_key = _neutral_holds_key(db_session, world, confirmed_case)
    rows = access.subjects(confirmed_case, confirmed_key)
    [row] = rows

    access.confirm_subject(neutral, confirmed_case, confirmed_key, row.id)
    [other] = access.subjects(rejected_case, _neutral_holds_key(db_session, world, rejected_case))
    access.reject_subject(neutral, rejected_case, other.id)

    assert (row.name, row.matched_by, row.entry_name, row.needs_confirmation) == (
        "李强",
        "text",
        "李强",
        True,
    )
    assert not may_see(db_session, director, confirmed_case)
    assert may_see(db_session, director, rejected_case)
    assert _candidates(db_session, rejected_case) == [("rejected", False)]


def test_common_words_and_single_names_make_no_candidate(db_session: Session) -> None:
    """高明 is in the directory but nobody who reads cases is above them, so "这个办法很高明"
    names nobody; "Mr. Zhang" and "Zhang" alone are nobody; a text without names costs none."""
    world = _world(db_session)

    word = _file(world, "这个办法很高明，订单都转走了。")
    surname = _file(world, "Mr. Zhang said Zhang would sign.", summary="Orders")
    plain = _file(world, "The Q3 orders of a key account went to a competitor.", summary="飞单")

    assert _candidates(db_session, word) == []
    assert _candidates(db_session, surname) == []
    assert _candidates(db_session, plain) == []


def test_a_scan_set_name_that_is_also_a_word_is_a_candidate_to_clear(db_session: Session) -> None:
    """The price of the scan, kept small: an investigator named 文明 is a candidate whenever a
    report writes "文明" as a word; one rejection clears it."""
    world = _world(db_session)
    world.staff("wm@corp.example", "investigator", name="文明")

    case = _file(world, "他说话很不文明。")

    assert _candidates(db_session, case) == [("text", True)]
    _shut_out(db_session, world, case, "wm@corp.example")


def test_a_person_typed_and_written_in_the_text_is_one_candidate(db_session: Session) -> None:
    """The typed row is the person's row; the text adds no second one."""
    world = _world(db_session)

    case = _file(world, "李强收了回扣。", subjects=[SubjectInput(name="李强", employee_id="E3")])

    assert _candidates(db_session, case) == [("id+name", False)]


def test_nothing_of_the_name_is_stored_in_clear(db_session: Session) -> None:
    """The row's sealed copy and keyed hashes only: no cell holds 李强 or its pinyin."""
    world = _world(db_session)

    case = _file(world, "李强收了回扣。")

    subject = db_session.scalars(select(CaseSubject).where(CaseSubject.case_id == case.id)).one()
    keys = db_session.scalars(select(CaseSubjectKey).where(CaseSubjectKey.case_id == case.id))
    cells = [subject.directory_hash, subject.sealed, *(k.key_hash for k in keys)]
    assert all(
        b"\xe6\x9d\x8e" not in (c if isinstance(c, bytes) else str(c).encode()) for c in cells
    )
    assert all("liqiang" not in str(c) and "E3" not in str(c) for c in cells)


def test_a_namesake_imported_later_is_a_text_candidate_too(db_session: Session) -> None:
    """The found form's keyed hash is kept like a typed name's: a second 李强 imported later
    is proposed on the case, as "text"."""
    world = _world(db_session)
    case = _file(world, "李强收了回扣。")

    DirectoryService(db_session, world.clock, SECRET).import_rows(
        [*SALES, Row("E9", "李强", "", "Audit", "")]
    )

    assert _candidates(db_session, case) == [("text", True), ("text", True)]


def test_a_new_account_is_looked_for_in_the_next_report(db_session: Session) -> None:
    """The process's scan set follows the database: an account made after a filing (which
    built the set) is found in the next one."""
    world = _world(db_session)
    _file(world, "没有人名。")

    world.staff("wq@corp.example", "investigator", name="王强")
    case = _file(world, "王强把订单转走了。")

    _shut_out(db_session, world, case, "wq@corp.example")


def test_a_change_made_by_hand_in_the_database_reaches_the_scan(db_session: Session) -> None:
    """Another process, or a repair in SQL, renames an account behind this process's back: the
    triggers move the people_version token and the next filing looks for the new name."""
    world = _world(db_session)
    before = _file(world, "赵敏把订单转走了。")
    account = world.people["neutral@corp.example"].account

    db_session.execute(
        text("UPDATE staff_accounts SET name = :name WHERE id = :id"),
        {"name": "赵敏", "id": account.id},
    )
    after = _file(world, "赵敏把订单转走了。")

    assert _candidates(db_session, before) == []
    assert _candidates(db_session, after) == [("text", True)]


def test_the_token_moves_only_with_what_the_scan_reads(db_session: Session) -> None:
    """A role, a name or a manager changes the token; a login's bookkeeping does not."""
    world = _world(db_session)
    account = world.people["neutral@corp.example"].account

    def token() -> str:
        return db_session.execute(select(PeopleVersion.token)).scalar_one()

    first = token()
    db_session.execute(
        text("UPDATE staff_accounts SET totp_last_step = totp_last_step + 1 WHERE id = :id"),
        {"id": account.id},
    )
    after_login = token()
    db_session.execute(
        text("UPDATE directory_entries SET manager_employee_id = NULL WHERE employee_id = 'E3'")
    )
    after_manager = token()
    db_session.execute(
        text("INSERT INTO staff_roles (staff_id, role) VALUES (:id, 'custodian')"),
        {"id": account.id},
    )
    after_role = token()

    assert after_login == first
    assert len({first, after_manager, after_role}) == 3
    assert scan_set(db_session) is scan_set(db_session)
