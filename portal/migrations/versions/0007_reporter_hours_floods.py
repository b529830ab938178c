"""reporter times to the hour; flood-marked cases

Revision ID: 0007_reporter_hours_floods
Revises: 0003
Create Date: 2026-11-29

Adds `audit_held` (audit entries of reporters' requests, held back until their day is
over, so their place in the chain does not tell the time) and `cases.flood_hour` (the hour a
report arrived in when its channel was flooded; such reports are listed apart for triage
instead of being refused). Cuts the times already stored on rows a reporter's request wrote
(key wraps, pending grants, upload sweep times) to the hour, so an existing database stops
telling when a reporter acted.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_reporter_hours_floods"
down_revision: str | None = "0005_web_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOURLY = (("key_wraps", "created_at"), ("pending_grants", "created_at"))


def upgrade() -> None:
    op.create_table(
        "audit_held",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=True),
        sa.Column("actor_roles", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_held")),
    )
    with op.batch_alter_table("audit_held", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_held_on"), ["on"], unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flood_hour", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_cases_flood_hour"), ["flood_hour"], unique=False)
    for table, column in HOURLY:
        # Fixed identifiers from this file, no input: nothing to inject.
        op.execute(f"UPDATE {table} SET {column} = {_floor_hour(column)}")  # noqa: S608
    # An unlinked upload's sweep time moves to the next full hour (never earlier).
    floor = _floor_hour("sweep_after")
    op.execute(
        f"UPDATE attachments SET sweep_after = {_next_hour('sweep_after')} "  # noqa: S608
        f"WHERE sweep_after <> {floor}"
    )


def _floor_hour(column: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return f"date_trunc('hour', {column})"
    return f"strftime('%Y-%m-%d %H:00:00.000000', {column})"


def _next_hour(column: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return f"date_trunc('hour', {column}) + interval '1 hour'"
    return f"strftime('%Y-%m-%d %H:00:00.000000', {column}, '+1 hour')"


def downgrade() -> None:
    op.drop_table("audit_held")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_flood_hour"))
        batch_op.drop_column("flood_hour")
