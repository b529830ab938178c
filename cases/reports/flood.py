"""Floods: reports are never refused for other people's volume, only marked and set apart.

A report that arrives while its channel receives far more reports than normal (more than
the hourly threshold this hour or the hour before) is filed like any other, and marked with
the hour it arrived in. Staff see marked reports in a list of their own and can dismiss them
in bulk (cases/workflow/flood.py); disk is protected by a quota on the evidence kept from
marked reports, not by turning reporters away (DESIGN.md, "Availability").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cases.clock import Clock, floor_hour
from cases.reports.models import Attachment, AttachmentChunk, Case
from cases.sessions.service import Throttle, ThrottleRule

HOUR = 3600


@dataclass(frozen=True)
class FloodConfig:
    # Reports per channel and hour above which newcomers are marked "arrived during a flood".
    per_hour: int = 20
    # Bytes of evidence kept, in total, from all flood-marked reports.
    evidence_quota: int = 1024 * 1024 * 1024


class FloodGauge:
    """Counts reports per channel and hour (in the database, shared by every process)."""

    def __init__(self, db: Session, clock: Clock, config: FloodConfig) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.throttle = Throttle(db, clock)

    def arrival(self, channel_id: str) -> datetime | None:
        """Count one report; the hour it arrived in when that hour is a flood, else None."""
        hour = floor_hour(self.clock.now())
        rule = ThrottleRule(self.config.per_hour, 2 * HOUR, hourly=True)
        count = self.throttle.fail(_key(channel_id, hour), rule)
        before = self.throttle.count(_key(channel_id, hour - timedelta(hours=1)))
        return hour if max(count, before) > self.config.per_hour else None

    def evidence_room(self, case: Case, ids: Sequence[str]) -> list[str]:
        """The uploads of a marked case that fit the flood quota; the rest are deleted now."""
        if case.flood_hour is None or not ids:
            return list(ids)
        used = self.db.scalar(
            select(func.coalesce(func.sum(Attachment.stored_bytes), 0))
            .join(Case, Case.id == Attachment.case_id)
            .where(Case.flood_hour.is_not(None), Attachment.linked.is_(True))
        )
        new = self.db.scalar(
            select(func.coalesce(func.sum(Attachment.stored_bytes), 0)).where(
                Attachment.id.in_(ids), Attachment.case_id == case.id
            )
        )
        if int(used or 0) + int(new or 0) <= self.config.evidence_quota:
            return list(ids)
        self.db.execute(delete(AttachmentChunk).where(AttachmentChunk.attachment_id.in_(ids)))
        self.db.execute(delete(Attachment).where(Attachment.id.in_(ids)))
        return []


def _key(channel_id: str, hour: datetime) -> str:
    return f"intake:{channel_id}:{hour.isoformat(timespec='hours')}"
