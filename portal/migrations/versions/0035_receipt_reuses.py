"""receipts.replaced_on, receipt_reuses: a staff-handed receipt used again after it was replaced

Revision ID: 0035_receipt_reuses
Revises: 0034_directory_claims
Create Date: 2026-11-30

A receipt staff handed over (a phone, meeting or letter report) is replaced at its first login,
and the old row was deleted: a later use of it was answered like a wrong code. So the person
who took the call could log in first, take the new receipt and lock the reporter out, and
nobody would ever know. The old row is now kept (`replaced_on`), its later use is refused
with its own answer, and each of its cases counts the uses (`receipt_reuses`) for the team.
Receipts replaced before this migration were deleted and stay so.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035_receipt_reuses"
down_revision: str | None = "0034_directory_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy of the table, which would drop its triggers).
    op.add_column("receipts", sa.Column("replaced_on", sa.Date(), nullable=True))
    op.create_table(
        "receipt_reuses",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("receipt_id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("replaced_on", sa.Date(), nullable=False),
        sa.Column("later_uses", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_used_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["receipt_id"], ["receipts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_receipt_reuses_case_id"), "receipt_reuses", ["case_id"], unique=False)
    op.create_index(
        op.f("ix_receipt_reuses_receipt_id"), "receipt_reuses", ["receipt_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_receipt_reuses_receipt_id"), table_name="receipt_reuses")
    op.drop_index(op.f("ix_receipt_reuses_case_id"), table_name="receipt_reuses")
    op.drop_table("receipt_reuses")
    op.drop_column("receipts", "replaced_on")
