"""seed the General channel and its categories

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

Written by hand (the data, frozen here), so later model changes cannot alter what a
fresh install starts with.
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATEGORIES = (
    ("order-diversion", "Order diversion to competitors", "飞单（把订单转给竞争对手）"),
    ("off-book-deals", "Off-book private deals", "走私单（私下交易、体外循环）"),
    ("kickbacks", "Kickbacks or bribery", "回扣或贿赂"),
    ("data-leak", "Customer data leakage", "泄露客户资料"),
    ("price-manipulation", "Price or contract manipulation", "操纵价格或合同"),
    ("expense-fraud", "Expense fraud", "报销舞弊"),
    ("retaliation", "Retaliation against a reporter", "对举报人的打击报复"),
    ("other", "Other misconduct", "其他违规行为"),
)

channels = sa.table(
    "channels",
    sa.column("id", sa.String),
    sa.column("slug", sa.String),
    sa.column("name_en", sa.String),
    sa.column("name_zh", sa.String),
    sa.column("active", sa.Boolean),
    sa.column("acknowledge_days", sa.Integer),
    sa.column("feedback_months", sa.Integer),
)
categories = sa.table(
    "categories",
    sa.column("id", sa.String),
    sa.column("channel_id", sa.String),
    sa.column("slug", sa.String),
    sa.column("name_en", sa.String),
    sa.column("name_zh", sa.String),
    sa.column("position", sa.Integer),
    sa.column("active", sa.Boolean),
    sa.column("retaliation", sa.Boolean),
)


def upgrade() -> None:
    channel_id = secrets.token_hex(16)
    op.bulk_insert(
        channels,
        [
            {
                "id": channel_id,
                "slug": "general",
                "name_en": "General",
                "name_zh": "综合",
                "active": True,
                "acknowledge_days": 7,
                "feedback_months": 3,
            }
        ],
    )
    op.bulk_insert(
        categories,
        [
            {
                "id": secrets.token_hex(16),
                "channel_id": channel_id,
                "slug": slug,
                "name_en": en,
                "name_zh": zh,
                "position": position,
                "active": True,
                "retaliation": slug == "retaliation",
            }
            for position, (slug, en, zh) in enumerate(CATEGORIES)
        ],
    )


def downgrade() -> None:
    general = "SELECT id FROM channels WHERE slug = 'general'"
    op.execute(sa.text(f"DELETE FROM categories WHERE channel_id IN ({general})"))  # noqa: S608 - constant SQL
    op.execute(sa.text("DELETE FROM channels WHERE slug = 'general'"))
