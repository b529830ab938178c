"""Migration 0012 gives cases closed before it their closing day, so retention counts from it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import sqlalchemy as sa

from cases.db import make_engine
from portal import migrations


def _table(name: str, *columns: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(c) for c in columns))


CASES = _table(
    "cases",
    *("id", "reference", "channel_id", "category_id", "kind", "intake", "priority", "status"),
    *("confidential", "submitted_on", "acknowledge_by", "feedback_by", "receipt_id", "content"),
    "concluded_on",
)
EVENTS = _table("case_events", "id", "case_id", "from_status", "to_status", "at")
RECEIPTS = _table("receipts", "id", "selector", "salt", "verifier", "kdf_profile", "created_on")


def test_closed_cases_get_the_day_of_their_last_closing_and_open_ones_none(
    fresh_database: Callable[..., str],
) -> None:
    """Closed twice: the later day; closed with no history: the concluded day; open: none."""
    engine = make_engine(fresh_database(migrate=False))
    migrations.upgrade(engine, "0010_approval_macs")
    with engine.begin() as connection:
        channel, category = connection.execute(
            sa.text("SELECT channel_id, id FROM categories LIMIT 1")
        ).one()
        connection.execute(
            RECEIPTS.insert().values(
                id="r" * 32,
                selector="S" * 7,
                salt=b"s" * 16,
                verifier=b"v" * 32,
                kdf_profile="test",
                created_on=date(2025, 1, 2),
            )
        )
        for ref, status in (("A", "closed"), ("B", "closed"), ("C", "investigating")):
            connection.execute(
                CASES.insert().values(
                    id=ref * 32,
                    reference=f"REF-{ref}",
                    channel_id=channel,
                    category_id=category,
                    kind="report",
                    intake="web",
                    priority="normal",
                    status=status,
                    confidential=False,
                    submitted_on=date(2025, 1, 2),
                    acknowledge_by=date(2025, 1, 9),
                    feedback_by=date(2025, 4, 9),
                    receipt_id="r" * 32,
                    content=b"sealed",
                    concluded_on=date(2025, 5, 6),
                )
            )
        for n, at in enumerate((datetime(2025, 6, 1, 3), datetime(2025, 8, 20, 15))):
            connection.execute(
                EVENTS.insert().values(
                    id=f"{n}" * 32, case_id="A" * 32, from_status="x", to_status="closed", at=at
                )
            )

    migrations.upgrade(engine)

    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT reference, closed_on FROM cases")).all()
        months = connection.execute(sa.text("SELECT retention_months FROM channels")).scalars()
        closed = {ref: str(day) if day is not None else None for ref, day in rows}
        assert closed == {"REF-A": "2025-08-20", "REF-B": "2025-05-06", "REF-C": None}
        assert set(months) == {36}
    engine.dispose()
