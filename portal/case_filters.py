"""The case list's query string (filters and page), read the same way by the page and the API."""

from __future__ import annotations

from typing import Any

from cases.workflow.listing import DUE_FILTERS, FLOOD_FILTERS, CaseFilters


def filters_from(params: Any) -> CaseFilters:
    due = params.get("due") or None
    flood = params.get("flood") or None
    return CaseFilters(
        status=params.get("status") or None,
        category_id=params.get("category") or None,
        channel_id=params.get("channel") or None,
        assignee_id=params.get("assignee") or None,
        due=due if due in DUE_FILTERS else None,
        flood=flood if flood in FLOOD_FILTERS else None,
    )


def offset_from(params: Any) -> int:
    raw = str(params.get("cursor") or params.get("offset") or "0")
    return int(raw) if raw.isdigit() and len(raw) < 9 else 0
