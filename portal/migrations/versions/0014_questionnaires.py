"""questionnaire versions; the seeded questions for orders diverted to a competitor

Revision ID: 0014_questionnaires
Revises: 0010_approval_macs
Create Date: 2026-11-29

Written by hand. The seeded version (the data, frozen here) gives the General channel's
"order-diversion" category the questions a compliance team asks first: which customer, which
competitor, roughly how much, when, and how the reporter knows. All are optional, so reporters
and API clients that send no answers keep filing as before.
"""

import json
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0014_questionnaires"
down_revision: str | None = "0013_statistics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _question(
    qid: str,
    kind: str,
    en: str,
    zh: str,
    help_en: str = "",
    help_zh: str = "",
    choices: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    return {
        "id": qid,
        "type": kind,
        "required": False,
        "category": None,
        "label": {"en": en, "zh_CN": zh},
        "help": {"en": help_en, "zh_CN": help_zh},
        "choices": [
            {"id": str(n), "label": {"en": c_en, "zh_CN": c_zh}}
            for n, (c_en, c_zh) in enumerate(choices, 1)
        ],
    }


DIVERSION = (
    _question(
        "diversion-customer",
        "short_text",
        "Which customer's orders were diverted?",
        "哪个客户的订单被转走了？",
        "The customer's name as you know it.",
        "按您所知道的写客户名称即可。",
    ),
    _question(
        "diversion-competitor",
        "short_text",
        "To which competitor?",
        "订单被转给了哪个竞争对手？",
    ),
    _question(
        "diversion-value",
        "amount",
        "Approximate order value",
        "大约的订单金额",
        "A rough figure is enough.",
        "大概的数字即可。",
    ),
    _question(
        "diversion-when",
        "date",
        "When did it happen?",
        "大约是什么时候发生的？",
        "The day of the order, or the day you noticed; an approximate date is fine.",
        "下单的日期或您发现的日期，大概的日期即可。",
    ),
    _question(
        "diversion-source",
        "single_choice",
        "How do you know?",
        "您是怎么知道的？",
        choices=(
            ("I saw it myself", "我亲眼看到的"),
            ("From documents, e-mails or system records", "从文件、邮件或系统记录中看到的"),
            ("Someone told me", "听别人说的"),
            ("Other", "其他"),
        ),
    ),
    _question(
        "diversion-source-details",
        "long_text",
        "More about how you know",
        "关于您如何得知的更多情况",
        "Leave out anything that would show who you are.",
        "请不要写会暴露您身份的内容。",
    ),
)

versions = sa.table(
    "questionnaire_versions",
    sa.column("id", sa.String),
    sa.column("channel_id", sa.String),
    sa.column("number", sa.Integer),
    sa.column("questions", sa.Text),
    sa.column("created_at", sa.DateTime),
    sa.column("created_by", sa.String),
)


def upgrade() -> None:
    op.create_table(
        "questionnaire_versions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("questions", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_questionnaire_versions_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_versions")),
        sa.UniqueConstraint(
            "channel_id", "number", name=op.f("uq_questionnaire_versions_channel_id")
        ),
    )
    with op.batch_alter_table("questionnaire_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_questionnaire_versions_channel_id"), ["channel_id"], unique=False
        )
    _seed()


def _seed() -> None:
    bind = op.get_bind()
    found = bind.execute(
        sa.text(
            "SELECT c.id, k.id FROM channels c JOIN categories k ON k.channel_id = c.id "
            "WHERE c.slug = 'general' AND k.slug = 'order-diversion'"
        )
    ).first()
    if found is None:
        return
    channel_id, category_id = found
    questions = [{**q, "category": category_id} for q in DIVERSION]
    op.bulk_insert(
        versions,
        [
            {
                "id": secrets.token_hex(16),
                "channel_id": channel_id,
                "number": 1,
                "questions": json.dumps(questions, ensure_ascii=False, sort_keys=True),
                "created_at": datetime.now(UTC).replace(tzinfo=None),
                "created_by": None,
            }
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("questionnaire_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questionnaire_versions_channel_id"))
    op.drop_table("questionnaire_versions")
