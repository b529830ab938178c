"""Rows kept in the order of their hour, not of the request that wrote them.

A reporter's rows carry at most the hour in their columns (DESIGN.md, "Anonymity must
hold"), but a database also records the order rows were written in, outside any column:

- SQLite gives every row of a table without an INTEGER primary key a hidden `rowid`, one
  more than the largest in the table. `SELECT rowid` puts a reporter's message between a
  staff note of 09:17 and one of 09:24, and a filing's key wraps between two grants whose
  minute the audit log shows.
- PostgreSQL stamps every row version with the id of the transaction that wrote it
  (`xmin`). Transaction ids rise across all tables, and every staff action writes an audit
  entry with its exact time, so `SELECT xmin` dates any row to the minute.

Once an hour (the jobs round's `row_order` job, `blur`), every row written since the last
round loses that order: SQLite's are moved, in a random order, to fresh rowids below every
row already blurred (new rows always get rowids of 0 and up, because SQLite gives a new row
one more than the largest, so the rows still to blur are exactly those of rowid 0 and up);
PostgreSQL's are rewritten in one transaction, so they all carry that transaction's id.
What is left is the hour, which the columns already give.

Not covered, written down in docs/promises.md: the physical place of a row version in
PostgreSQL (`ctid`, a page and a slot), and what a forensic reading of free pages, the WAL
or PostgreSQL's dead row versions still holds until they are overwritten or vacuumed.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Table, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from cases.db import Base

# The one row of `row_order_marks`: the hour last blurred and, on PostgreSQL, where the next
# round's window of transaction ids starts.
MARK = "last"
# How long the round waits for a row a request holds before giving up until the next round
# (below PostgreSQL's one-second deadlock check, so a request is never the one cancelled).
LOCK_WAIT_MS = 200
_OLDEST_RUNNING = "SELECT txid_snapshot_xmin(txid_current_snapshot())"
# On the first run there is no mark: every row not yet frozen counts as new.
_ALL_OF_THEM = 2**31 - 1


class RowOrderMark(Base):
    __tablename__ = "row_order_marks"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    hour: Mapped[int] = mapped_column(BigInteger)
    xid: Mapped[int | None] = mapped_column(BigInteger)


def hour_of(now: datetime) -> int:
    """Hours since 1970-01-01 00:00 UTC (`now` is naive UTC, as the clock gives it)."""
    return int((now - datetime(1970, 1, 1)).total_seconds() // 3600)


def blurred_tables() -> list[Table]:
    """Every table whose rows have a write order of their own to hide.

    Not a table whose key is one integer column: in SQLite that column is the rowid itself,
    and its value is the order on purpose. The audit chain is one (its entries of
    reporters' requests are held apart in `audit_held` and enter the chain only once their
    day is over); the others are single rows written by staff changes. Nor this table's
    one row, which says nothing of anyone.
    """
    return [
        t
        for t in Base.metadata.sorted_tables
        if t.name != RowOrderMark.__tablename__ and not _integer_key(t)
    ]


def _integer_key(table: Table) -> bool:
    columns = list(table.primary_key.columns)
    return len(columns) == 1 and isinstance(columns[0].type, Integer)


def blur(db: Session, now: datetime) -> int:
    """Once per hour: take away the write order of every row written since the last time.

    Returns how many rows lost it (0 when this hour was already done). Runs in the caller's
    transaction, which the jobs round holds under the job's lease."""
    hour = hour_of(now)
    mark = db.get(RowOrderMark, MARK)
    if mark is not None and mark.hour >= hour:
        return 0
    dialect = db.get_bind().dialect.name
    if dialect == "sqlite":
        moved = sum(_sqlite(db, table.name) for table in blurred_tables())
        xid = None
    elif dialect == "postgresql":
        # Transactions still running may commit rows of this hour after these statements
        # have looked: the next round's window starts at the oldest of them.
        start = int(db.execute(text(_OLDEST_RUNNING)).scalar_one())
        now_xid = int(db.execute(text("SELECT txid_current()")).scalar_one())
        span = _ALL_OF_THEM if mark is None or mark.xid is None else now_xid - mark.xid
        try:
            with db.begin_nested():
                # Never wait long for a row a request holds: a filing waiting on this round
                # would be the one a deadlock check picks. The next round tries again.
                db.execute(text(f"SET LOCAL lock_timeout = '{LOCK_WAIT_MS}ms'"))
                moved = sum(
                    _postgresql(db, table, min(span, _ALL_OF_THEM)) for table in blurred_tables()
                )
        except OperationalError:
            return 0
        xid = start
    else:  # pragma: no cover - the portal runs on these two only
        return 0
    if mark is None:
        db.add(RowOrderMark(name=MARK, hour=hour, xid=xid))
    else:
        mark.hour, mark.xid = hour, xid
    db.flush()
    return moved


def _sqlite(db: Session, table: str) -> int:
    """Move the table's rows of rowid 0 and up, shuffled, below its lowest rowid."""
    quoted = db.get_bind().dialect.identifier_preparer.quote(table)
    fresh = list(db.execute(text(f"SELECT rowid FROM {quoted} WHERE rowid >= 0")).scalars())  # noqa: S608
    if not fresh:
        return 0
    lowest = int(db.execute(text(f"SELECT min(rowid) FROM {quoted}")).scalar_one())  # noqa: S608
    below = min(lowest, 0) - 1
    secrets.SystemRandom().shuffle(fresh)
    moves = [{"old": old, "new": below - place} for place, old in enumerate(fresh)]
    db.execute(text(f"UPDATE {quoted} SET rowid = :new WHERE rowid = :old"), moves)  # noqa: S608
    return len(fresh)


def _postgresql(db: Session, table: Table, span: int) -> int:
    """Rewrite the rows written in the last `span` transactions: they take this one's id."""
    preparer = db.get_bind().dialect.identifier_preparer
    quoted = preparer.quote(table.name)
    key = preparer.quote(next(iter(table.primary_key.columns)).name)
    result = db.execute(
        text(f"UPDATE {quoted} SET {key} = {key} WHERE age(xmin) <= :span"),  # noqa: S608
        {"span": span},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


__all__ = ["MARK", "RowOrderMark", "blur", "blurred_tables", "hour_of"]
