"""The reporter's JSON shapes (CONTRACT.md, "Reporter"): a report, a session, the case view."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, RootModel, WithJsonSchema

from cases.access.reporting import DisclosureNotice
from cases.org.models import Channel
from cases.questionnaires.questions import Questionnaire
from cases.reports.attachments import StoredFile
from cases.reports.intake import IdentityInput, SubjectInput, Submission
from cases.reports.models import Case
from cases.reports.reporter import LinkedCase, Message, ReporterView
from cases.rewards.service import Payout, RewardNotice
from portal.shapes import Answer, Shape
from portal.shapes.common import Ids, Named, Text, empty_if_null
from portal.shapes.questionnaires import AnswerIn, AnswersOut, QuestionOut, answer_values


class SubjectIn(Shape):
    """A person the report names; the domain matches them against the staff directory."""

    name: Text = ""
    employee_id: Text = ""
    email: Text = ""

    def value(self) -> SubjectInput:
        return SubjectInput(name=self.name, employee_id=self.employee_id, email=self.email)


Subjects = Annotated[
    list[SubjectIn],
    BeforeValidator(empty_if_null),
    WithJsonSchema(
        {
            "type": ["array", "null"],
            "description": "the people the report names",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": ["string", "null"]},
                    "employee_id": {"type": ["string", "null"]},
                    "email": {"type": ["string", "null"]},
                },
            },
        },
        mode="validation",
    ),
]


class IdentityIn(Shape):
    """A reporter who chooses to say who they are: sealed for identity custodians only."""

    name: str
    contact: str

    def value(self) -> IdentityInput:
        return IdentityInput(self.name, self.contact)


class ReportIn(Shape):
    """``POST /api/v1/reports``: what a report says; every business rule is the intake's."""

    channel: str
    category: str
    summary: str
    details: str
    loss_estimate: Text = ""
    subjects: Subjects = Field(default_factory=list)
    exclude: Ids = Field(default_factory=list, description="staff ids to keep away from the report")
    identity: IdentityIn | None = None
    answers: dict[str, AnswerIn] | None = Field(
        default=None,
        max_length=100,
        description="answers to the channel's extra questions, by question id "
        "(docs/questionnaires.md): text, a date or a choice id as a string, several choice "
        "ids as a list, yes/no as true/false, an amount as {amount, currency}",
    )

    def submission(self) -> Submission:
        return Submission(
            channel_id=self.channel,
            category_id=self.category,
            summary=self.summary,
            details=self.details,
            loss_estimate=self.loss_estimate,
            subjects=[s.value() for s in self.subjects],
            exclude=list(self.exclude),
            identity=self.identity.value() if self.identity else None,
            intake="api",
            answers=answer_values(self.answers),
        )


class Filed(Answer):
    """A filed report: the receipt (shown once, never stored) and the legal deadlines."""

    receipt: str
    acknowledge_by: date
    feedback_by: date


class ReceiptIn(Shape):
    """A receipt as the reporter typed it (a mistyped one is 422 with a hint)."""

    receipt: Text = ""


class ReporterToken(Answer):
    """A reporter session; ``new_receipt`` only when a receipt staff handed over was replaced."""

    token: str
    new_receipt: str | None = None


class Category(Named):
    """A category of a channel."""


class ChannelOut(Answer):
    """A channel, the categories a reporter may choose in it and its current extra questions."""

    id: str
    name: str
    categories: list[Category]
    questions: list[QuestionOut]

    @classmethod
    def of(cls, channel: Channel, locale: str, questionnaire: Questionnaire) -> ChannelOut:
        categories = [
            Category(id=c.id, name=c.name(locale)) for c in channel.categories if c.active
        ]
        return cls(
            id=channel.id,
            name=channel.name(locale),
            categories=categories,
            questions=[QuestionOut.of(q) for q in questionnaire.questions],
        )


class Channels(RootModel[list[ChannelOut]]):
    """Every active channel."""


class Recipients(RootModel[list[Named]]):
    """The staff a reporter may exclude from a report in a channel."""


class FileOut(Answer):
    """A stored file as its uploader may see it; the name is as cleaned."""

    id: str
    name: str
    size: int
    sha256: str
    metadata_removed: bool

    @classmethod
    def of(cls, stored: StoredFile) -> FileOut:
        return cls(
            id=stored.id,
            name=stored.name,
            size=stored.size,
            sha256=stored.sha256,
            metadata_removed=stored.cleaned,
        )


