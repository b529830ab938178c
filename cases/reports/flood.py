"""Floods: reports are never refused for other people's volume, only marked and set apart.

A report that arrives while its channel receives far more reports than normal (more than
the hour's threshold this hour or the hour before) is filed like any other, and marked with
the hour it arrived in. Staff see marked reports in a list of their own and can dismiss them
in bulk (cases/workflow/flood.py); disk is protected by a quota on the evidence kept from
marked reports, not by turning reporters away (DESIGN.md, "Availability").

The count holds every report, also those a team member is kept away from, and the marks are
seen by the team. So that a mark does not tell someone who filed junk up to a known threshold
that one more report (the one about him) came that hour, each channel's hour has a threshold
of its own: the configured figure plus a secret offset from 0 to that figure again, keyed by
the server secret (`threshold`). One report more tips a mark only when the hour's offset is
the lowest of its `per_hour + 1` values (docs/access.md, "Flood marks do not count a hidden
report").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

import crypto
from cases.clock import Clock, floor_hour
from cases.reports.models import Attachment, AttachmentChunk, Case
from cases.sessions.service import Throttle, ThrottleRule

HOUR = 3600


@dataclass(frozen=True)
class FloodConfig:
    # Reports per channel and hour above which newcomers may be marked "arrived during a
    # flood": each channel's hour adds a secret offset of 0 to `per_hour` (FloodGauge.threshold).
    per_hour: int = 20
    # Bytes of evidence kept, in total, from all flood-marked reports.
    evidence_quota: int = 1024 * 1024 * 1024


class FloodGauge:
    """Counts reports per channel and hour (in the database, shared by every process)."""

    def __init__(self, db: Session, clock: Clock, config: FloodConfig, secret: bytes) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.secret = secret
        self.throttle = Throttle(db, clock)

    def arrival(self, channel_id: str) -> datetime | None:
        """Count one report; the hour it arrived in when that hour is a flood, else None."""
        hour = floor_hour(self.clock.now())
        earlier = hour - timedelta(hours=1)
        rule = ThrottleRule(self.config.per_hour, 2 * HOUR, hourly=True)
        count = self.throttle.fail(_key(channel_id, hour), rule)
        if count > self.threshold(channel_id, hour):
            return hour
        before = self.throttle.count(_key(channel_id, earlier))
        return hour if before > self.threshold(channel_id, earlier) else None

    def threshold(self, channel_id: str, hour: datetime) -> int:
        return threshold(self.config, self.secret, channel_id, hour)

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


_PURPOSE = "flood-threshold"


def threshold(config: FloodConfig, secret: bytes, channel_id: str, hour: datetime) -> int:
    """Reports a channel may receive in an hour before newcomers are marked: the configured
    figure plus an offset of 0 to that figure, the same in every process (a keyed hash of the
    channel and the hour), unknown to anyone without the server secret."""
    digest = crypto.keyed_hash(secret, _PURPOSE, _key(channel_id, hour))
    return config.per_hour + int(digest[:12], 16) % (config.per_hour + 1)


def _key(channel_id: str, hour: datetime) -> str:
    return f"intake:{channel_id}:{hour.isoformat(timespec='hours')}"
