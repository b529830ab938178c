"""cases.held_until, attachments.held_until: new cases and later evidence wait for their hour

Revision ID: 0027_listed_from
Revises: 0026_retention_kept
Create Date: 2026-11-30

An investigator on a channel's team who reloads the case list every minute learned the
minute a report was filed, or a reporter's later file added, and matched it against who was
away from their desk. A new case (and a file a reporter adds later) now carries the next
full hour; staff see neither before the jobs round lists it at that hour
(cases/reports/arrivals.py). Cases and files already stored are listed (NULL): nothing
existing disappears.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_listed_from"
down_revision: str | None = "0026_retention_kept"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no batch copy of the tables, which would drop their triggers).
    for table in ("cases", "attachments"):
        op.add_column(table, sa.Column("held_until", sa.DateTime(), nullable=True))
        op.create_index(op.f(f"ix_{table}_held_until"), table, ["held_until"], unique=False)


def downgrade() -> None:
    for table in ("attachments", "cases"):
        op.drop_index(op.f(f"ix_{table}_held_until"), table_name=table)
        op.drop_column(table, "held_until")
