"""A proposal to end a legal hold, waiting for a second person (docs/retention.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from cases.db import Base, new_id

PENDING = "pending"
# pending | approved | refused | cancelled | expired
DECIDED = ("approved", "refused", "cancelled", "expired")


class HoldRelease(Base):
    """One person's proposal to lift a case's hold; the hold stays until another approves.

    Staff rows: the proposer's and decider's times are kept to the second (no reporter wrote
    them). Deleted with the case under retention like every row with a `case_id`.
    """

    __tablename__ = "hold_releases"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str | None] = mapped_column(String(500))
    proposed_by: Mapped[str] = mapped_column(String(32))
    proposed_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
