"""MACs over public keys and pending grants

Revision ID: 0009_key_macs
Revises: 0003
Create Date: 2026-11-29

Also marks receipts of staff-recorded reports (receipts.staff_issued), which the reporter's
next login replaces.

Adds a nullable MAC column to staff_accounts, recovery_keys and pending_grants, then fills it
for the rows that exist, once, here: the upgrade is the only time the portal signs rows it did
not write itself. The MAC is keyed off the server secret, which the migration receives from
`portal.migrations.upgrade(engine, server_secret=...)` (portal migrate, portal serve and every
CLI command pass it). Without a secret (a bare `alembic upgrade`) the rows stay unsigned and
every wrap refuses them until they are re-created; `portal audit verify` lists them. The
formula is frozen here on purpose: it must match cases/keytrust.py.
"""

import hashlib
import hmac
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0009_key_macs"
down_revision: str | None = "0007_reporter_hours_floods"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _mac(secret: bytes, body: bytes) -> bytes:
    key = hmac.new(secret, b"portal/key-mac/v1", hashlib.sha256).digest()
    return hmac.new(key, body, hashlib.sha256).digest()


def upgrade() -> None:
    for table in ("staff_accounts", "recovery_keys"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("public_key_mac", sa.LargeBinary(length=32), nullable=True))
    with op.batch_alter_table("pending_grants") as batch:
        batch.add_column(sa.Column("mac", sa.LargeBinary(length=32), nullable=True))
    with op.batch_alter_table("receipts") as batch:
        batch.add_column(
            sa.Column("staff_issued", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Receipts of reports staff recorded were seen by the recorder: replaced at next login.
    op.execute(
        "UPDATE receipts SET staff_issued = true WHERE id IN "
        "(SELECT receipt_id FROM cases WHERE intake IN ('phone', 'meeting', 'letter'))"
    )
    secret = context.config.attributes.get("server_secret")
    if secret:
        _sign_existing(secret)


def _sign_existing(secret: bytes) -> None:
    bind = op.get_bind()
    for name, kind in (("staff_accounts", "staff"), ("recovery_keys", "recovery")):
        table = sa.table(
            name, sa.column("id"), sa.column("public_key"), sa.column("public_key_mac")
        )
        for row_id, public_key in bind.execute(sa.select(table.c.id, table.c.public_key)).all():
            mac = _mac(secret, f"public-key|{row_id}|{kind}|".encode() + bytes(public_key))
            bind.execute(table.update().where(table.c.id == row_id).values(public_key_mac=mac))
    grants = sa.table(
        "pending_grants",
        sa.column("id"),
        sa.column("case_id"),
        sa.column("key_kind"),
        sa.column("staff_id"),
        sa.column("mac"),
    )
    rows = bind.execute(
        sa.select(grants.c.id, grants.c.case_id, grants.c.key_kind, grants.c.staff_id)
    )
    for grant_id, case_id, key_kind, staff_id in rows.all():
        mac = _mac(secret, f"pending-grant|{case_id}|{key_kind}|{staff_id}".encode())
        bind.execute(grants.update().where(grants.c.id == grant_id).values(mac=mac))


def downgrade() -> None:
    with op.batch_alter_table("receipts") as batch:
        batch.drop_column("staff_issued")
    with op.batch_alter_table("pending_grants") as batch:
        batch.drop_column("mac")
    for table in ("recovery_keys", "staff_accounts"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("public_key_mac")
