"""A case's conversation in order: each message or note takes the next seq of its case.

Two writers may read the same highest seq at once (PostgreSQL runs them side by side). The
(case_id, seq) unique constraint refuses the second insert; it is retried, a bounded number of
times, inside a savepoint with the next number, so the rest of the transaction is kept.

A reporter's item is held out of that order until the next full hour (`hold`): staff items
keep their minute, so a reporter message placed between a note at 09:17 and one at 09:24
would say when the reporter wrote. Held, it has a negative seq (its place among the held
items) and its hour in `created_at`; the jobs round (`release_held`) gives it the next seq
once the hour has come, after every staff item written before then. The reporter sees it at
once; staff see it from that hour, which is also when the "there is news" mail goes. The
people a held message names wait with it (HeldMention) and lose the case in that round,
before the message is shown (cases/access/held.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cases.errors import Conflict
from cases.reports.models import CaseItem, HeldMention

ATTEMPTS = 8


def next_seq(db: Session, case_id: str) -> int:
    """The next position in a case's conversation: orders items made on the same day."""
    stmt = select(func.max(CaseItem.seq)).where(CaseItem.case_id == case_id, CaseItem.seq > 0)
    return int(db.scalar(stmt) or 0) + 1


def shown_to_staff() -> ColumnElement[bool]:
    """The items staff may see: those in the shared order (not a reporter's, still held)."""
    return CaseItem.seq > 0


def hold(db: Session, item: CaseItem, until: datetime) -> CaseItem:
    """Insert a reporter's `item` held out of the shared order until `until` (a full hour)."""
    item.created_at = until
    lowest = select(func.min(CaseItem.seq)).where(CaseItem.case_id == item.case_id)
    return _place(db, item, lambda tried: min(min(int(db.scalar(lowest) or 0), 0) - 1, tried - 1))


def release_held(db: Session, now: datetime) -> int:
    """Give every held item whose hour has come the next seq of its case, in the order the
    reporter wrote them; returns how many. An item whose named people are still held stays
    held (cases/access/held.py releases them first, in the same round): staff never see a
    message before the people it names have lost the case."""
    mentions = select(HeldMention.id).where(HeldMention.item_id == CaseItem.id)
    stmt = (
        select(CaseItem)
        .where(CaseItem.seq < 0, CaseItem.created_at <= now, ~mentions.exists())
        .order_by(CaseItem.case_id, CaseItem.seq.desc())
    )
    released = 0
    for item in db.scalars(stmt).all():
        add_in_order(db, item)
        released += 1
    return released


def add_in_order(db: Session, item: CaseItem) -> CaseItem:
    """Insert `item` with the next free seq of its case, retrying when another writer took it."""
    return _place(db, item, lambda tried: max(next_seq(db, item.case_id), tried + 1))


def _place(db: Session, item: CaseItem, pick: Callable[[int], int]) -> CaseItem:
    """Give `item` the seq `pick` chooses (from the one tried last, 0 at first) and write it in
    a savepoint; another writer holding that seq makes it pick again, a bounded number of times.
    Under a snapshot that cannot see the other writer's row, the query repeats: `pick` steps
    past what was tried."""
    seq = 0
    for _ in range(ATTEMPTS):
        seq = pick(seq)
        try:
            with db.begin_nested():
                item.seq = seq
                db.add(item)
        except IntegrityError:
            continue
        return item
    raise Conflict("Many messages arrived at once. Please send yours again.", code="busy")
