"""MACs over key-holder approvals; withheld accounts sealed as such

Revision ID: 0010_approval_macs
Revises: 0009_key_macs
Create Date: 2026-11-29

Adds a nullable MAC column to key_approvals and signs the rows that exist, once, here (as
0009_key_macs does for public keys and grants), with the server secret the migration receives
from `portal.migrations.upgrade(engine, server_secret=...)`. Accounts that an approval currently
withholds (a pending or refused row) have their public key re-sealed under the "staff-withheld"
kind, so deleting their row does not release keys. Without a secret the rows stay unsigned: they
withhold, and `portal audit verify` lists them. The formulas are frozen here on purpose: they
must match cases/keytrust.py.
"""

import hashlib
import hmac
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0010_approval_macs"
down_revision: str | None = "0006_directory_unhashed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WITHHOLDING = ("pending", "refused")


def _mac(secret: bytes, body: bytes) -> bytes:
    key = hmac.new(secret, b"portal/key-mac/v1", hashlib.sha256).digest()
    return hmac.new(key, body, hashlib.sha256).digest()


def upgrade() -> None:
    with op.batch_alter_table("key_approvals") as batch:
        batch.add_column(sa.Column("mac", sa.LargeBinary(length=32), nullable=True))
    secret = context.config.attributes.get("server_secret")
    if secret:
        _sign_existing(secret)


def _sign_existing(secret: bytes) -> None:
    bind = op.get_bind()
    approvals = sa.table(
        "key_approvals",
        sa.column("id"),
        sa.column("staff_id"),
        sa.column("reason"),
        sa.column("channel_id"),
        sa.column("requested_by"),
        sa.column("status"),
        sa.column("decided_by"),
        sa.column("mac"),
    )
    rows = bind.execute(
        sa.select(
            approvals.c.id,
            approvals.c.staff_id,
            approvals.c.reason,
            approvals.c.channel_id,
            approvals.c.requested_by,
            approvals.c.status,
            approvals.c.decided_by,
        )
    ).all()
    withheld = set()
    for row_id, staff_id, reason, channel_id, requested_by, status, decided_by in rows:
        fields = (row_id, staff_id, reason, channel_id or "", requested_by or "", status)
        body = "key-approval|" + "|".join((*fields, decided_by or ""))
        mac = _mac(secret, body.encode())
        bind.execute(approvals.update().where(approvals.c.id == row_id).values(mac=mac))
        if status in WITHHOLDING:
            withheld.add(staff_id)
    accounts = sa.table(
        "staff_accounts", sa.column("id"), sa.column("public_key"), sa.column("public_key_mac")
    )
    for staff_id in sorted(withheld):
        public_key = bind.execute(
            sa.select(accounts.c.public_key).where(accounts.c.id == staff_id)
        ).scalar()
        if not public_key:
            continue
        mac = _mac(secret, f"public-key|{staff_id}|staff-withheld|".encode() + bytes(public_key))
        bind.execute(accounts.update().where(accounts.c.id == staff_id).values(public_key_mac=mac))


def downgrade() -> None:
    with op.batch_alter_table("key_approvals") as batch:
        batch.drop_column("mac")
