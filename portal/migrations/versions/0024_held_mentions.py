"""held_mentions: the people a reporter's later message names, held until its hour

Revision ID: 0024_held_mentions
Revises: 0022_config_version
Create Date: 2026-11-30

A reporter's message is held out of the conversation until the next full hour. The people
of the scan set it names wait here with it; when the hour comes, the jobs round makes them
candidates of the case and takes the case from whoever they exclude, in the transaction that
shows the message to staff (cases/access/held.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_held_mentions"
down_revision: str | None = "0022_config_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "held_mentions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column("rows", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_held_mentions_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["case_items.id"],
            name=op.f("fk_held_mentions_item_id_case_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_mentions")),
    )
    op.create_index(op.f("ix_held_mentions_case_id"), "held_mentions", ["case_id"])
    op.create_index(op.f("ix_held_mentions_item_id"), "held_mentions", ["item_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_held_mentions_item_id"), table_name="held_mentions")
    op.drop_index(op.f("ix_held_mentions_case_id"), table_name="held_mentions")
    op.drop_table("held_mentions")
