"""The case list's tables: saved views, and indexes it needs on tables other areas own
(see bench/cases for the numbers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cases.db import Base, new_id, utcnow
from cases.reports.models import Case, KeyWrap

# PostgreSQL turns the policy's "holds a key OR awaits one" into a hashed subplan over
# every key this person holds; covering it makes that an index-only scan.
KEY_WRAPS_BY_HOLDER = Index(
    "ix_key_wraps_staff_kind_case", KeyWrap.staff_id, KeyWrap.key_kind, KeyWrap.case_id
)

# Search walks the cases newest first and stops at its window (cases/workflow/search.py);
# the id makes the order total, so the walk needs no sort.
CASES_BY_RECEIVED = Index("ix_cases_submitted_id", Case.submitted_on, Case.id)


class SavedView(Base):
    """A person's named set of case-list filters: the filter values only, never content
    (a search word is not a filter and is never saved)."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("staff_id", "name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    staff_id: Mapped[str] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    filters: Mapped[str] = mapped_column(String(1000))  # a query string of known filter keys
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
