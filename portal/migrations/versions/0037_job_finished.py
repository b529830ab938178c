"""job_leases.finished_at: when each background job last finished a round, for /metrics

Revision ID: 0037_job_finished
Revises: 0036_concur
Create Date: 2026-11-30

`portal_job_round_age_seconds` is the age of the scraped process's own last round. In the
deployment docs/deploy.md describes, the web processes run no jobs and `portal jobs` has no
HTTP port, so no scrape could see the jobs stall. Each job's round now stamps its lease row
in its own transaction, and every process's /metrics reports the lag from the database.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0037_job_finished"
down_revision: str | None = "0036_concur"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("job_leases", sa.Column("finished_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("job_leases", "finished_at")
