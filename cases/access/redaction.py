"""Masking (reversible) and redaction (permanent) of text in a case's items.

A mask hides a span of a message or note from every colleague but the person who set it,
for instance a name that people joining the case later need not read; its author can lift
it. A mask on a reporter's words is different: it must not let one investigator bury
evidence. Every case reader sees who set it, when and why (its reason, if given), and any
of them can lift it (audited, and shown in the case's history). A mask over words a colleague
has unmasked hides nothing until a second reader agrees, so its author cannot hide them again
alone (docs/access.md, "A mask on a reporter's words").

A redaction re-encrypts a staff item without the span: the text is gone for everyone, the
reporter included (who still sees the rest of a staff message, with the redaction mark), and
the audit trail records who removed how many characters.

A reporter's own message is never redacted: nothing a reporter submitted is lost once their
receipt was shown, and one investigator alone (the HR head on the accused's side, say) must
not be able to erase evidence, or the reporter's record of what they wrote. Staff who must
keep a third party's details from colleagues mask them (docs/access.md, "Masking and
redaction").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, exists, or_, select
from sqlalchemy.orm import Session

from cases.access.models import ItemMask
from cases.audit.service import AuditLog
from cases.clock import Clock
from cases.db import new_id
from cases.errors import Conflict, Forbidden, Invalid, NotFound
from cases.principals import StaffPrincipal
from cases.reports.conversation import shown_to_staff
from cases.reports.keys import CASE
from cases.reports.models import Case, CaseItem, KeyWrap
from cases.reports.sealing import MASK_REASON, MESSAGE, NOTE, open_text, seal_text
from cases.retention.release import related
from cases.staff.models import StaffAccount
from cases.staff.roles import CASE_READERS, require_roles

MASK_MARK = "▒▒▒"
REDACTED_MARK = "[…]"
REASON_MAX = 500

# What a mask on a reporter's words does now, as every case reader sees it.
HIDING = "hiding"
AWAITING_AGREEMENT = "awaiting_agreement"
LIFTED = "lifted"
LAPSED = "lapsed"  # its author no longer holds the case key


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
class MaskRecord:
    """A mask on a reporter's words as every case reader sees it: who set it, when and why,
    what it does now, and who lifted it or agreed to it. No offsets: the mark in the text
    shows where it is, and its length is the hidden words' length."""

    id: str
    item_id: str
    masked_by: str
    masked_at: datetime
    reason: str
    state: str
    mine: bool
    lifted_by: str | None
    lifted_at: datetime | None
    agreed_by: str | None
    agreed_at: datetime | None


@dataclass(frozen=True)
class MaskEvent:
    """One step of a mask on the reporter's words, for the case's history: set, lifted or
    agreed to, by whom and when (the masker reads there who lifted their mask)."""

    at: datetime
    action: str  # masked | lifted | agreed
    by: str
    masked_by: str
    reason: str


def mask_timeline(records: list[MaskRecord]) -> list[MaskEvent]:
    events: list[MaskEvent] = []
    for r in records:
        events.append(MaskEvent(r.masked_at, "masked", r.masked_by, r.masked_by, r.reason))
        if r.agreed_by is not None and r.agreed_at is not None:
            events.append(MaskEvent(r.agreed_at, "agreed", r.agreed_by, r.masked_by, r.reason))
        if r.lifted_by is not None and r.lifted_at is not None:
            events.append(MaskEvent(r.lifted_at, "lifted", r.lifted_by, r.masked_by, r.reason))
    return sorted(events, key=lambda e: e.at)


@dataclass(frozen=True)
class ItemView:
    """An item as this viewer may read it: others' masks applied, their own listed (and, on a
    reporter's message, every mask with who set it)."""

    id: str
    kind: str
    author: str
    body: str
    redacted: bool
    at: date | datetime
    masks: list[MaskView]
    reporter_masks: list[MaskRecord]


def purpose_of(item: CaseItem) -> str:
    return MESSAGE if item.kind == "message" else NOTE


@dataclass(frozen=True)
class Visible:
    """A run of text the viewer reads as it is: where it sits in their view and in the text."""

    view_start: int
    raw_start: int
    length: int


def masked_view(text: str, spans: list[Span]) -> tuple[str, list[Visible]]:
    """The text with every span replaced by one mark (overlaps merge), and its visible runs."""
    result, runs, cursor, at = [], [], 0, 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.end <= cursor:
            continue
        start = max(span.start, cursor)
        runs.append(Visible(at, cursor, start - cursor))
        result += [text[cursor:start], MASK_MARK]
        at += start - cursor + len(MASK_MARK)
        cursor = span.end
    runs.append(Visible(at, cursor, len(text) - cursor))
    result.append(text[cursor:])
    return "".join(result), runs


