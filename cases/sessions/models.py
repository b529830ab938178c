"""Server-side sessions and throttle counters: both live in the database, never in memory."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cases.db import Base


class UserSession(Base):
    """Holds the principal's secret sealed under a session key that only the browser has."""

    __tablename__ = "user_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # staff | reporter
    stage: Mapped[str] = mapped_column(String(16), default="full")  # totp | enroll | full
    staff_id: Mapped[str | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    receipt_id: Mapped[str | None] = mapped_column(
        ForeignKey("receipts.id", ondelete="CASCADE"), index=True
    )
    sealed_secret: Mapped[bytes] = mapped_column(LargeBinary)
    idle_expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    absolute_expires_at: Mapped[datetime] = mapped_column(DateTime)


class ThrottleCounter(Base):
    """Failures per key (a receipt selector, an account, a channel) in a fixed window."""

    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    window_ends_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime)
