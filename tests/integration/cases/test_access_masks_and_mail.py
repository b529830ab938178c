"""The access rules reach the main case view (masks) and the outbox (who hears about a case)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from support.staff_world import SECRET, ZONE, World, build_world

from cases.access.redaction import MASK_MARK, RedactionService, Span
from cases.access.service import AccessService
from cases.audit.service import AuditLog
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import FixedClock
from cases.notify.models import OutboxMessage
from cases.notify.service import NotifyConfig, Outbox
from cases.reports.intake import SubjectInput
from cases.reports.models import CaseAssignee
from cases.staff.directory import DirectoryService, Row

NOTE = "Met the supplier's cousin Zhang San at the warehouse."
SECRET_PART = "Zhang San"
MAIL = NotifyConfig("https://portal.example", ZONE)


def casework(world: World) -> CaseworkService:
    return CaseworkService(world.db, world.clock, CaseworkConfig(ZONE, SECRET))


def recipients(db: Session) -> set[str]:
    return set(db.scalars(select(OutboxMessage.to_address)))


def test_the_case_view_hides_a_mask_from_everyone_but_its_author(db_session: Session) -> None:
    """Ana masks a name in her note: Bo's case view shows the mark, Ana's the words."""
    world = build_world(db_session, FixedClock())
    world.staff("ana@example.com")
    world.staff("bo@example.com")
    case = world.file().case
    ana = world.people["ana@example.com"].principal(db_session, world.clock)
    bo = world.people["bo@example.com"].principal(db_session, world.clock)
    work = casework(world)
    note = work.add_note(ana, case.id, NOTE)
    key = work.require_key(ana, case)
    start = NOTE.index(SECRET_PART)
    redaction = RedactionService(db_session, world.clock, AuditLog(db_session, world.clock, SECRET))

    redaction.mask(ana, case, key, note.id, Span(start, start + len(SECRET_PART)))
    seen_by_bo = work.view(bo, case.id).notes[0].body
    seen_by_ana = work.view(ana, case.id).notes[0].body

    assert seen_by_ana == NOTE
    assert SECRET_PART not in seen_by_bo
    assert seen_by_bo == NOTE.replace(SECRET_PART, MASK_MARK)


def test_a_new_case_mail_skips_a_key_holder_the_policy_now_excludes(db_session: Session) -> None:
    """Bo still holds the key when the directory makes him the subject's manager: no mail."""
    world = build_world(db_session, FixedClock())
    directory = DirectoryService(db_session, world.clock, SECRET)
    directory.import_rows([Row("E2", "Wang Wei", "wang@example.com", "Sales", "")])
    world.staff("ana@example.com")
    world.staff("bo@example.com", employee_id="B1")
    case = world.file(subjects=[SubjectInput(name="Wang Wei", employee_id="E2")]).case
    directory.import_rows(
        [
            Row("B1", "Bo", "bo@example.com", "Sales", ""),
            Row("E2", "Wang Wei", "wang@example.com", "Sales", "B1"),
        ]
    )
    # Filing already queued its own mails (to both, before the change); start afresh.
    db_session.execute(delete(OutboxMessage))

    queued = Outbox(db_session, world.clock, MAIL).case_filed(case)

    assert queued == 1
    assert recipients(db_session) == {"ana@example.com"}


def test_a_recused_assignee_hears_nothing_more(db_session: Session) -> None:
    """Ana and Bo are assigned; Bo recuses: the reporter's next message mails only Ana."""
    world = build_world(db_session, FixedClock())
    world.staff("ana@example.com")
    world.staff("bo@example.com")
    case = world.file().case
    for email in ("ana@example.com", "bo@example.com"):
        staff_id = world.people[email].account.id
        db_session.add(CaseAssignee(case_id=case.id, staff_id=staff_id))
    bo = world.people["bo@example.com"].principal(db_session, world.clock)
    audit = AuditLog(db_session, world.clock, SECRET)
    AccessService(db_session, world.clock, audit).recuse(bo, case)
    db_session.execute(delete(OutboxMessage))
    db_session.flush()

    queued = Outbox(db_session, world.clock, MAIL).reporter_message(case)

    assert queued == 1
    assert recipients(db_session) == {"ana@example.com"}
