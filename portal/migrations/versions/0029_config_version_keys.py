"""config_version also moves with the recovery keys and the key approvals

Revision ID: 0029_config_version_keys
Revises: 0028_hold_release_approval
Create Date: 2026-11-30

Every report wraps its key for the organisation's recovery key and for each member of its
team whose key approvals do not withhold keys. A process now keeps those two reads under the
`config_version` token too (cases/org/snapshot.py, `FilingConfig.recovery` and
`FilingConfig.withholding`), so the same triggers as migration 0022_config_version replace
the token in the transaction of every insert, update or delete of `recovery_keys` and
`key_approvals`, whoever writes.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0029_config_version_keys"
down_revision: str | None = "0028_hold_release_approval"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED = ("recovery_keys", "key_approvals")
# Every statement below is made of these constants and WATCHED's names only, no input (S608).
SQLITE_RANDOM = "lower(hex(randomblob(16)))"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            # config_version_bump() is migration 0022's: once per statement.
            op.execute(
                f"CREATE TRIGGER config_version_{table}_write AFTER INSERT OR UPDATE OR DELETE "
                f"OR TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION config_version_bump()"
            )
        return
    bump = f"UPDATE config_version SET token = {SQLITE_RANDOM};"  # noqa: S608
    for table in WATCHED:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER config_version_{table}_{event.lower()} AFTER {event} ON {table} "
                f"BEGIN {bump} END"
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in WATCHED:
        names = ("write",) if postgres else ("insert", "update", "delete")
        for name in names:
            suffix = f" ON {table}" if postgres else ""
            op.execute(f"DROP TRIGGER IF EXISTS config_version_{table}_{name}{suffix}")
