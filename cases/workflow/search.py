"""Search: by reference (a prefix, clear), and by words in the content of cases the viewer may open.

The words are matched against the report as it is decrypted in the viewer's request, with
the viewer's own key (the private key their session unlocks): there is no index, in the
clear or keyed, that the server could read alone, and the search words are neither stored
nor logged (the web layer takes them in a POST body, never in a URL).

Decrypting costs one key unwrap and one AEAD open per case, so a search reads a window:
the SEARCH_WINDOW most recently received cases the viewer may open among those the filters
keep. When there are more, the answer says the window cut (`cut`), and the page tells the
viewer to narrow the filters (a date range reaches older cases). docs/caselist.md has the
figures behind the number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto
from cases.access.names import fold
from cases.access.policy import visible_condition
from cases.principals import StaffPrincipal
from cases.reports.keys import CASE, staff_holder, wrap_context
from cases.reports.models import Case, KeyWrap
from cases.reports.sealing import REPORT, open_json
from cases.staff.roles import CASE_READERS, require_roles
from cases.workflow.listing import CaseFilters, CaseList, CaseRow

SEARCH_WINDOW = 2000
QUERY_MAX = 200
# A reference match is a clear-column lookup: it reaches every case the viewer may see.
REFERENCE_MATCHES = 50


@dataclass(frozen=True)
class SearchHit:
    row: CaseRow
    summary: str | None  # None: the viewer awaits the key (a reference match only)


@dataclass(frozen=True)
class SearchResult:
    hits: list[SearchHit]
    total: int  # hits in all, among the cases the viewer may see
    searched: int  # how many cases were decrypted and read
    cut: bool  # the window was full: older cases were not searched
    window: int = SEARCH_WINDOW
    offset: int = 0
    limit: int = 50
    words: list[str] = field(default_factory=list)

    @property
    def page(self) -> list[SearchHit]:
        return self.hits[self.offset : self.offset + self.limit]

    @property
    def next_offset(self) -> int | None:
        following = self.offset + self.limit
        return following if following < self.total else None


def query_words(query: str) -> list[str]:
    """The words to find (folded as the matcher folds names), all of which must appear."""
    return fold(query[:QUERY_MAX]).split()


def report_text(report: Any) -> str:
    """Every string of the decrypted report (summary, details, answers...), folded."""
    parts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(report)
    return fold("\n".join(parts))


class CaseSearch:
    def __init__(self, db: Session, window: int = SEARCH_WINDOW) -> None:
        self.db = db
        self.window = window
        self.decrypted = 0

    def search(
        self,
        principal: StaffPrincipal,
        today: date,
        filters: CaseFilters,
        query: str,
        *,
        offset: int = 0,
        limit: int = 50,
    ) -> SearchResult:
        """Cases matching every word, or the reference; newest first. Nothing is stored."""
        require_roles(principal, CASE_READERS)
        words = query_words(query)
        staff = principal.account
        listing = CaseList(self.db)
        conditions = listing.conditions(filters, today)
        decrypted = self._window(principal, conditions)
        summaries = {case_id: str(report.get("summary") or "") for case_id, report in decrypted}
        found = [case_id for case_id, report in decrypted if _matches(report, words)]
        matched: dict[str, tuple[Case, str | None]] = {
            case.id: (case, summaries[case.id]) for case in self._load(found)
        }
        for case in self._by_reference(staff, conditions, "".join(words)):
            matched.setdefault(case.id, (case, summaries.get(case.id)))
        ordered = sorted(matched.values(), key=lambda m: (m[0].submitted_on, m[0].id))[::-1]
        rows = listing.rows(staff, [case for case, _ in ordered], today)
        hits = [SearchHit(row, summary) for row, (_, summary) in zip(rows, ordered, strict=True)]
        return SearchResult(
            hits=hits,
            total=len(hits),
            searched=self.decrypted,
            cut=self.decrypted >= self.window,
            window=self.window,
            offset=max(0, offset),
            limit=limit,
            words=words,
        )

    def _window(
        self, principal: StaffPrincipal, conditions: list[Any]
    ) -> list[tuple[str, dict[str, Any]]]:
        """The most recent cases the viewer may open and holds the key to, decrypted here.

        The cases are walked newest first along ix_cases_submitted_id under visible_condition
        and the walk stops at the window; the viewer's wrapped keys are then read for those
        ids. (Joined in one statement, SQLite scanned every key wrap and sorted: 8 s at
        100,000 cases; bench/caselist.)
        """
        stmt = (
            select(Case.id, Case.content)
            .where(visible_condition(principal.account, self.db), *conditions)
            .order_by(Case.submitted_on.desc(), Case.id.desc())
            .limit(self.window)
        )
        contents: dict[str, bytes | None] = dict(self.db.execute(stmt).all())
        self.decrypted = len(contents)
        wraps = self._wraps(principal, list(contents))
        opened: list[tuple[str, dict[str, Any]]] = []
        for case_id, content in contents.items():
            wrapped = wraps.get(case_id)
            report = _open_report(principal, case_id, content, wrapped) if wrapped else None
            if report is not None:
                opened.append((case_id, report))
        return opened

    def _wraps(self, principal: StaffPrincipal, case_ids: list[str]) -> dict[str, bytes]:
        """The viewer's wrapped case keys of these cases (none for a key still awaited)."""
        holder = staff_holder(principal.id)
        found: dict[str, bytes] = {}
        for start in range(0, len(case_ids), 500):
            stmt = select(KeyWrap.case_id, KeyWrap.wrapped).where(
                KeyWrap.case_id.in_(case_ids[start : start + 500]),
                KeyWrap.key_kind == CASE,
                KeyWrap.holder == holder,
            )
            found.update((case_id, wrapped) for case_id, wrapped in self.db.execute(stmt))
        return found

    def _load(self, case_ids: list[str]) -> list[Case]:
        found: list[Case] = []
        for start in range(0, len(case_ids), 500):
            chunk = case_ids[start : start + 500]
            found += self.db.scalars(select(Case).where(Case.id.in_(chunk)))
        return found

    def _by_reference(self, staff: Any, conditions: list[Any], needle: str) -> list[Case]:
        """Cases whose reference starts with the query (letters and digits, any case): a range
        on the unique index of references, so it costs nothing at any case count."""
        cleaned = "".join(c for c in needle if c.isalnum()).upper()
        if len(cleaned) < 3:
            return []
        stmt = (
            select(Case)
            .where(
                Case.reference >= cleaned,
                Case.reference < cleaned + "\U0010ffff",
                visible_condition(staff, self.db),
                *conditions,
            )
            .order_by(Case.reference)
            .limit(REFERENCE_MATCHES)
        )
        return list(self.db.scalars(stmt))


def _matches(report: dict[str, Any], words: list[str]) -> bool:
    """Every word appears in the report's text (none given: nothing matches)."""
    if not words:
        return False
    text = report_text(report)
    return all(word in text for word in words)


def _open_report(
    principal: StaffPrincipal, case_id: str, content: bytes | None, wrapped: bytes
) -> dict[str, Any] | None:
    """The report under the viewer's wrapped key; None when it no longer opens (shredded)."""
    if not content:
        return None
    try:
        context = wrap_context(case_id, CASE, staff_holder(principal.id))
        key = crypto.unwrap(principal.private_key, wrapped, context)
        report = open_json(key, case_id, REPORT, case_id, content)
    except (crypto.CryptoError, ValueError):
        return None
    return report if isinstance(report, dict) else None


__all__ = ["SEARCH_WINDOW", "CaseSearch", "SearchHit", "SearchResult", "query_words"]
