"""Covering indexes for the statistics

Revision ID: 0013_statistics
Revises: 0010_approval_macs
Create Date: 2026-11-29

The statistics (cases/stats/) scan clear columns of every case in the base. Two covering
indexes let each scan read a narrow index instead of the table: one led by the submission
day with the deadline and status columns (the per-day counts and the lags, filtered by years,
channel or category), one by channel, category, outcome, kind and submission day (the one-way
tables).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_statistics"
down_revision: str | None = "0012_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DAYS = [
    "submitted_on",
    "acknowledged_on",
    "acknowledge_by",
    "concluded_on",
    "feedback_by",
    "status",
    "channel_id",
    "category_id",
]
GROUPS = ["channel_id", "category_id", "outcome", "kind", "submitted_on"]


def upgrade() -> None:
    op.create_index("ix_cases_stats_days", "cases", DAYS, unique=False)
    op.create_index("ix_cases_stats_groups", "cases", GROUPS, unique=False)


def downgrade() -> None:
    op.drop_index("ix_cases_stats_groups", table_name="cases")
    op.drop_index("ix_cases_stats_days", table_name="cases")
