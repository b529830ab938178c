"""held_mentions.attachment_id: the kept name of a reporter's later file waits with the file

Revision ID: 0030_file_mentions
Revises: 0029_config_version_keys
Create Date: 2026-11-30

A reporter who adds a file after filing and keeps its name ("张伟报销单.pdf") names 张伟 as
a later message would. The people such a name names now wait in `held_mentions` beside the
file (not only beside a message), and lose the case in the jobs round of the file's hour,
before staff see the file (cases/access/held.py). So `item_id` may be empty, and
`attachment_id` names the file. The table only holds rows until their hour: nothing to move.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030_file_mentions"
down_revision: str | None = "0029_config_version_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # held_mentions has no triggers, so SQLite's copy of the table in batch mode loses none.
    with op.batch_alter_table("held_mentions") as batch:
        batch.alter_column("item_id", existing_type=sa.String(length=32), nullable=True)
        batch.add_column(sa.Column("attachment_id", sa.String(length=32), nullable=True))
        batch.create_foreign_key(
            op.f("fk_held_mentions_attachment_id_attachments"),
            "attachments",
            ["attachment_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index(op.f("ix_held_mentions_attachment_id"), ["attachment_id"])


def downgrade() -> None:
    op.execute("DELETE FROM held_mentions WHERE item_id IS NULL")
    with op.batch_alter_table("held_mentions") as batch:
        batch.drop_index(op.f("ix_held_mentions_attachment_id"))
        batch.drop_constraint(
            op.f("fk_held_mentions_attachment_id_attachments"), type_="foreignkey"
        )
        batch.drop_column("attachment_id")
        batch.alter_column("item_id", existing_type=sa.String(length=32), nullable=False)
