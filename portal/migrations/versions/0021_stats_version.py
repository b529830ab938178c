"""stats_version: a token that changes with what the statistics count

Revision ID: 0021_stats_version
Revises: 0020_handovers
Create Date: 2026-11-30

Every statistics answer reads the whole data set by month and group (the suppression
patterns of docs/statistics.md, "Differencing"). A process keeps that cube while the one-row
`stats_version` token is unchanged; triggers on `cases`, `categories` and `channels` replace
the token with a random one in the transaction of every change that matters (an update only
when a watched column really changes), so every writer moves it: the services, the CLI,
another process, retention, a repair by hand.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_stats_version"
down_revision: str | None = "0020_handovers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The columns whose change changes a count, or the group it is counted in.
WATCHED = {
    "cases": ("submitted_on", "channel_id", "category_id", "outcome", "kind", "status"),
    "categories": ("channel_id",),
    "channels": ("id",),
}
# Every statement below is made of these constants and WATCHED's names only, no input (S608).
SQLITE_RANDOM = "lower(hex(randomblob(16)))"
POSTGRES_RANDOM = "md5(random()::text || clock_timestamp()::text)"


def upgrade() -> None:
    op.create_table(
        "stats_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_version")),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    random = POSTGRES_RANDOM if postgres else SQLITE_RANDOM
    op.execute(f"INSERT INTO stats_version (id, token) VALUES (1, {random})")  # noqa: S608
    if postgres:
        _postgres_triggers()
    else:
        _sqlite_triggers()


def _changed(columns: tuple[str, ...], distinct: str) -> str:
    return " OR ".join(f"OLD.{c} {distinct} NEW.{c}" for c in columns)


def _sqlite_triggers() -> None:
    bump = f"UPDATE stats_version SET token = {SQLITE_RANDOM};"  # noqa: S608
    for table, columns in WATCHED.items():
        for event in ("INSERT", "DELETE"):
            op.execute(
                f"CREATE TRIGGER stats_version_{table}_{event.lower()} AFTER {event} ON {table} "
                f"BEGIN {bump} END"
            )
        op.execute(
            f"CREATE TRIGGER stats_version_{table}_update AFTER UPDATE OF {', '.join(columns)} "
            f"ON {table} WHEN {_changed(columns, 'IS NOT')} BEGIN {bump} END"
        )


def _postgres_triggers() -> None:
    bump = f"UPDATE stats_version SET token = {POSTGRES_RANDOM};"  # noqa: S608
    op.execute(
        "CREATE FUNCTION stats_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{bump} RETURN NULL; END $$"
    )
    for table, columns in WATCHED.items():
        # Once per statement for inserts, deletes and truncation; per changed row for updates,
        # which only then know the change.
        op.execute(
            f"CREATE TRIGGER stats_version_{table}_write AFTER INSERT OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION stats_version_bump()"
        )
        op.execute(
            f"CREATE TRIGGER stats_version_{table}_update AFTER UPDATE ON {table} FOR EACH ROW "
            f"WHEN ({_changed(columns, 'IS DISTINCT FROM')}) EXECUTE FUNCTION stats_version_bump()"
        )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in WATCHED:
        names = ("write", "update") if postgres else ("insert", "delete", "update")
        for name in names:
            suffix = f" ON {table}" if postgres else ""
            op.execute(f"DROP TRIGGER IF EXISTS stats_version_{table}_{name}{suffix}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS stats_version_bump()")
    op.drop_table("stats_version")
