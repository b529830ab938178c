"""Questionnaire versions: every edit writes a new row; a row is never changed once written.

A version holds a channel's whole list of extra questions as JSON (clear: the questions are the
organisation's words, not a reporter's). A case keeps the id and a digest of the version it was
filed with inside its sealed content, so neither an edit nor a hand-changed row alters what an
earlier reporter was asked or how their answers are shown.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cases.db import Base, new_id, utcnow


class QuestionnaireVersion(Base):
    __tablename__ = "questionnaire_versions"
    __table_args__ = (UniqueConstraint("channel_id", "number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    channel_id: Mapped[str] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    # JSON list of questions (cases/questionnaires/questions.py, `Question.as_json`).
    questions: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The admin who published it; None for the seeded version.
    created_by: Mapped[str | None] = mapped_column(String(32))
