"""The staff JSON shapes (CONTRACT.md, "Staff"): a session, the case list, a case, a transition."""

from __future__ import annotations

from datetime import date

from pydantic import ConfigDict, Field

from cases.casework.service import CaseView, Entry, HistoryEntry
from cases.reports.attachments import StoredFile
from cases.reports.models import Case
from cases.workflow.listing import CasePage, CaseRow
from cases.workflow.second_reader import Unconfirmed
from portal.shapes import Answer, Shape, iso
from portal.shapes.access import MaskRecordOut
from portal.shapes.common import Named, Text
from portal.shapes.questionnaires import AnswersOut


class StaffLoginIn(Shape):
    """E-mail, password and the current TOTP code."""

    email: str
    password: str
    totp: str


class StaffToken(Answer):
    """A staff session: send it as ``Authorization: Bearer <token>``."""

    token: str


class CaseItem(Answer):
    """One row of the case list; ``category``/``channel`` are ids."""

    id: str
    reference: str
    status: str
    outcome: str | None
    category: str
    channel: str
    submitted_on: date
    acknowledge_by: date
    feedback_by: date
    due_on: date | None
    overdue: bool
    due_soon: bool
    awaiting_access: bool
    flood: bool
    related: bool = Field(description="names someone another case this caller may see names")
    reward: bool
    awaiting_second_reader: bool = Field(
        description="one case reader alone concluded it unsubstantiated or not actionable, or "
        "dismissed it unread from a flood: kept, and retention not counted, until a second "
        "reader agrees (agreeSecondReading) or someone reopens it"
    )
    unconfirmed_by: str | None = Field(description="the staff id of that one reader")
    unconfirmed_kind: str | None = Field(description="concluded | flood")
    assignees: list[str]
    summary: str | None = Field(description="null where the caller holds no key for the case")

    @classmethod
    def of(cls, row: CaseRow, summary: str | None = None) -> CaseItem:
        return cls(
            id=row.id,
            reference=row.reference,
            status=row.status,
            outcome=row.outcome,
            category=row.category_id,
            channel=row.channel_id,
            submitted_on=row.submitted_on,
            acknowledge_by=row.acknowledge_by,
            feedback_by=row.feedback_by,
            due_on=row.due_on,
            overdue=row.overdue,
            due_soon=row.due_soon,
            awaiting_access=row.awaiting_access,
            flood=row.flood,
            related=row.related,
            reward=row.reward,
            awaiting_second_reader=row.awaiting_second_reader,
            unconfirmed_by=row.unconfirmed_by,
            unconfirmed_kind=row.unconfirmed_kind,
            assignees=list(row.assignee_ids),
            summary=summary,
        )


class RelatedOut(Answer):
    """Another case this caller may see that names the same person; ``certain`` is false for
    a match by name, alias, pinyin or a name within what was typed ("possibly related")."""

    model_config = ConfigDict(extra="forbid", frozen=True, from_attributes=True)

    id: str
    reference: str
    status: str
    submitted_on: date
    certain: bool


class CaseList(Answer):
    """A page of the cases this person may see; ``next`` is the cursor of the next page."""

    items: list[CaseItem]
    next: str | None
    total: int

    @classmethod
    def of(cls, page: CasePage, summaries: dict[str, str] | None = None) -> CaseList:
        following = str(page.next_offset) if page.next_offset is not None else None
        found = summaries or {}
        return cls(
            items=[CaseItem.of(r, found.get(r.id)) for r in page.rows],
            next=following,
            total=page.total,
        )


class SearchOut(CaseList):
    """A page of search hits; ``searched`` cases were read, ``cut`` when older ones were not."""

    searched: int
    cut: bool
    window: int


class EntryOut(Answer):
    """A message or a note: a date for the reporter's items, a time for staff ones."""

    author: str
    body: str
    at: str | None

    @classmethod
    def message(cls, entry: Entry) -> EntryOut:
        return cls(author=entry.author, body=entry.body, at=iso(entry.at))

    @classmethod
    def note(cls, entry: Entry) -> EntryOut:
        return cls(author=entry.staff_name, body=entry.body, at=iso(entry.at))


class AttachmentOut(Answer):
    """A file of the case; ``metadata_removed`` is false when it is stored as sent."""

    id: str
    name: str
    size: int
    sha256: str
    author: str
    metadata_removed: bool

    @classmethod
    def of(cls, info: StoredFile) -> AttachmentOut:
        return cls(
            id=info.id,
            name=info.name,
            size=info.size,
            sha256=info.sha256,
            author=info.author,
            metadata_removed=info.cleaned,
        )


class HistoryOut(Answer):
    """One move of the case's status, with its reason."""

    from_: str | None = Field(alias="from")
    to: str
    outcome: str | None
    at: str | None
    reason: str

    @classmethod
    def of(cls, entry: HistoryEntry) -> HistoryOut:
        return cls.model_validate(
            {
                "from": entry.from_status,
                "to": entry.to_status,
                "outcome": entry.outcome,
                "at": iso(entry.at),
                "reason": entry.reason,
            }
        )


