"""rewards.held_answer, rewards.answer_held_until: a reporter's answer to a reward offer reaches
staff at the next full hour

Revision ID: 0032_reward_answer_hour
Revises: 0031_handed_grants
Create Date: 2026-11-30

The reward's status changed in the reporter's own request when they accepted, declined or took
back a decline, so staff polling the case, the queue, the ledger or the payout desk learned the
minute of the visit. The answer now waits in `held_answer` until the full hour in
`answer_held_until`, and the jobs round moves it into `status` and `answered_on`
(cases/rewards/answers.py). Existing rewards are untouched.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032_reward_answer_hour"
down_revision: str | None = "0031_handed_grants"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no batch copy of the table, which would drop its triggers).
    op.add_column("rewards", sa.Column("held_answer", sa.String(length=16), nullable=True))
    op.add_column("rewards", sa.Column("answer_held_until", sa.DateTime(), nullable=True))
    op.create_index(
        op.f("ix_rewards_answer_held_until"), "rewards", ["answer_held_until"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rewards_answer_held_until"), table_name="rewards")
    op.drop_column("rewards", "answer_held_until")
    op.drop_column("rewards", "held_answer")
