"""config_version: a token that changes with what a filing reads as configuration

Revision ID: 0022_config_version
Revises: 0021_stats_version
Create Date: 2026-11-30

Every report filed reads its channel with its categories, the channel's team and routing
rules, the accounts and roles of everyone it may go to, and the channel's questionnaire.
A process keeps those as plain data (cases/org/snapshot.py) while the one-row
`config_version` token is unchanged; triggers on every table behind them replace the token
with a random one in the transaction of every insert, update or delete (any column: an
account's row is handed to the access policy and the key wrapping whole), so every writer
moves it: the services, the CLI, another process, a repair typed by hand.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_config_version"
down_revision: str | None = "0021_stats_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED = (
    "channels",
    "categories",
    "channel_members",
    "routing_rules",
    "staff_accounts",
    "staff_roles",
    "questionnaire_versions",
)
# Every statement below is made of these constants and WATCHED's names only, no input (S608).
SQLITE_RANDOM = "lower(hex(randomblob(16)))"
POSTGRES_RANDOM = "md5(random()::text || clock_timestamp()::text)"


def upgrade() -> None:
    op.create_table(
        "config_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_version")),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    random = POSTGRES_RANDOM if postgres else SQLITE_RANDOM
    op.execute(f"INSERT INTO config_version (id, token) VALUES (1, {random})")  # noqa: S608
    if postgres:
        _postgres_triggers()
    else:
        _sqlite_triggers()


def _sqlite_triggers() -> None:
    bump = f"UPDATE config_version SET token = {SQLITE_RANDOM};"  # noqa: S608
    for table in WATCHED:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER config_version_{table}_{event.lower()} AFTER {event} ON {table} "
                f"BEGIN {bump} END"
            )


def _postgres_triggers() -> None:
    bump = f"UPDATE config_version SET token = {POSTGRES_RANDOM};"  # noqa: S608
    op.execute(
        "CREATE FUNCTION config_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{bump} RETURN NULL; END $$"
    )
    for table in WATCHED:
        # Once per statement, whatever it changed (an update of no row moves it too: harmless).
        op.execute(
            f"CREATE TRIGGER config_version_{table}_write AFTER INSERT OR UPDATE OR DELETE "
            f"OR TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION config_version_bump()"
        )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in WATCHED:
        names = ("write",) if postgres else ("insert", "update", "delete")
        for name in names:
            suffix = f" ON {table}" if postgres else ""
            op.execute(f"DROP TRIGGER IF EXISTS config_version_{table}_{name}{suffix}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS config_version_bump()")
    op.drop_table("config_version")