def apply_masks(text: str, spans: list[Span]) -> str:
    return masked_view(text, spans)[0]


def find_visible(view: str, runs: list[Visible], fragment: str) -> Span | None:
    """The first occurrence of the words inside one visible run, as offsets in the text.

    Only what the viewer can read is searched: a fragment that would need hidden text to
    match is not found, so the answer tells nothing about what a mask hides.
    """
    at = view.find(fragment) if fragment else -1
    while at >= 0:
        for run in runs:
            if run.view_start <= at and at + len(fragment) <= run.view_start + run.length:
                start = run.raw_start + at - run.view_start
                return Span(start, start + len(fragment))
        at = view.find(fragment, at + 1)
    return None


def author_holds_key() -> ColumnElement[bool]:
    return exists().where(
        KeyWrap.case_id == ItemMask.case_id,
        KeyWrap.key_kind == CASE,
        KeyWrap.staff_id == ItemMask.author_id,
    )


def standing_masks(case_id: str) -> Select[ItemMask]:
    """The masks of a case that still hide text from the author's colleagues.

    A lifted mask hides nothing, nor does one over words a colleague unmasked until a second
    reader agrees. A mask on a reporter's message also counts only while its author holds
    the case key: once they recuse, are deactivated, change role or are kept away from the
    case, the reporter's words show again for the team without anyone having to lift it. A
    mask on a staff item keeps hiding what it hid (a colleague's note is not evidence the
    reporter gave)."""
    reporter_items = select(CaseItem.id).where(
        CaseItem.case_id == case_id, CaseItem.author == "reporter"
    )
    return select(ItemMask).where(
        ItemMask.case_id == case_id,
        ItemMask.lifted_at.is_(None),
        or_(ItemMask.needs_agreement.is_(False), ItemMask.agreed_by.is_not(None)),
        or_(ItemMask.item_id.not_in(reporter_items), author_holds_key()),
    )


def overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


