"""Masking (reversible, by its author) and redaction (permanent) of text in a case's items.

A mask hides a span of a message or note from every colleague but the person who set it,
for instance a name that people joining the case later need not read; its author can lift
it. A redaction re-encrypts the item without the span: the text is gone for everyone, the
reporter included, and the audit trail records who removed how many characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cases.access.models import ItemMask
from cases.audit.service import AuditLog
from cases.clock import Clock
from cases.db import new_id
from cases.errors import Forbidden, Invalid, NotFound
from cases.principals import StaffPrincipal
from cases.reports.models import Case, CaseItem
from cases.reports.sealing import MESSAGE, NOTE, open_text, seal_text
from cases.staff.roles import CASE_READERS, require_roles

MASK_MARK = "▒▒▒"
REDACTED_MARK = "[…]"


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class MaskView:
    id: str
    start: int
    end: int
    mine: bool


@dataclass(frozen=True)
class ItemView:
    """An item as this viewer may read it: others' masks applied, their own listed."""

    id: str
    kind: str
    author: str
    body: str
    redacted: bool
    at: date | datetime
    masks: list[MaskView]


def purpose_of(item: CaseItem) -> str:
    return MESSAGE if item.kind == "message" else NOTE


def apply_masks(text: str, spans: list[Span]) -> str:
    """The text with every span replaced by one mark; overlapping spans merge."""
    result, cursor = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.end <= cursor:
            continue
        start = max(span.start, cursor)
        result.append(text[cursor:start])
        result.append(MASK_MARK)
        cursor = span.end
    result.append(text[cursor:])
    return "".join(result)


class RedactionService:
    def __init__(self, db: Session, clock: Clock, audit: AuditLog) -> None:
        self.db = db
        self.clock = clock
        self.audit = audit

    def items(self, principal: StaffPrincipal, case: Case, case_key: bytes) -> list[ItemView]:
        require_roles(principal, CASE_READERS)
        stmt = select(CaseItem).where(CaseItem.case_id == case.id).order_by(CaseItem.seq)
        masks = self._masks(case.id)
        return [
            self._view(principal, case, case_key, item, masks) for item in self.db.scalars(stmt)
        ]

    def span_of(self, case: Case, case_key: bytes, item_id: str, fragment: str) -> Span:
        """Where some exact words first occur in an item: how the pages let people choose."""
        item = self._item(case, item_id)
        text = open_text(case_key, case.id, purpose_of(item), item.id, item.body)
        start = text.find(fragment) if fragment else -1
        if start < 0:
            raise Invalid(
                "Copy the exact words to hide from the text above.", fields={"span": "not_found"}
            )
        return Span(start, start + len(fragment))

    def mask(
        self, principal: StaffPrincipal, case: Case, case_key: bytes, item_id: str, span: Span
    ) -> ItemMask:
        """Hide a span from colleagues; the author still reads it and may lift the mask."""
        require_roles(principal, CASE_READERS)
        item = self._item(case, item_id)
        _check_span(span, open_text(case_key, case.id, purpose_of(item), item.id, item.body))
        row = ItemMask(
            id=new_id(),
            case_id=case.id,
            item_id=item.id,
            author_id=principal.id,
            start=span.start,
            end=span.end,
            created_at=self.clock.now(),
        )
        self.db.add(row)
        self.db.flush()
        self.audit.record(principal.actor, "item.masked", case_id=case.id, detail={"item": item.id})
        return row

    def unmask(self, principal: StaffPrincipal, case: Case, mask_id: str) -> None:
        require_roles(principal, CASE_READERS)
        row = self.db.get(ItemMask, mask_id) if len(mask_id) <= 64 else None
        if row is None or row.case_id != case.id:
            raise NotFound("There is no such mask.", code="mask_not_found")
        if row.author_id != principal.id:
            raise Forbidden("Only the person who masked this text can show it again.")
        self.db.delete(row)
        self.audit.record(
            principal.actor, "item.unmasked", case_id=case.id, detail={"item": row.item_id}
        )

    def redact(
        self, principal: StaffPrincipal, case: Case, case_key: bytes, item_id: str, span: Span
    ) -> CaseItem:
        """Remove a span for good: the item is sealed again without it; masks on it lapse."""
        require_roles(principal, CASE_READERS)
        item = self._item(case, item_id)
        purpose = purpose_of(item)
        text = open_text(case_key, case.id, purpose, item.id, item.body)
        _check_span(span, text)
        kept = text[: span.start] + REDACTED_MARK + text[span.end :]
        item.body = seal_text(case_key, case.id, purpose, item.id, kept)
        item.redacted = True
        # Offsets of masks no longer fit the shorter text.
        self.db.execute(delete(ItemMask).where(ItemMask.item_id == item.id))
        self.db.flush()
        self.audit.record(
            principal.actor,
            "item.redacted",
            case_id=case.id,
            detail={"item": item.id, "removed_chars": span.end - span.start},
        )
        return item

    def _item(self, case: Case, item_id: str) -> CaseItem:
        item = self.db.get(CaseItem, item_id) if len(item_id) <= 64 else None
        if item is None or item.case_id != case.id:
            raise NotFound("There is no such message or note.", code="item_not_found")
        return item

    def _masks(self, case_id: str) -> dict[str, list[ItemMask]]:
        by_item: dict[str, list[ItemMask]] = {}
        for row in self.db.scalars(select(ItemMask).where(ItemMask.case_id == case_id)):
            by_item.setdefault(row.item_id, []).append(row)
        return by_item

    def _view(
        self,
        principal: StaffPrincipal,
        case: Case,
        case_key: bytes,
        item: CaseItem,
        masks: dict[str, list[ItemMask]],
    ) -> ItemView:
        text = open_text(case_key, case.id, purpose_of(item), item.id, item.body)
        rows = masks.get(item.id, [])
        hidden = [Span(m.start, m.end) for m in rows if m.author_id != principal.id]
        return ItemView(
            id=item.id,
            kind=item.kind,
            author=item.author,
            body=apply_masks(text, hidden),
            redacted=item.redacted,
            at=item.created_at if item.created_at else item.created_on,
            masks=[MaskView(m.id, m.start, m.end, m.author_id == principal.id) for m in rows],
        )


def _check_span(span: Span, text: str) -> None:
    if not 0 <= span.start < span.end <= len(text):
        raise Invalid(
            "Choose a part of the text: the start must come before the end, inside the text.",
            fields={"span": "out_of_range"},
        )
