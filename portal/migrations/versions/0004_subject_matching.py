"""subject matching: directory aliases and match keys, case subject groups and keys

Revision ID: 0004_subject_matching
Revises: 0003
Create Date: 2026-11-29

Existing directory entries get their match keys (computed from the clear directory, no
secret needed). Existing case subjects keep their rows; they have no group and no stored
keys, so only people named from now on are matched again when the directory changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cases.access.names import entry_keys

revision: str = "0004_subject_matching"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("directory_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("aliases", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("case_subjects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("rejected_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_case_subjects_group_id"), ["group_id"], unique=False)
    op.create_table(
        "directory_keys",
        sa.Column("entry_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["directory_entries.id"],
            name=op.f("fk_directory_keys_entry_id_directory_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", "key", name=op.f("pk_directory_keys")),
    )
    with op.batch_alter_table("directory_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_directory_keys_key"), ["key"], unique=False)
    op.create_table(
        "case_subject_keys",
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_subject_keys_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "case_id", "group_id", "key_hash", name=op.f("pk_case_subject_keys")
        ),
    )
    with op.batch_alter_table("case_subject_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_subject_keys_key_hash"), ["key_hash"], unique=False
        )
    _index_existing_entries()


def _index_existing_entries() -> None:
    bind = op.get_bind()
    entries = sa.table(
        "directory_entries",
        sa.column("id", sa.String),
        sa.column("employee_id", sa.String),
        sa.column("email", sa.String),
        sa.column("name", sa.String),
    )
    keys = sa.table(
        "directory_keys",
        sa.column("entry_id", sa.String),
        sa.column("key", sa.String),
        sa.column("kind", sa.String),
    )
    rows = []
    for entry_id, employee_id, email, name in bind.execute(
        sa.select(entries.c.id, entries.c.employee_id, entries.c.email, entries.c.name)
    ):
        found = entry_keys(employee_id, email or "", name, "")
        rows += [{"entry_id": entry_id, "key": k, "kind": v} for k, v in found.items()]
    if rows:
        op.bulk_insert(keys, rows)


def downgrade() -> None:
    op.drop_table("case_subject_keys")
    op.drop_table("directory_keys")
    with op.batch_alter_table("case_subjects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_subjects_group_id"))
        batch_op.drop_column("rejected_hash")
        batch_op.drop_column("group_id")
    with op.batch_alter_table("directory_entries", schema=None) as batch_op:
        batch_op.drop_column("aliases")
