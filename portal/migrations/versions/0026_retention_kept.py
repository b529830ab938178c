"""cases.retention_months: the period in force when a case was closed

Revision ID: 0026_retention_kept
Revises: 0025_directory_history
Create Date: 2026-11-30

An admin colluding with the accused could cut a channel's retention period to one month and
let the next jobs round delete every case closed more than a month ago, the one about the
accused included. A case now keeps the period in force when it was closed, and is deleted
after the longer of that and the channel's period now (cases/retention/service.py). Cases
already closed keep today's period of their channel.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_retention_kept"
down_revision: str | None = "0025_directory_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy of the table, which would drop its triggers).
    op.add_column("cases", sa.Column("retention_months", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE cases SET retention_months = (SELECT channels.retention_months FROM channels "
        "WHERE channels.id = cases.channel_id) WHERE closed_on IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_column("cases", "retention_months")
