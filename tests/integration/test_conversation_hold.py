"""A reporter's message is never placed between staff items that keep their minute: it is
held out of the conversation's order until the next full hour, then placed after every staff
item written before then. Staff see it from that hour; the reporter sees it at once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from support.staff_world import SECRET, ZONE, build_world

import crypto
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import FixedClock
from cases.principals import ReporterPrincipal
from cases.reports.conversation import release_held
from cases.reports.intake import IntakeConfig
from cases.reports.models import CaseItem, Receipt
from cases.reports.reporter import ReporterConfig, ReporterService
from cases.sessions.service import SessionPolicy, ThrottleRule


def test_a_reporter_message_between_two_staff_notes_does_not_tell_the_minute(
    db_session: Session,
) -> None:
    """Notes at 09:17 and 09:24, the reporter's message at 09:20: until 10:00 staff do not
    see it, and from 10:00 it comes after both notes, its time stored as 10:00 at most."""
    clock = FixedClock(datetime(2026, 3, 2, 9, 17))
    world = build_world(db_session, clock)
    ana = world.staff("ana@example.com", "investigator")
    filed = world.file()
    work = CaseworkService(db_session, clock, CaseworkConfig(ZONE, SECRET))
    me = ana.principal(db_session, clock)
    reporter = ReporterService(
        db_session,
        clock,
        ReporterConfig(
            intake=IntakeConfig(ZONE, crypto.profile_named("test", allow_test=True), SECRET),
            session=SessionPolicy(900, 7200),
            per_selector=ThrottleRule(5, 900, hourly=True),
        ),
    )
    receipt = db_session.get(Receipt, filed.case.receipt_id)
    assert receipt is not None
    principal = ReporterPrincipal(receipt, filed.reporter_key)

    work.add_note(me, filed.case.id, "Called the customer.")
    clock.advance(minutes=3)
    reporter.reply(principal, "It was the order of 12 March.")
    clock.advance(minutes=4)
    work.add_note(me, filed.case.id, "Checked the ledger.")
    before = [m.body for m in work.view(me, filed.case.id).messages]
    mine_before = [m.body for m in reporter.view(principal).messages]
    clock.advance(minutes=36)  # 10:00
    released = release_held(db_session, clock.now())

    items = db_session.scalars(
        select(CaseItem).where(CaseItem.case_id == filed.case.id).order_by(CaseItem.seq)
    ).all()
    after = [m.body for m in work.view(me, filed.case.id).messages]
    assert before == []
    assert mine_before == ["It was the order of 12 March."]
    assert released == 1
    assert [(i.author, i.seq) for i in items] == [("staff", 1), ("staff", 2), ("reporter", 3)]
    assert items[2].created_at == datetime(2026, 3, 2, 10, 0)
    assert after == ["It was the order of 12 March."]
