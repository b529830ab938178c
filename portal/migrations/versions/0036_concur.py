"""cases.unconfirmed_by, unconfirmed_kind, unconfirmed_at: an unfounded ending waits for a
second case reader

Revision ID: 0036_concur
Revises: 0035_receipt_reuses
Create Date: 2026-11-30

One investigator alone could conclude a case "unsubstantiated" or "not actionable" and close
it, or dismiss it unread from a flood they made, and the retention job deleted it 36 months
later. Such an ending is now recorded with the reader who made it (`unconfirmed_by`) until a
second, unrelated case reader agrees (cases/workflow/second_reader.py): the case is flagged
to its readers and retention does not count meanwhile. Existing cases are untouched.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0036_concur"
down_revision: str | None = "0035_receipt_reuses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no batch copy of the table, which would drop its triggers).
    op.add_column("cases", sa.Column("unconfirmed_by", sa.String(length=32), nullable=True))
    op.add_column("cases", sa.Column("unconfirmed_kind", sa.String(length=16), nullable=True))
    op.add_column("cases", sa.Column("unconfirmed_at", sa.DateTime(), nullable=True))
    op.create_index(op.f("ix_cases_unconfirmed_by"), "cases", ["unconfirmed_by"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_cases_unconfirmed_by"), table_name="cases")
    op.drop_column("cases", "unconfirmed_at")
    op.drop_column("cases", "unconfirmed_kind")
    op.drop_column("cases", "unconfirmed_by")
