"""a case's messages and notes each hold their own seq

Revision ID: 0011_item_seq_unique
Revises: 0010_approval_macs
Create Date: 2026-11-29

Two replies sent at once could read the same highest seq and both take the next one. A unique
(case_id, seq) constraint now refuses the second insert, which the domain retries with the next
number (cases/reports/conversation.py). Rows that already share a seq are renumbered first,
within their case only, in the order they were shown before (seq, then day, then id), so the
constraint can be added and no conversation changes its order.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_item_seq_unique"
down_revision: str | None = "0010_approval_macs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ITEMS = sa.table(
    "case_items", sa.column("id"), sa.column("case_id"), sa.column("seq"), sa.column("created_on")
)


def upgrade() -> None:
    _renumber_shared_seqs()
    # An index, created in place: a batch rebuild of case_items on SQLite would drop the old
    # table, and its foreign keys would delete every mask on the items (ON DELETE CASCADE).
    op.create_index("uq_case_items_case_seq", "case_items", ["case_id", "seq"], unique=True)


def _renumber_shared_seqs() -> None:
    bind = op.get_bind()
    shared = (
        sa.select(ITEMS.c.case_id)
        .group_by(ITEMS.c.case_id, ITEMS.c.seq)
        .having(sa.func.count() > 1)
        .distinct()
    )
    for case_id in list(bind.execute(shared).scalars()):
        rows = bind.execute(
            sa.select(ITEMS.c.id)
            .where(ITEMS.c.case_id == case_id)
            .order_by(ITEMS.c.seq, ITEMS.c.created_on, ITEMS.c.id)
        ).scalars()
        for seq, item_id in enumerate(list(rows), start=1):
            bind.execute(ITEMS.update().where(ITEMS.c.id == item_id).values(seq=seq))


def downgrade() -> None:
    op.drop_index("uq_case_items_case_seq", table_name="case_items")
