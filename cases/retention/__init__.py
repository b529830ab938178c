"""Retention: cases are deleted for good a set time after closing, unless a legal hold applies."""

from cases.retention.release import RELEASE_DAYS
from cases.retention.service import (
    DEFAULT_MONTHS,
    DeletedUnderRetention,
    PendingRelease,
    RetentionConfig,
    RetentionService,
    Schedule,
    deletes_on,
    receipt_deleted,
    retention_periods,
    touched_tables,
)
from cases.retention.space import reclaim_space

__all__ = [
    "DEFAULT_MONTHS",
    "RELEASE_DAYS",
    "DeletedUnderRetention",
    "PendingRelease",
    "RetentionConfig",
    "RetentionService",
    "Schedule",
    "deletes_on",
    "receipt_deleted",
    "reclaim_space",
    "retention_periods",
    "touched_tables",
]
