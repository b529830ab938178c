"""pending_grants.wrapped, pending_grants.ready_at: a key handed on at a reporter's visit waits
for the hour

Revision ID: 0031_handed_grants
Revises: 0030_file_mentions
Create Date: 2026-11-30

An investigator owed a case key (new to the team, or a held complaint's first eligible
officer) watched the case: it opened for them the minute the reporter logged in, because the
reporter's visit wrapped the key at once. A key the reporter's visit hands on is now kept in
the pending grant, already wrapped, and stored as the person's key wrap by the jobs round at
the next full hour (cases/reports/keys.py, `release_handed`). Existing grants are untouched.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031_handed_grants"
down_revision: str | None = "0030_file_mentions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no batch copy of the table, which would drop its triggers).
    op.add_column("pending_grants", sa.Column("wrapped", sa.LargeBinary(), nullable=True))
    op.add_column("pending_grants", sa.Column("ready_at", sa.DateTime(), nullable=True))
    op.create_index(
        op.f("ix_pending_grants_ready_at"), "pending_grants", ["ready_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_pending_grants_ready_at"), table_name="pending_grants")
    op.drop_column("pending_grants", "ready_at")
    op.drop_column("pending_grants", "wrapped")
