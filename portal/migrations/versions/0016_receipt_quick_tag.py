"""receipts.quick_tag: a correct receipt passes a selector throttled by others' guesses

Revision ID: 0016_receipt_quick_tag
Revises: 0015_saved_views
Create Date: 2026-11-30

Adds `receipts.quick_tag`, an HMAC of the verifier under the server secret. A selector that
someone else's wrong guesses throttled still lets the holder of the correct receipt in (the
tag matches), while wrong guesses stay refused without an Argon2 run. Existing receipts get
their tag at their next correct entry.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_receipt_quick_tag"
down_revision: str | None = "0015_saved_views"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE on both databases: a SQLite batch copy would drop `receipts`, which
    # `cases` and `user_sessions` reference.
    op.add_column("receipts", sa.Column("quick_tag", sa.LargeBinary(length=32), nullable=True))


def downgrade() -> None:
    # DROP COLUMN in place (SQLite 3.35 and later, PostgreSQL), for the same reason.
    op.execute("ALTER TABLE receipts DROP COLUMN quick_tag")