class SubjectOut(Answer):
    """A person the report names, as typed; ``needs_confirmation`` until staff pick a match."""

    name: str = ""
    employee_id: str = ""
    email: str = ""
    needs_confirmation: bool = False


class ReceiptReuseOut(Answer):
    """The receipt staff handed over was used again after the reporter's first login replaced
    it: whoever used it was not let in. Either the reporter lost the new receipt, or someone
    else had the old one (the person who took the report saw it); if the first login was not
    the reporter's, the reporter is locked out and has been told to file a new report."""

    replaced_on: date
    later_uses: int
    last_used_on: date | None


class SecondReadingOut(Answer):
    """One reader's unfounded ending of the case, waiting for a second reader."""

    kind: str = Field(description="concluded (unsubstantiated or not actionable) | flood")
    by: str = Field(description="the staff id of the reader who ended it")
    since: str | None
    may_agree: bool = Field(description="whether the caller may agree as the second reader")
    refusal: str | None = Field(description="why the caller may not agree")
    possible: bool = Field(
        description="false when no one could be the second reader (a team of one): the case "
        "stays kept until a new case reader is given its key"
    )
    ending: str = Field(
        default="",
        description="names this ending: send it back to agreeSecondReading to agree to this "
        "ending only (409 ending_changed once the case has moved on)",
    )

    @classmethod
    def of(cls, state: Unconfirmed | None) -> SecondReadingOut | None:
        if state is None:
            return None
        return cls(
            kind=state.kind,
            by=state.by,
            since=iso(state.since),
            may_agree=state.refusal is None,
            refusal=state.refusal,
            possible=state.possible,
            ending=state.ending,
        )


class AgreedOut(Answer):
    """The case after a second reader agreed: its ending stands."""

    id: str
    status: str
    outcome: str | None
    awaiting_second_reader: bool
    retention_from: date | None = Field(
        description="the day the retention period counts from (set once closed and agreed)"
    )

    @classmethod
    def of(cls, case: Case) -> AgreedOut:
        return cls(
            id=case.id,
            status=case.status,
            outcome=case.outcome,
            awaiting_second_reader=case.unconfirmed_by is not None,
            retention_from=case.closed_on,
        )


class CaseOut(Answer):
    """``GET /api/v1/cases/{id}``: the case decrypted, with notes and assignees."""

    id: str
    reference: str
    status: str
    outcome: str | None
    category: str
    channel: str
    intake: str
    submitted_on: date
    acknowledge_by: date
    feedback_by: date
    awaiting_access: bool
    summary: str | None
    details: str | None
    loss_estimate: str | None
    subjects: list[SubjectOut]
    messages: list[EntryOut]
    notes: list[EntryOut]
    attachments: list[AttachmentOut]
    history: list[HistoryOut]
    assignees: list[Named]
    questionnaire: AnswersOut | None
    related: list[RelatedOut]
    # Every mask set on the reporter's words: who, when, why, and what it does now.
    masks: list[MaskRecordOut]
    # None unless the receipt staff handed over was used after it was replaced.
    receipt_reused: ReceiptReuseOut | None = None
    second_reading: SecondReadingOut | None = Field(
        default=None, description="one reader's unfounded ending, awaiting a second reader"
    )

    @classmethod
    def of(cls, view: CaseView) -> CaseOut:
        case = view.case
        return cls(
            id=case.id,
            reference=case.reference,
            status=case.status,
            outcome=case.outcome,
            category=case.category_id,
            channel=case.channel_id,
            intake=case.intake,
            submitted_on=case.submitted_on,
            acknowledge_by=case.acknowledge_by,
            feedback_by=case.feedback_by,
            awaiting_access=view.awaiting_access,
            summary=view.report.get("summary"),
            details=view.report.get("details"),
            loss_estimate=view.report.get("loss_estimate"),
            subjects=[SubjectOut.model_validate(s) for s in view.subjects],
            messages=[EntryOut.message(m) for m in view.messages],
            notes=[EntryOut.note(n) for n in view.notes],
            attachments=[AttachmentOut.of(f) for f in view.files],
            history=[HistoryOut.of(h) for h in view.history],
            assignees=[Named(id=p.id, name=p.name) for p in view.assignees],
            questionnaire=AnswersOut.of(view.answers),
            related=[RelatedOut.model_validate(r) for r in view.related],
            masks=[MaskRecordOut.of(m) for m in view.masks],
            receipt_reused=ReceiptReuseOut(
                replaced_on=reuse.replaced_on,
                later_uses=reuse.later_uses,
                last_used_on=reuse.last_used_on,
            )
            if (reuse := view.receipt_reuse) is not None
            else None,
            second_reading=SecondReadingOut.of(view.second_reading),
        )


class TransitionIn(Shape):
    """A move to another status: a reason always, an outcome when concluding."""

    status: str
    reason: Text = ""
    outcome: str | None = None


class TransitionOut(Answer):
    """The case's status after the move, and its next legal deadline."""

    status: str
    outcome: str | None
    due_on: date | None

    @classmethod
    def of(cls, case: Case) -> TransitionOut:
        return cls(status=case.status, outcome=case.outcome, due_on=case.due_on)
