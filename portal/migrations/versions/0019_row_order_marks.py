"""row_order_marks: the hour whose rows last lost their write order

Revision ID: 0019_row_order_marks
Revises: 0017_text_mentions
Create Date: 2026-11-30

One row: the hour the jobs round last took away the write order of the rows written since
(SQLite's rowids, PostgreSQL's transaction ids; cases/row_order.py), and on PostgreSQL the
id of the transaction that did it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_row_order_marks"
down_revision: str | None = "0017_text_mentions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "row_order_marks",
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_row_order_marks")),
    )


def downgrade() -> None:
    op.drop_table("row_order_marks")
