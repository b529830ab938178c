"""Cases with chosen clear metadata, written straight to the table: all statistics read."""

from __future__ import annotations

import os
from datetime import date, timedelta
from itertools import count

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from cases.db import new_id
from cases.org.models import Channel
from cases.reports.models import Case, Receipt

_references = count(1)


def receipt_id(db: Session) -> str:
    """One receipt the seeded cases share (statistics never look at it)."""
    found = db.scalars(select(Receipt.id).where(Receipt.selector == "STATS")).first()
    if found:
        return found
    receipt = Receipt(
        selector="STATS",
        salt=b"s" * 16,
        verifier=b"v" * 32,
        kdf_profile="test",
        created_on=date(2025, 1, 1),
    )
    db.add(receipt)
    db.flush()
    return receipt.id


def seed_cases(
    db: Session,
    channel: Channel,
    how_many: int,
    *,
    submitted_on: date = date(2025, 3, 3),
    category: str = "",
    status: str = "closed",
    outcome: str | None = "substantiated",
    kind: str = "report",
    acknowledged_after: int | None = 2,
    concluded_after: int | None = 40,
) -> list[str]:
    """`how_many` cases with these clear columns; returns their ids."""
    receipt = receipt_id(db)
    rows = []
    for _ in range(how_many):
        n = next(_references)
        rows.append(
            {
                "id": new_id(),
                "reference": f"S{os.getpid() % 1000:03d}{n:07d}",
                "channel_id": channel.id,
                "category_id": category or channel.categories[0].id,
                "kind": kind,
                "status": status,
                "outcome": outcome,
                "submitted_on": submitted_on,
                "acknowledge_by": submitted_on + timedelta(days=7),
                "feedback_by": submitted_on + timedelta(days=97),
                "acknowledged_on": _after(submitted_on, acknowledged_after),
                "concluded_on": _after(submitted_on, concluded_after),
                "receipt_id": receipt,
                "content": b"sealed elsewhere",
            }
        )
    db.execute(insert(Case), rows)
    db.flush()
    return [str(row["id"]) for row in rows]


def _after(day: date, days: int | None) -> date | None:
    return None if days is None else day + timedelta(days=days)
