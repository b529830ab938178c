"""Reward policies per channel, rewards, their approvals and the one payment each may have.

Amounts, currency, statuses and dates are clear: the ledger and the approval rules need
them without any key. What people wrote (the proposal's explanation, a refusal's reason)
is sealed under the case's reward key; the reporter's payout details under the payout key.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cases.db import Base, new_id, utcnow


class RewardStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"  # offered to the reporter
    REFUSED = "refused"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    PAID = "paid"


class RewardPolicy(Base):
    """How a channel's rewards are computed; tiers are marginal bands of the recovered loss."""

    __tablename__ = "reward_policies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    channel_id: Mapped[str] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), unique=True
    )
    # JSON list of {"up_to_minor": int | null, "rate_bp": int}, ascending, last one open.
    tiers: Mapped[str] = mapped_column(Text)
    floor_minor: Mapped[int] = mapped_column(BigInteger)
    cap_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    offer_days: Mapped[int] = mapped_column(Integer)
    two_approver_threshold_minor: Mapped[int] = mapped_column(BigInteger)
    exclude_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Reward(Base):
    __tablename__ = "rewards"
    __table_args__ = (Index("ix_rewards_status_proposed", "status", "proposed_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id"))
    status: Mapped[str] = mapped_column(String(16), default=RewardStatus.PROPOSED)
    currency: Mapped[str] = mapped_column(String(3))
    recovered_loss_minor: Mapped[int] = mapped_column(BigInteger)
    suggested_minor: Mapped[int] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    approvals_needed: Mapped[int] = mapped_column(Integer)
    proposed_by: Mapped[str] = mapped_column(ForeignKey("staff_accounts.id"))
    proposed_at: Mapped[datetime] = mapped_column(DateTime)
    # Sealed {"text"} under the reward key (purpose "reward-note"); required when amount differs.
    explanation: Mapped[bytes | None] = mapped_column(LargeBinary)
    offered_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    # The reporter's answer carries a day only, never a time; staff see it (status and
    # answered_on) from the next full hour: until then it waits in `held_answer`, with that
    # hour in `answer_held_until`, and the jobs round moves it over (cases/rewards/answers.py).
    answered_on: Mapped[date | None] = mapped_column(Date)
    held_answer: Mapped[str | None] = mapped_column(String(16))
    answer_held_until: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    # Sealed {name, account, contact} under the payout key (purpose "payout"); finance only.
    payout: Mapped[bytes | None] = mapped_column(LargeBinary)


class RewardDecision(Base):
    """One approver's approval or refusal; the key makes a second vote by one person impossible."""

    __tablename__ = "reward_decisions"

    reward_id: Mapped[str] = mapped_column(
        ForeignKey("rewards.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff_accounts.id"), primary_key=True)
    approve: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(DateTime)
    id: Mapped[str] = mapped_column(String(32), unique=True, default=new_id)
    reason: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed, refusals only


class RewardPayment(Base):
    """The payment of a reward: UNIQUE reward_id, so a reward is paid at most once."""

    __tablename__ = "reward_payments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    reward_id: Mapped[str] = mapped_column(
        ForeignKey("rewards.id", ondelete="CASCADE"), unique=True
    )
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(100))
    paid_by: Mapped[str] = mapped_column(ForeignKey("staff_accounts.id"))
    paid_at: Mapped[datetime] = mapped_column(DateTime)
