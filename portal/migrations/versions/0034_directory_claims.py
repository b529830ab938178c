"""directory_claims: an admin's directory change that would keep someone away from cases

Revision ID: 0034_directory_claims
Revises: 0033_masks
Create Date: 2026-11-30

The directory's history (0025_directory_history) only ever adds, so an admin who linked each
investigator to the accused's employee id, or uploaded a directory in which the accused
reported to each of them, took the case from its whole team for good. Such a change made by
an admin (a new link to an entry already known, a new management edge below an account) is
now a claim: it counts for exclusion at once, read beside the history by the policy
(cases/access/chains.py), and enters the history only when a key holder who is neither the
admin nor anyone it concerns confirms it (cases/org/claims.py). Nothing existing is changed.

A claim changes the chains the text scan reads its names from (cases/access/mentions.py), so
inserting or deleting one moves the `people_version` token (0017_text_mentions) as a change
of `directory_entries` does: a refusal elsewhere reaches every process's scan set.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034_directory_claims"
down_revision: str | None = "0033_masks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A constant statement, no input (S608).
SQLITE_BUMP = "UPDATE people_version SET token = lower(hex(randomblob(16)));"


def upgrade() -> None:
    op.create_table(
        "directory_claims",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=True),
        sa.Column("employee_id", sa.String(length=64), nullable=False),
        sa.Column("manager_employee_id", sa.String(length=64), nullable=True),
        sa.Column("made_by", sa.String(length=32), nullable=False),
        sa.Column("made_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("mac", sa.LargeBinary(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_accounts.id"],
            name=op.f("fk_directory_claims_staff_id_staff_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_claims")),
    )
    for column in ("staff_id", "employee_id", "manager_employee_id", "status"):
        op.create_index(op.f(f"ix_directory_claims_{column}"), "directory_claims", [column])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER people_version_directory_claims_write AFTER INSERT OR DELETE OR "
            "TRUNCATE ON directory_claims FOR EACH STATEMENT EXECUTE FUNCTION people_version_bump()"
        )
    else:
        for event in ("INSERT", "DELETE"):
            op.execute(
                f"CREATE TRIGGER people_version_directory_claims_{event.lower()} AFTER {event} "
                f"ON directory_claims BEGIN {SQLITE_BUMP} END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP TRIGGER IF EXISTS people_version_directory_claims_write ON directory_claims"
        )
    else:
        for event in ("insert", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS people_version_directory_claims_{event}")
    for column in ("status", "manager_employee_id", "employee_id", "staff_id"):
        op.drop_index(op.f(f"ix_directory_claims_{column}"), table_name="directory_claims")
    op.drop_table("directory_claims")
