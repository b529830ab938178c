"""The append-only, hash-chained audit trail."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cases.db import Base, new_id


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))  # staff | system | cli
    actor_id: Mapped[str | None] = mapped_column(String(32), index=True)
    actor_roles: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(64), index=True)
    case_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # JSON of clear, non-content facts (ids, statuses); never report text or reporter data.
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class HeldAuditEntry(Base):
    """An entry from a reporter's request, held back until its day is over.

    Appended at once, its place in the chain (between staff entries with exact times) would
    tell when the reporter acted; held here with its day only, it joins the chain after the
    day ends, dated 00:00 UTC of that day (AuditLog.release_held, run by the sweep job).
    """

    __tablename__ = "audit_held"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    on: Mapped[date] = mapped_column(Date, index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(32))
    actor_roles: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="{}")
