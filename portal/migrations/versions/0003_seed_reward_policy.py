"""seed the General channel's reward policy

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

Written by hand (the data, frozen here), so later model changes cannot alter what a
fresh install starts with: 5% of the recovered loss up to 100,000, 3% up to 1,000,000,
1% above; at least 500 and at most 200,000 CNY; two approvers above 50,000 CNY; offers
open for 90 days. Amounts are minor units (fen).
"""

import json
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIERS = [
    {"up_to_minor": 10_000_000, "rate_bp": 500},
    {"up_to_minor": 100_000_000, "rate_bp": 300},
    {"up_to_minor": None, "rate_bp": 100},
]

reward_policies = sa.table(
    "reward_policies",
    sa.column("id", sa.String),
    sa.column("channel_id", sa.String),
    sa.column("tiers", sa.Text),
    sa.column("floor_minor", sa.BigInteger),
    sa.column("cap_minor", sa.BigInteger),
    sa.column("currency", sa.String),
    sa.column("offer_days", sa.Integer),
    sa.column("two_approver_threshold_minor", sa.BigInteger),
    sa.column("exclude_anonymous", sa.Boolean),
    sa.column("updated_at", sa.DateTime),
)


def upgrade() -> None:
    general = op.get_bind().execute(sa.text("SELECT id FROM channels WHERE slug = 'general'"))
    channel_id = general.scalar()
    if channel_id is None:
        return
    op.bulk_insert(
        reward_policies,
        [
            {
                "id": secrets.token_hex(16),
                "channel_id": channel_id,
                "tiers": json.dumps(TIERS, separators=(",", ":")),
                "floor_minor": 50_000,
                "cap_minor": 20_000_000,
                "currency": "CNY",
                "offer_days": 90,
                "two_approver_threshold_minor": 5_000_000,
                "exclude_anonymous": False,
                "updated_at": datetime.now(UTC).replace(tzinfo=None),
            }
        ],
    )


def downgrade() -> None:
    general = "SELECT id FROM channels WHERE slug = 'general'"
    op.execute(sa.text(f"DELETE FROM reward_policies WHERE channel_id IN ({general})"))  # noqa: S608 - constant SQL
