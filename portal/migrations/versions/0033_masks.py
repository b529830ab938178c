"""item_masks: a mask on a reporter's words is listed with its reason and lifted by a colleague

Revision ID: 0033_masks
Revises: 0032_reward_answer_hour
Create Date: 2026-11-30

A mask on a reporter's message hid it from colleagues while its author stayed on the case, and
only its author could lift it. Now every case reader sees who masked the reporter's words,
when and why (`reason`, sealed under the case key), and any of them can lift the mask: the row
stays with `lifted_by` and `lifted_at`. A mask over words a colleague unmasked waits for a
second reader (`needs_agreement`, `agreed_by`, `agreed_at`) before it hides anything
(cases/access/redaction.py). Existing masks keep hiding what they hid, with no reason.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033_masks"
down_revision: str | None = "0032_reward_answer_hour"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # item_masks has no triggers and nothing refers to it: SQLite's batch copy loses nothing.
    with op.batch_alter_table("item_masks") as batch:
        batch.add_column(sa.Column("reason", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("lifted_by", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("lifted_at", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column("needs_agreement", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("agreed_by", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("agreed_at", sa.DateTime(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_item_masks_lifted_by_staff_accounts"), "staff_accounts", ["lifted_by"], ["id"]
        )
        batch.create_foreign_key(
            op.f("fk_item_masks_agreed_by_staff_accounts"), "staff_accounts", ["agreed_by"], ["id"]
        )


def downgrade() -> None:
    # Lifted masks and those still waiting for agreement hid nothing: they go, not back.
    op.execute("DELETE FROM item_masks WHERE lifted_at IS NOT NULL OR needs_agreement")
    with op.batch_alter_table("item_masks") as batch:
        batch.drop_constraint(op.f("fk_item_masks_agreed_by_staff_accounts"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_item_masks_lifted_by_staff_accounts"), type_="foreignkey")
        for column in ("agreed_at", "agreed_by", "needs_agreement", "lifted_at", "lifted_by"):
            batch.drop_column(column)
        batch.drop_column("reason")
