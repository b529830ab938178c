"""Indexes the case list needs on tables other areas own (see bench/cases for the numbers)."""

from __future__ import annotations

from sqlalchemy import Index

from cases.reports.models import KeyWrap

# PostgreSQL turns the policy's "holds a key OR awaits one" into a hashed subplan over
# every key this person holds; covering it makes that an index-only scan.
KEY_WRAPS_BY_HOLDER = Index(
    "ix_key_wraps_staff_kind_case", KeyWrap.staff_id, KeyWrap.key_kind, KeyWrap.case_id
)
