"""hold_releases: ending a legal hold takes a second person

Revision ID: 0028_hold_release_approval
Revises: 0027_listed_from
Create Date: 2026-11-30

One admin (or investigator) alone could end the hold on the case about the accused, and the
next jobs round deleted it for good. A release is now a proposal that a second, independent
person approves before the hold is lifted (cases/retention/release.py); it expires unapproved.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_hold_release_approval"
down_revision: str | None = "0027_listed_from"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hold_releases",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("proposed_by", sa.String(length=32), nullable=False),
        sa.Column("proposed_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_hold_releases_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hold_releases")),
    )
    op.create_index(op.f("ix_hold_releases_case_id"), "hold_releases", ["case_id"])
    op.create_index(op.f("ix_hold_releases_status"), "hold_releases", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_hold_releases_status"), table_name="hold_releases")
    op.drop_index(op.f("ix_hold_releases_case_id"), table_name="hold_releases")
    op.drop_table("hold_releases")
