"""the directory stores no keyed hash of anyone's employee id

Revision ID: 0006_directory_unhashed
Revises: 0003
Create Date: 2026-11-29

directory_entries.id_hash sat beside the clear employee id, so a copy of the database
joined case_subjects.directory_hash to names without the server secret. The policy now
hashes the people it needs in the application (cases/access/policy.py).

There is no way back: the hashes cannot be recomputed without the server secret, and the
old code would read a missing hash as "no conflict" and show a case to the person it
accuses. Restore a backup taken before this revision instead.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_directory_unhashed"
down_revision: str | None = "0009_key_macs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite cannot drop a column with a UNIQUE constraint in place: batch mode copies the table.
    with op.batch_alter_table("directory_entries") as batch_op:
        batch_op.drop_constraint("uq_directory_entries_id_hash", type_="unique")
        batch_op.drop_column("id_hash")


def downgrade() -> None:
    raise RuntimeError(
        "0006_directory_unhashed cannot be undone: the directory hashes need the server "
        "secret, and without them the old code would show cases to the people they accuse. "
        "Restore a backup taken before this revision."
    )
