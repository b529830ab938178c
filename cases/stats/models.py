"""The token that says whether the cases behind the statistics have changed."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cases.db import Base


class StatsVersion(Base):
    """One row: a token that database triggers replace with a random one whenever what the
    statistics count changes (a case filed, deleted, or changed in its day, channel,
    category, outcome, kind or status; a category moved; a channel added or removed), in
    the changing transaction (migration `0021_stats_version`).

    A process keeps the whole data set's cube and its suppression patterns
    (`StatisticsService._whole`) while the token it read is unchanged, as the text scan does
    with `people_version`. Random, not a counter: a counter comes back to an old value after
    a rollback or a restore; a random token never.
    """

    __tablename__ = "stats_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
