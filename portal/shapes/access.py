"""Who may see a case and what they see: subjects, disclosure, protection, masks, recusal."""

from __future__ import annotations

from datetime import date

from pydantic import Field, StrictInt

from portal.shapes import Answer, Shape
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


class ItemOut(Answer):
    """A message or note as this viewer may read it: others' masks applied, their own listed."""

    id: str
    kind: str
    author: str
    body: str
    redacted: bool
    masks: list[MaskOut]


class ItemsOut(Answer):
    """The messages and notes of a case."""

    items: list[ItemOut]


class Recused(Answer):
    """The caller stepped away from the case."""

    recused: bool


class Unmasked(Answer):
    """The caller's mask was lifted."""

    removed: bool


class Redacted(Answer):
    """A span was removed for good."""

    redacted: bool


class MaskMade(Answer):
    """The new mask."""

    id: str
