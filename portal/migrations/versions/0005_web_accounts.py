"""web-made accounts: enrolment links, key-holder approvals, own-password flag

Revision ID: 0005_web_accounts
Revises: 0003
Create Date: 2026-11-29

Accounts an admin made on the web before this revision have a password the admin chose:
the audit trail names them ("admin.staff_created"), and they are marked so the person sets
their own password at next login.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_web_accounts"
down_revision: str | None = "0004_subject_matching"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "enrolment_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_accounts.id"],
            name=op.f("fk_enrolment_tokens_staff_id_staff_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_enrolment_tokens")),
    )
    with op.batch_alter_table("enrolment_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enrolment_tokens_staff_id"), ["staff_id"], unique=False
        )
    op.create_table(
        "key_approvals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("requested_by", sa.String(length=32), nullable=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_accounts.id"],
            name=op.f("fk_key_approvals_staff_id_staff_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_approvals")),
    )
    with op.batch_alter_table("key_approvals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_approvals_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_key_approvals_status"), ["status"], unique=False)
    with op.batch_alter_table("staff_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "password_must_change", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    _mark_admin_set_passwords()


def _mark_admin_set_passwords() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT detail FROM audit_entries WHERE action = 'admin.staff_created'")
    )
    ids = []
    for (detail,) in rows:
        try:
            target = json.loads(detail).get("target")
        except (ValueError, AttributeError):
            continue
        if isinstance(target, str):
            ids.append(target)
    accounts = sa.table(
        "staff_accounts", sa.column("id", sa.String), sa.column("password_must_change", sa.Boolean)
    )
    for account_id in ids:
        bind.execute(
            accounts.update().where(accounts.c.id == account_id).values(password_must_change=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_accounts", schema=None) as batch_op:
        batch_op.drop_column("password_must_change")
    with op.batch_alter_table("key_approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_approvals_status"))
        batch_op.drop_index(batch_op.f("ix_key_approvals_staff_id"))
    op.drop_table("key_approvals")
    with op.batch_alter_table("enrolment_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolment_tokens_staff_id"))
    op.drop_table("enrolment_tokens")
