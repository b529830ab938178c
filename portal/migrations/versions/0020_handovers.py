"""handovers: a page a reporter's form leads to, sealed behind a short-lived link

Revision ID: 0020_handovers
Revises: 0019_row_order_marks
Create Date: 2026-11-30

The receipt page is no longer the answer to the report form (a browser keeps a form's body
in its session files when the answer is a page): the form redirects to a GET page whose
values wait here, sealed under a key of the server secret and the link's token, until the
link runs out (cases/reports/handover.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_handovers"
down_revision: str | None = "0019_row_order_marks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "handovers",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_handovers")),
    )
    op.create_index(op.f("ix_handovers_expires_at"), "handovers", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_handovers_expires_at"), table_name="handovers")
    op.drop_table("handovers")
