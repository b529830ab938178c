"""saved case-list views per person

Revision ID: 0015_saved_views
Revises: 0010_approval_macs
Create Date: 2026-11-29

Adds `saved_views`: a staff member's named case-list filters, stored as a query string of
known filter keys (status, channel, dates...), never a search word or any case content; and
`ix_cases_submitted_id`, along which search walks the newest cases to its window.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_saved_views"
down_revision: str | None = "0014_questionnaires"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "saved_views",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("filters", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_accounts.id"],
            name=op.f("fk_saved_views_staff_id_staff_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
        sa.UniqueConstraint("staff_id", "name", name=op.f("uq_saved_views_staff_id")),
    )
    with op.batch_alter_table("saved_views", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_views_staff_id"), ["staff_id"], unique=False)
    op.create_index("ix_cases_submitted_id", "cases", ["submitted_on", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cases_submitted_id", table_name="cases")
    with op.batch_alter_table("saved_views", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_saved_views_staff_id"))
    op.drop_table("saved_views")
