"""A case's conversation in order: each message or note takes the next seq of its case.

Two writers may read the same highest seq at once (PostgreSQL runs them side by side). The
(case_id, seq) unique constraint refuses the second insert; it is retried, a bounded number of
times, inside a savepoint with the next number, so the rest of the transaction is kept.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cases.errors import Conflict
from cases.reports.models import CaseItem

ATTEMPTS = 8


def next_seq(db: Session, case_id: str) -> int:
    """The next position in a case's conversation: orders items made on the same day."""
    stmt = select(func.max(CaseItem.seq)).where(CaseItem.case_id == case_id)
    return int(db.scalar(stmt) or 0) + 1


def add_in_order(db: Session, item: CaseItem) -> CaseItem:
    """Insert `item` with the next free seq of its case, retrying when another writer took it."""
    seq = 0
    for _ in range(ATTEMPTS):
        # Under a snapshot that cannot see the other writer's row, max() repeats: step past it.
        seq = max(next_seq(db, item.case_id), seq + 1)
        item.seq = seq
        try:
            with db.begin_nested():
                db.add(item)
        except IntegrityError:
            continue
        return item
    raise Conflict("Many messages arrived at once. Please send yours again.", code="busy")