class RedactionService:
    def __init__(self, db: Session, clock: Clock, audit: AuditLog) -> None:
        self.db = db
        self.clock = clock
        self.audit = audit

    def items(self, principal: StaffPrincipal, case: Case, case_key: bytes) -> list[ItemView]:
        require_roles(principal, CASE_READERS)
        stmt = (
            select(CaseItem)
            .where(CaseItem.case_id == case.id, shown_to_staff())
            .order_by(CaseItem.seq)
        )
        masks = self._masks(case.id)
        records: dict[str, list[MaskRecord]] = {}
        for record in self.records(principal, case, case_key):
            records.setdefault(record.item_id, []).append(record)
        return [
            self._view(principal, case, case_key, item, masks, records.get(item.id, []))
            for item in self.db.scalars(stmt)
        ]

    def records(self, principal: StaffPrincipal, case: Case, case_key: bytes) -> list[MaskRecord]:
        """Every mask ever set on the reporter's words in this case, lifted ones included, in
        the order they were set: what every case reader sees of them."""
        require_roles(principal, CASE_READERS)
        stmt = (
            select(ItemMask, author_holds_key())
            .join(CaseItem, CaseItem.id == ItemMask.item_id)
            .where(ItemMask.case_id == case.id, CaseItem.author == "reporter")
            .order_by(ItemMask.created_at, ItemMask.id)
        )
        names = staff_names(self.db)
        return [
            _record(principal, case, case_key, row, bool(holds), names)
            for row, holds in self.db.execute(stmt).all()
        ]

    def span_of(
        self, principal: StaffPrincipal, case: Case, case_key: bytes, item_id: str, fragment: str
    ) -> Span | Invalid:
        """Where some exact words occur in the item as this viewer reads it (others' masks
        applied). A miss is audited and returned, not raised, so the entry survives the
        request's rollback: whoever probes for hidden words leaves a trail."""
        require_roles(principal, CASE_READERS)
        item = self._item(case, item_id)
        text = open_text(case_key, case.id, purpose_of(item), item.id, item.body)
        view, runs = masked_view(text, self._hidden(principal, item.id))
        found = find_visible(view, runs, fragment)
        if found is not None:
            return found
        self.audit.record(
            principal.actor, "item.match_failed", case_id=case.id, detail={"item": item.id}
        )
        return Invalid(
            "Copy the exact words to hide from the text above.", fields={"span": "not_found"}
        )

    def mask(
        self,
        principal: StaffPrincipal,
        case: Case,
        case_key: bytes,
        item_id: str,
        span: Span,
        reason: str = "",
    ) -> ItemMask:
        """Hide a span from colleagues; the author still reads it and may lift the mask.

        On a reporter's message the reason (optional, as the API always had it; listed as "no
        reason given" without one) is shown to every case reader, and a span that overlaps
        words a colleague unmasked waits for a second reader's agreement before it hides
        them."""
        require_roles(principal, CASE_READERS)
        item = self._item(case, item_id)
        _check_span(span, open_text(case_key, case.id, purpose_of(item), item.id, item.body))
        reason = reason.strip()
        reporters = item.author == "reporter"
        if len(reason) > REASON_MAX:
            raise Invalid("That is too long.", fields={"reason": "too_long"})
        row = ItemMask(
            id=new_id(),
            case_id=case.id,
            item_id=item.id,
            author_id=principal.id,
            start=span.start,
            end=span.end,
            created_at=self.clock.now(),
            needs_agreement=reporters and self._unmasked_by_colleague(item.id, span),
        )
        if reason:
            row.reason = seal_text(case_key, case.id, MASK_REASON, row.id, reason)
        self.db.add(row)
        self.db.flush()
        detail = {"item": item.id, "mask": row.id}
        if row.needs_agreement:
            detail["needs_agreement"] = "yes"
        self.audit.record(principal.actor, "item.masked", case_id=case.id, detail=detail)
        return row

    def unmask(self, principal: StaffPrincipal, case: Case, mask_id: str) -> None:
        """Lift a mask. One's own, on any item; a colleague's, only on a reporter's message:
        the row stays, with who lifted it and when, for the whole team to see."""
        require_roles(principal, CASE_READERS)
        row = self._mask(case, mask_id)
        reporters = self._is_reporters(row.item_id)
        if row.author_id != principal.id and not reporters:
            raise Forbidden("Only the person who masked this text can show it again.")
        if not reporters:
            self.db.delete(row)
            self.audit.record(
                principal.actor, "item.unmasked", case_id=case.id, detail={"item": row.item_id}
            )
            return
        if row.lifted_at is not None:
            raise Conflict("This mask was lifted already.", code="mask_lifted")
        row.lifted_by, row.lifted_at = principal.id, self.clock.now()
        own = row.author_id == principal.id
        self.audit.record(
            principal.actor,
            "item.unmasked" if own else "item.mask_lifted",
            case_id=case.id,
            detail={"item": row.item_id, "mask": row.id},
        )

    def agree(self, principal: StaffPrincipal, case: Case, mask_id: str) -> None:
        """A second case reader agrees that words a colleague unmasked be hidden again: never
        the mask's author nor an account related to theirs by the making of accounts."""
        require_roles(principal, CASE_READERS)
        row = self._mask(case, mask_id)
        if not row.needs_agreement or row.agreed_by is not None or row.lifted_at is not None:
            raise Conflict("This mask is not waiting for agreement.", code="mask_not_waiting")
        if row.author_id == principal.id:
            raise Conflict(
                "A colleague must agree: nobody agrees to their own mask.", code="own_mask"
            )
        if related(self.db, principal.id, row.author_id):
            # An account the masker made, reset, gave a role or approved for keys, or one that
            # did so for the masker's, could be their puppet (cases/retention/release.py): the
            # rule the second reader of an unfounded ending follows.
            raise Forbidden(
                "You cannot agree: one of you made, changed or approved the other's account, "
                "so an independent colleague must agree.",
                code="related_to_masker",
            )
        row.agreed_by, row.agreed_at = principal.id, self.clock.now()
        self.audit.record(
            principal.actor,
            "item.mask_agreed",
            case_id=case.id,
            detail={"item": row.item_id, "mask": row.id},
        )

    def _mask(self, case: Case, mask_id: str) -> ItemMask:
        row = self.db.get(ItemMask, mask_id) if len(mask_id) <= 64 else None
        if row is None or row.case_id != case.id:
            raise NotFound("There is no such mask.", code="mask_not_found")
        return row

    def _is_reporters(self, item_id: str) -> bool:
        item = self.db.get(CaseItem, item_id)
        return item is not None and item.author == "reporter"

    def _unmasked_by_colleague(self, item_id: str, span: Span) -> bool:
        """Whether the span overlaps words whose mask someone other than its author lifted."""
        stmt = select(ItemMask).where(
            ItemMask.item_id == item_id,
            ItemMask.lifted_at.is_not(None),
            ItemMask.lifted_by != ItemMask.author_id,
        )
        return any(overlaps(span, Span(m.start, m.end)) for m in self.db.scalars(stmt))

    def redact(
        self, principal: StaffPrincipal, case: Case, case_key: bytes, item_id: str, span: Span
    ) -> CaseItem:
        """Remove a span for good: the item is sealed again without it; masks on it lapse."""
        require_roles(principal, CASE_READERS)
        item = self._item(case, item_id)
        if item.author == "reporter":
            raise Conflict(
                "A reporter's own words are never deleted; mask them to hide them from colleagues.",
                code="reporter_words",
            )
        purpose = purpose_of(item)
        text = open_text(case_key, case.id, purpose, item.id, item.body)
        _check_span(span, text)
        if any(overlaps(span, hidden) for hidden in self._hidden(principal, item.id)):
            raise Conflict(
                "A colleague has masked part of this text; only they can lift their mask.",
                code="masked_by_other",
            )
        kept = text[: span.start] + REDACTED_MARK + text[span.end :]
        item.body = seal_text(case_key, case.id, purpose, item.id, kept)
        item.redacted = True
        self._shift_masks(item.id, span)
        self.db.flush()
        self.audit.record(
            principal.actor,
            "item.redacted",
            case_id=case.id,
            detail={"item": item.id, "removed_chars": span.end - span.start},
        )
        return item

    def _hidden(self, principal: StaffPrincipal, item_id: str) -> list[Span]:
        """The spans of this item that other people masked: what this viewer cannot read."""
        item = self.db.get(CaseItem, item_id)
        if item is None:
            return []
        rows = self.db.scalars(
            standing_masks(item.case_id).where(
                ItemMask.item_id == item_id, ItemMask.author_id != principal.id
            )
        )
        return [Span(m.start, m.end) for m in rows]

    def _shift_masks(self, item_id: str, removed: Span) -> None:
        """Masks after the removed span move with the text; the redactor's own masks inside
        it go (the words they hid are gone). Others' masks never overlap it (refused above)."""
        delta = len(REDACTED_MARK) - (removed.end - removed.start)
        for row in self.db.scalars(select(ItemMask).where(ItemMask.item_id == item_id)):
            mask = Span(row.start, row.end)
            if overlaps(mask, removed):
                self.db.delete(row)
            elif row.start >= removed.end:
                row.start, row.end = row.start + delta, row.end + delta

    def _item(self, case: Case, item_id: str) -> CaseItem:
        item = self.db.get(CaseItem, item_id) if len(item_id) <= 64 else None
        # A reporter's item still held out of the order is not there for staff yet.
        if item is None or item.case_id != case.id or item.seq <= 0:
            raise NotFound("There is no such message or note.", code="item_not_found")
        return item

    def _masks(self, case_id: str) -> dict[str, list[ItemMask]]:
        by_item: dict[str, list[ItemMask]] = {}
        for row in self.db.scalars(standing_masks(case_id)):
            by_item.setdefault(row.item_id, []).append(row)
        return by_item

    def _view(
        self,
        principal: StaffPrincipal,
        case: Case,
        case_key: bytes,
        item: CaseItem,
        masks: dict[str, list[ItemMask]],
        records: list[MaskRecord],
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
            # Only one's own masks are listed: others' offsets would tell how long the hidden
            # words are.
            masks=[
                MaskView(m.id, m.start, m.end, True) for m in rows if m.author_id == principal.id
            ],
            reporter_masks=records,
        )


