"""Who may see a case and what they see: subjects, disclosure, protection, masks, recusal."""

from __future__ import annotations

from datetime import date

from pydantic import Field, StrictInt

from cases.access.redaction import MaskRecord
from portal.shapes import Answer, Shape, iso
from portal.shapes.common import Text


class NothingIn(Shape):
    """An action that needs no fields: an empty JSON object."""


class SubjectIn(Shape):
    """A further person the case names."""

    name: Text = ""
    employee_id: Text = ""
    email: Text = ""


class DisclosureRequestIn(Shape):
    """Why the reporter's identity is needed."""

    reason: Text = ""


class DisclosureDecisionIn(Shape):
    """A custodian's decision on a disclosure request, with a reason."""

    decision: str = Field(json_schema_extra={"enum": ["approve", "refuse"]})
    reason: str


class RiskIn(Shape):
    """A retaliation-risk assessment."""

    likelihood: Text = ""
    who: Text = ""
    measures: Text = ""


class MeasureIn(Shape):
    """A protective measure and when to check on it (YYYY-MM-DD)."""

    description: Text = ""
    follow_up_on: Text = ""


class SpanIn(Shape):
    """A span of an item's text: by character offsets, or by the exact words."""

    start: StrictInt | None = None
    end: StrictInt | None = None
    text: Text = ""
    # Why the words are hidden: required on a reporter's message (shown to every case reader).
    reason: Text = ""


class SubjectRowOut(Answer):
    """A stored subject: as typed, and the directory entry it was matched to."""

    id: str
    name: str
    employee_id: str
    needs_confirmation: bool
    matched_by: str
    entry_name: str
    entry_department: str


class SubjectsOut(Answer):
    """The people a case names, and the candidates of ambiguous names."""

    items: list[SubjectRowOut]


class Revoked(Answer):
    """How many people lost access to the case."""

    revoked: int


class RequestOut(Answer):
    """A disclosure request."""

    id: str
    requester: str
    status: str
    reason: str | None
    decision_reason: str | None
    decided_by: str | None


class RequestsOut(Answer):
    """The disclosure requests of a case."""

    items: list[RequestOut]


class PendingRequest(RequestOut):
    """A disclosure request waiting for this custodian, with its case."""

    case: str


class PendingOut(Answer):
    """The disclosure requests this custodian may decide."""

    items: list[PendingRequest]


class RequestStatus(Answer):
    """A disclosure request and where it stands."""

    id: str
    status: str


class IdentityValue(Answer):
    """The reporter's name and contact."""

    name: str
    contact: str


class IdentityOut(Answer):
    """The reporter's identity for whoever holds its key, else null."""

    identity: IdentityValue | None
    confidential: bool


class AssessmentOut(Answer):
    """The latest retaliation-risk assessment."""

    likelihood: str
    who: str
    measures: str
    assessed_by: str
    assessed_at: str


class MeasureOut(Answer):
    """A protective measure."""

    id: str
    description: str
    follow_up_on: date
    status: str


class ProtectionOut(Answer):
    """The retaliation-risk assessment and the protective measures of a case."""

    assessment: AssessmentOut | None
    measures: list[MeasureOut]


class AssessmentMade(Answer):
    """A recorded assessment."""

    id: str
    likelihood: str


class MeasureMade(Answer):
    """A recorded measure."""

    id: str
    follow_up_on: date


class MeasureDone(Answer):
    """A measure marked done."""

    status: str


class MaskOut(Answer):
    """A span hidden from colleagues; ``mine`` when the viewer made it."""

    id: str
    start: int
    end: int
    mine: bool


class MaskRecordOut(Answer):
    """A mask on the reporter's words, as every case reader sees it: who set it, when and why;
    ``state`` is ``hiding``, ``awaiting_agreement`` (over words a colleague unmasked: it hides
    nothing until a second reader agrees), ``lifted`` or ``lapsed`` (its author left the
    case)."""

    id: str
    item: str
    masked_by: str
    masked_at: str | None
    reason: str
    state: str
    mine: bool
    lifted_by: str | None
    lifted_at: str | None
    agreed_by: str | None
    agreed_at: str | None

    @classmethod
    def of(cls, record: MaskRecord) -> MaskRecordOut:
        return cls(
            id=record.id,
            item=record.item_id,
            masked_by=record.masked_by,
            masked_at=iso(record.masked_at),
            reason=record.reason,
            state=record.state,
            mine=record.mine,
            lifted_by=record.lifted_by,
            lifted_at=iso(record.lifted_at),
            agreed_by=record.agreed_by,
            agreed_at=iso(record.agreed_at),
        )


class ItemOut(Answer):
    """A message or note as this viewer may read it: others' masks applied, their own listed;
    on a reporter's message, every mask ever set on it (``reporter_masks``)."""

    id: str
    kind: str
    author: str
    body: str
    redacted: bool
    masks: list[MaskOut]
    reporter_masks: list[MaskRecordOut]


class ItemsOut(Answer):
    """The messages and notes of a case."""

    items: list[ItemOut]


class Recused(Answer):
    """The caller stepped away from the case."""

    recused: bool


class Unmasked(Answer):
    """The mask was lifted (one's own, or a colleague's on a reporter's message)."""

    removed: bool


class MaskAgreed(Answer):
    """The caller agreed that words a colleague unmasked be hidden again."""

    agreed: bool


class Redacted(Answer):
    """A span was removed for good."""

    redacted: bool


class MaskMade(Answer):
    """The new mask."""

    id: str
