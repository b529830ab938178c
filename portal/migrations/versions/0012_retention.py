"""Retention: months per channel, the day a case was closed, tombstones and legal holds

Revision ID: 0012_retention
Revises: 0010_approval_macs
Create Date: 2026-11-29

Adds `channels.retention_months` (default 36), and on `cases` the day it was closed, the day
the retention job deleted it (a tombstone from then on) and the legal hold. Cases already
closed get their closing day from their last move to "closed" in the status history (its UTC
day: the zone is not known here), else the day they were concluded, else the day they came.
"""

from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0012_retention"
down_revision: str | None = "0011_item_seq_unique"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channels") as batch:
        batch.add_column(
            sa.Column("retention_months", sa.Integer(), server_default="36", nullable=False)
        )
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("closed_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("retention_deleted_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("hold_reason", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("hold_by", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("hold_at", sa.DateTime(), nullable=True))
        batch.create_index("ix_cases_status_closed", ["status", "closed_on"], unique=False)
        batch.create_index(
            batch.f("ix_cases_retention_deleted_on"), ["retention_deleted_on"], unique=False
        )
    _backfill_closed_on()


def _backfill_closed_on() -> None:
    bind = op.get_bind()
    cases = sa.table(
        "cases",
        sa.column("id", sa.String),
        sa.column("status", sa.String),
        sa.column("submitted_on", sa.Date),
        sa.column("concluded_on", sa.Date),
        sa.column("closed_on", sa.Date),
    )
    events = sa.table(
        "case_events",
        sa.column("case_id", sa.String),
        sa.column("to_status", sa.String),
        sa.column("at", sa.DateTime),
    )
    last_closed = (
        sa.select(sa.func.max(events.c.at))
        .where(events.c.case_id == cases.c.id, events.c.to_status == "closed")
        .scalar_subquery()
    )
    rows = bind.execute(
        sa.select(cases.c.id, cases.c.submitted_on, cases.c.concluded_on, last_closed).where(
            cases.c.status == "closed"
        )
    ).all()
    for case_id, submitted_on, concluded_on, closed_at in rows:
        day = _as_day(closed_at) or concluded_on or submitted_on
        bind.execute(sa.update(cases).where(cases.c.id == case_id).values(closed_on=day))


def _as_day(moment: datetime | str | None) -> date | None:
    if moment is None:
        return None
    if isinstance(moment, str):  # SQLite hands MAX() of a DATETIME back as text
        return datetime.fromisoformat(moment).date()
    return moment.date()


def downgrade() -> None:
    # Natively, never by a batch copy: on SQLite, dropping the old `cases` table would cascade
    # to every row that points at it (items, key wraps...) and empty them.
    op.drop_index(op.f("ix_cases_retention_deleted_on"), table_name="cases")
    op.drop_index("ix_cases_status_closed", table_name="cases")
    for column in ("hold_at", "hold_by", "hold_reason", "retention_deleted_on", "closed_on"):
        op.drop_column("cases", column)
    # Natively (SQLite 3.35+ and PostgreSQL): a batch copy of `channels` would have to drop a
    # table other tables' foreign keys point at, which SQLite refuses with them enforced.
    op.drop_column("channels", "retention_months")
