"""The people a reporter's later message or file names lose the case when staff first see it.

A reporter's message is held out of the conversation until the next full hour
(cases/reports/conversation.py), and a file they add later is held from staff until then
(cases/reports/arrivals.py). The message's text, or the file's name when the reporter kept
it ("张伟报销单.pdf"), is scanned when it is written, while the reporter's request holds the
case key (Matcher.hold_mentions); the people of the scan set it names wait in
`held_mentions` beside it. When the hour has come, the jobs round calls `release_mentions`
before `release_held` and the arrivals' release: the held people become candidates of the
case (kind "text", as names in a report's text are at filing), the policy takes the case
from everyone they now exclude, their "there is news" mails are withdrawn, and only then is
the message placed, or the file listed, where staff see it (neither is while a mention of
it is still held). Nothing changes before that hour, so
the accused, watching their own access, learns no more than the hour the reporter wrote in.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.access.matching import Matcher
from cases.access.service import AccessService
from cases.audit.service import AuditLog
from cases.clock import Clock
from cases.notify.service import withdraw_team_mail
from cases.reports.models import Attachment, Case, CaseItem, HeldMention


def release_mentions(db: Session, clock: Clock, server_secret: bytes, now: datetime) -> int:
    """Release the held mentions of every held message whose hour has come, and enforce the
    policy on their cases; returns how many people lost a case by it."""
    messages = (
        select(HeldMention)
        .join(CaseItem, CaseItem.id == HeldMention.item_id)
        .where(CaseItem.seq < 0, CaseItem.created_at <= now)
    )
    files = (
        select(HeldMention)
        .join(Attachment, Attachment.id == HeldMention.attachment_id)
        .where(Attachment.held_until <= now)
    )
    by_case: dict[str, list[HeldMention]] = defaultdict(list)
    for stmt in (messages, files):
        # Locked: the mail delivery of another process may release the same hour at once
        # (cases/notify/smtp.py); it waits here, then finds the rows gone.
        ordered = stmt.order_by(HeldMention.case_id, HeldMention.id)
        for row in db.scalars(ordered.with_for_update(of=HeldMention)).all():
            by_case[row.case_id].append(row)
    if not by_case:
        return 0
    matcher = Matcher(db, server_secret)
    access = AccessService(db, clock, AuditLog(db, clock, server_secret))
    revoked = 0
    for case_id, held in sorted(by_case.items()):
        for one in held:
            matcher.release_mentions(one)
        db.flush()
        case = db.get(Case, case_id)
        if case is None:
            continue
        for lost in access.enforce(case):
            revoked += 1
            # The mails that say there is news would still reach them at this hour.
            withdraw_team_mail(db, case_id, lost.staff_id)
    return revoked


__all__ = ["release_mentions"]