class MessageOut(Answer):
    """One message of the conversation; ``at`` is a date for the reporter's own, a time else."""

    author: Literal["reporter", "staff"]
    body: str
    at: str

    @classmethod
    def of(cls, message: Message) -> MessageOut:
        when = f"{message.at.isoformat()}Z" if message.at is not None else message.on.isoformat()
        return cls(author=message.author, body=message.body, at=when)  # type: ignore[arg-type]


class LinkedOut(Answer):
    """A case filed later from the same receipt (a retaliation complaint)."""

    category: str
    status: str
    submitted_on: date

    @classmethod
    def of(cls, linked: LinkedCase) -> LinkedOut:
        return cls(
            category=linked.category_id, status=linked.status, submitted_on=linked.submitted_on
        )


class RewardOut(Answer):
    """The reward offered for a report (CONTRACT.md "reward")."""

    status: str
    amount_minor: int
    currency: str
    expires_on: date | None
    undo_until: date | None = Field(description="a declined offer can be taken back until then")

    @classmethod
    def of(cls, notice: RewardNotice) -> RewardOut:
        return cls(
            status=notice.status,
            amount_minor=notice.amount_minor,
            currency=notice.currency,
            expires_on=notice.expires_on,
            undo_until=notice.undo_until,
        )


class DisclosureOut(Answer):
    """Whether someone asked to know who the reporter is, and how it was decided."""

    status: str
    requested_on: date
    decided_on: date | None

    @classmethod
    def of(cls, notice: DisclosureNotice) -> DisclosureOut:
        return cls(
            status=notice.status, requested_on=notice.requested_on, decided_on=notice.decided_on
        )


class ReporterReport(Answer):
    """``GET /api/v1/reporter/report``: everything the reporter may see of their case."""

    status: str
    outcome: str | None
    category: str
    submitted_on: date
    acknowledge_by: date
    feedback_by: date
    summary: str
    details: str
    messages: list[MessageOut]
    attachments: list[FileOut]
    reward: RewardOut | None
    identity_disclosure: DisclosureOut | None
    linked: list[LinkedOut]
    questionnaire: AnswersOut | None

    @classmethod
    def of(cls, view: ReporterView) -> ReporterReport:
        case = view.case
        return cls(
            status=case.status,
            outcome=case.outcome,
            category=case.category_id,
            submitted_on=case.submitted_on,
            acknowledge_by=case.acknowledge_by,
            feedback_by=case.feedback_by,
            summary=view.summary,
            details=view.details,
            messages=[MessageOut.of(m) for m in view.messages],
            attachments=[FileOut.of(f) for f in view.attachments],
            reward=RewardOut.of(view.reward) if view.reward else None,
            identity_disclosure=(
                DisclosureOut.of(view.identity_disclosure) if view.identity_disclosure else None
            ),
            linked=[LinkedOut.of(c) for c in view.linked],
            questionnaire=AnswersOut.of(view.answers),
        )


class ComplaintIn(Shape):
    """``POST /api/v1/reporter/retaliation``: a complaint linked to the receipt's case."""

    summary: str
    details: str
    subjects: Subjects = Field(default_factory=list)
    exclude: Ids = Field(default_factory=list, description="staff ids to keep away")


class ComplaintFiled(Answer):
    """The linked case a retaliation complaint opened."""

    category: str
    status: str
    submitted_on: date
    acknowledge_by: date
    feedback_by: date

    @classmethod
    def of(cls, case: Case) -> ComplaintFiled:
        return cls(
            category=case.category_id,
            status=case.status,
            submitted_on=case.submitted_on,
            acknowledge_by=case.acknowledge_by,
            feedback_by=case.feedback_by,
        )


class PayoutIn(Shape):
    """Where an accepted reward is paid; sealed for finance only."""

    name: str = ""
    account: str = ""
    contact: str = ""
    payee: Text = Field(
        default="self",
        description="self: the reporter's own account; representative: someone (a lawyer, "
        "say) who collects on the reporter's behalf. Finance sees only these payout details, "
        "the amount and a payment id: never which case, its category, channel or dates.",
    )

    def value(self) -> Payout:
        return Payout(self.name, self.account, self.contact, payee=self.payee or "self")
