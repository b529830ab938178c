"""New cases and a reporter's later evidence wait for the next full hour before staff see them.

An investigator on the team who reloads the case list every minute would otherwise learn the
minute a report was filed (or a file added) and match it against who was away from their
desk. So a new case carries `held_until`, the next full hour (UTC) after its filing, set in
the filing's own insert; a file a reporter adds later carries the next full hour after it was
added. Until it is listed:

- the case is absent from every staff list, count and search (`policy.visible_condition`)
  and its URL answers 404 exactly like a case that does not exist (`policy.may_open`, which
  every case page, API, export, bulk action and flood triage goes through);
- the file is neither listed on the case nor downloadable (`AttachmentReader` for staff);
- the reporter sees both at once (their own pages do not ask).

`release` lists whatever's hour has come (clears `held_until`). The jobs round's sweep runs
it with the held messages (portal/jobs.py), and every mail delivery runs it first, with the
moment it delivers for (cases/notify/smtp.py): the "new case" and "there is news" mails wait
for the same hour, so no mail ever goes out about a case or file staff cannot see yet.
Deadlines still count from the filing day (`submitted_on`): the hold delays the view, not the
law's clock. The key wraps, routing and policy decisions are made at filing as before.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, select, update
from sqlalchemy.orm import Session

from cases.clock import ceil_hour
from cases.reports.models import Attachment, Case, HeldMention


def listed_hour(moment: datetime) -> datetime:
    """The hour from which staff see what a reporter's request added at `moment`: the same
    hour the request's mails are queued for (`notify.service.next_full_hour`)."""
    return ceil_hour(moment)


def case_listed() -> ColumnElement[bool]:
    """Cases staff may see at all: those the hold has let go."""
    return Case.held_until.is_(None)


def file_listed() -> ColumnElement[bool]:
    """Files staff may see at all: those the hold has let go."""
    return Attachment.held_until.is_(None)


# Built once: every jobs round and every mail delivery asks first whether anything is due,
# so an hour with nothing to release writes nothing (no write lock on SQLite).
_DUE_CASE = select(Case.id).where(Case.held_until <= bindparam("now")).limit(1)
# A file whose kept name still holds people back (a HeldMention) waits for the jobs round,
# which takes the case from them first (cases/access/held.py), like a held message.
_NAMES_HELD = select(HeldMention.id).where(HeldMention.attachment_id == Attachment.id).exists()
_DUE_FILE = (
    select(Attachment.id).where(Attachment.held_until <= bindparam("now"), ~_NAMES_HELD).limit(1)
)


def release(db: Session, now: datetime) -> int:
    """List every held case and file whose hour has come; returns how many."""
    released = 0
    if db.scalar(_DUE_CASE, {"now": now}) is not None:
        cases = update(Case).where(Case.held_until <= now).values(held_until=None)
        released += int(db.execute(cases).rowcount or 0)  # type: ignore[attr-defined]
    if db.scalar(_DUE_FILE, {"now": now}) is not None:
        files = (
            update(Attachment)
            .where(Attachment.held_until <= now, ~_NAMES_HELD)
            .values(held_until=None)
        )
        released += int(db.execute(files).rowcount or 0)  # type: ignore[attr-defined]
    return released


__all__ = ["case_listed", "file_listed", "listed_hour", "release"]
