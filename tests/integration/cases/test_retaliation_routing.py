"""A retaliation complaint never reaches the person it accuses: it inherits the first report's
subjects and exclusions, names its own people, and falls back to whoever is still eligible."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from support.staff_world import PROFILE, SECRET, ZONE, World, build_world

from cases.access.reporting import Complaint, file_retaliation
from cases.clock import FixedClock
from cases.notify.models import OutboxMessage
from cases.principals import ReporterPrincipal
from cases.reports.intake import Filed, IntakeConfig, SubjectInput
from cases.reports.models import Case, KeyWrap, Receipt
from cases.staff.directory import DirectoryService, Row

CONFIG = IntakeConfig(ZONE, PROFILE, SECRET, base_url="https://portal.example")


def _world(db: Session, *, second_officer: bool = True) -> World:
    """CEO > HR head 周婷 (a retaliation officer); a sales director; an investigator."""
    world = build_world(db, FixedClock())
    DirectoryService(db, world.clock, SECRET).import_rows(
        [
            Row("C1", "Chief", "ceo@corp.example", "Board", ""),
            Row("H1", "周婷", "hr.head@corp.example", "HR", "C1", "Tina Zhou"),
            Row("S1", "李娜", "sales.director@corp.example", "Sales", "C1"),
        ]
    )
    world.staff("hr.head@corp.example", "retaliation_officer", employee_id="H1")
    world.staff("sales.director@corp.example", "investigator", employee_id="S1")
    world.staff("investigator@corp.example", "investigator")
    world.staff("admin@corp.example", "admin")
    if second_officer:
        world.staff("officer@corp.example", "retaliation_officer")
    return world


def _complain(db: Session, world: World, filed: Filed, complaint: Complaint) -> Case:
    receipt = db.get(Receipt, filed.case.receipt_id)
    assert receipt is not None
    reporter = ReporterPrincipal(receipt, filed.reporter_key)
    case = file_retaliation(db, world.clock, CONFIG, reporter, complaint)
    db.flush()
    return case


def _holders(db: Session, world: World, case: Case) -> set[str]:
    ids = {s for s in db.scalars(select(KeyWrap.staff_id).where(KeyWrap.case_id == case.id)) if s}
    return {p.account.email for p in world.people.values() if p.account.id in ids}


def test_a_complaint_naming_the_hr_head_never_gives_her_a_key(db_session: Session) -> None:
    """Named as "tina zhou" (an alias), the HR head gets no key; the other officer does."""
    world = _world(db_session)
    filed = world.file(subjects=[SubjectInput(name="李娜")])

    case = _complain(
        db_session,
        world,
        filed,
        Complaint("Moved to nights", "The HR head did it.", [SubjectInput(name="tina zhou")]),
    )

    assert _holders(db_session, world, case) == {"officer@corp.example"}


def test_the_complaint_inherits_the_reports_subjects_and_exclusions(db_session: Session) -> None:
    """The first report named the HR head and excluded the other officer: the complaint, which
    names nobody, reaches neither of them and goes to the eligible investigators instead."""
    world = _world(db_session)
    officer = world.people["officer@corp.example"].account
    filed = world.file(subjects=[SubjectInput(name="周 婷")], exclude=[officer.id])

    case = _complain(db_session, world, filed, Complaint("Threatened", "After my report."))

    assert _holders(db_session, world, case) == {
        "investigator@corp.example",
        "sales.director@corp.example",
    }


def test_with_no_officer_left_the_eligible_investigators_receive_it(db_session: Session) -> None:
    """The only officer is accused: the channel's investigators not named or above get it."""
    world = _world(db_session, second_officer=False)
    filed = world.file(subjects=[SubjectInput(name="李娜", employee_id="s1")])

    case = _complain(
        db_session,
        world,
        filed,
        Complaint("Demoted", "By HR.", [SubjectInput(name="Zhou Ting", employee_id="H1")]),
    )

    assert _holders(db_session, world, case) == {"investigator@corp.example"}


def test_with_nobody_eligible_it_is_held_and_admins_hear_only_that_one_waits(
    db_session: Session,
) -> None:
    """Everyone who could receive it is accused or excluded: no staff key, the case is filed
    all the same, and each admin gets one contentless "a case is waiting" mail."""
    world = _world(db_session, second_officer=False)
    investigator = world.people["investigator@corp.example"].account
    filed = world.file(subjects=[SubjectInput(name="李娜")])

    case = _complain(
        db_session,
        world,
        filed,
        Complaint("Ignored", "By HR.", [SubjectInput(name="zhou ting")], exclude=[investigator.id]),
    )

    assert _holders(db_session, world, case) == set()
    mails = list(
        db_session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "case_waiting"))
    )
    assert [m.to_address for m in mails] == ["admin@corp.example"]
    assert case.reference not in mails[0].body
    assert "By HR" not in mails[0].body
    assert mails[0].created_at.minute == 0
    assert mails[0].created_at.second == 0