def staff_names(db: Session) -> dict[str, str]:
    rows = db.execute(select(StaffAccount.id, StaffAccount.name, StaffAccount.email))
    return {row.id: row.name or row.email for row in rows}


def mask_state(row: ItemMask, author_holds: bool) -> str:
    if row.lifted_at is not None:
        return LIFTED
    if row.needs_agreement and row.agreed_by is None:
        return AWAITING_AGREEMENT
    return HIDING if author_holds else LAPSED


def _record(
    principal: StaffPrincipal,
    case: Case,
    case_key: bytes,
    row: ItemMask,
    author_holds: bool,
    names: dict[str, str],
) -> MaskRecord:
    reason = open_text(case_key, case.id, MASK_REASON, row.id, row.reason) if row.reason else ""
    return MaskRecord(
        id=row.id,
        item_id=row.item_id,
        masked_by=names.get(row.author_id, ""),
        masked_at=row.created_at,
        reason=reason,
        state=mask_state(row, author_holds),
        mine=row.author_id == principal.id,
        lifted_by=names.get(row.lifted_by) if row.lifted_by else None,
        lifted_at=row.lifted_at,
        agreed_by=names.get(row.agreed_by) if row.agreed_by else None,
        agreed_at=row.agreed_at,
    )


def _check_span(span: Span, text: str) -> None:
    if not 0 <= span.start < span.end <= len(text):
        raise Invalid(
            "Choose a part of the text: the start must come before the end, inside the text.",
            fields={"span": "out_of_range"},
        )
