"""Questionnaires: admins publish versions; intake checks answers; readers see them as filed.

Admins edit one question at a time (add, change, move, delete); each edit publishes a new
version of the channel's whole list, and versions are never changed. A filed case keeps, in its
sealed content, the version id, number and digest with the answers (`sealed_part`), so reading
it later (`answered`) uses the exact wording the reporter saw, and a version row changed by hand
in the database shows as altered rather than silently rewording the reporter's answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from cases.audit.service import AuditLog
from cases.db import new_id
from cases.errors import Forbidden, Invalid, NotFound
from cases.org.models import Channel
from cases.principals import StaffPrincipal
from cases.questionnaires.models import QuestionnaireVersion
from cases.questionnaires.questions import (
    CHOICE_KINDS,
    CHOICE_MAX,
    HELP_MAX,
    LABEL_MAX,
    MAX_CHOICES,
    MAX_QUESTIONS,
    Choice,
    Kind,
    Question,
    Questionnaire,
    Wording,
    check_answers,
    dump,
    load,
)
from cases.staff.models import Role

# The key of the questionnaire's part inside a case's sealed report content.
CONTENT_KEY = "questionnaire"
TOO_MANY = "A channel can have at most 50 questions."


@dataclass(frozen=True)
class QuestionForm:
    """One question as an admin typed it; choices one per line, English and Chinese in step."""

    kind: str
    label_en: str
    label_zh: str
    help_en: str = ""
    help_zh: str = ""
    required: bool = False
    category_id: str = ""
    choices_en: Sequence[str] = ()
    choices_zh: Sequence[str] = ()


@dataclass(frozen=True)
class Answer:
    question: Question
    value: Any

    @property
    def answered(self) -> bool:
        return self.value is not None

    def text(self, locale: str) -> str:
        """The answer in words (yes/no is left to the page, which translates it)."""
        value, question = self.value, self.question
        if value is None or question.kind is Kind.YES_NO:
            return ""
        if question.kind in CHOICE_KINDS:
            ids = value if isinstance(value, list) else [value]
            return "; ".join(_choice_label(question, str(i), locale) for i in ids)
        if question.kind is Kind.AMOUNT:
            return f"{value.get('amount', '')} {value.get('currency', '')}"
        return str(value)


@dataclass(frozen=True)
class Answers:
    """A case's answers read with the version it was filed under."""

    number: int | None = None
    items: list[Answer] = field(default_factory=list)
    # The version row no longer matches the digest sealed with the answers.
    altered: bool = False
    # The version row is gone: the answers are shown by question id only.
    missing: bool = False


# Built once: every report filed reads its channel's questionnaire through it.
_CURRENT = (
    select(QuestionnaireVersion)
    .where(QuestionnaireVersion.channel_id == bindparam("channel"))
    .order_by(QuestionnaireVersion.number.desc())
    .limit(1)
)


class QuestionnaireService:
    def __init__(self, db: Session, audit: AuditLog | None = None) -> None:
        self.db = db
        self.audit = audit

    # --- reading ---------------------------------------------------------------------------

    def current(self, channel_id: str) -> Questionnaire:
        """The channel's latest version (an empty questionnaire when it has none)."""
        row = self.db.scalars(_CURRENT, {"channel": channel_id}).first()
        return _questionnaire(row) if row is not None else Questionnaire(None, 0)

    def versions(self, channel_id: str) -> list[QuestionnaireVersion]:
        stmt = (
            select(QuestionnaireVersion)
            .where(QuestionnaireVersion.channel_id == channel_id)
            .order_by(QuestionnaireVersion.number.desc())
        )
        return list(self.db.scalars(stmt))

    # --- intake ----------------------------------------------------------------------------

    def sealed_part(
        self,
        channel_id: str,
        category_id: str,
        raw: Mapping[str, Any],
        *,
        required: bool = True,
        current: Questionnaire | None = None,
    ) -> dict[str, Any] | None:
        """What goes into the sealed content: version, digest and checked answers (None when
        the channel has no questionnaire). Invalid names each refused answer; `required=False`
        (a report staff record, a linked complaint) lets required questions stay unanswered.
        `current` is the channel's latest version when the caller has it already (a filing's
        kept configuration, cases/org/snapshot.py)."""
        questionnaire = current if current is not None else self.current(channel_id)
        if questionnaire.version_id is None:
            if raw:
                fields = {f"answers.{key}": "unknown_question" for key in raw}
                raise Invalid("Please check the highlighted fields.", fields=fields)
            return None
        asked = questionnaire
        if not required:
            relaxed = tuple(replace(q, required=False) for q in questionnaire.questions)
            asked = replace(questionnaire, questions=relaxed)
        return {
            "version": questionnaire.version_id,
            "number": questionnaire.number,
            "digest": questionnaire.digest,
            "answers": check_answers(asked, category_id, raw),
        }

    # --- reading a filed case --------------------------------------------------------------

    def answered(self, content: Mapping[str, Any], category_id: str) -> Answers | None:
        """The answers in a case's opened content, with the wording of the version filed."""
        part = content.get(CONTENT_KEY)
        if not isinstance(part, Mapping):
            return None
        values: Mapping[str, Any] = part.get("answers") or {}
        row = self.db.get(QuestionnaireVersion, str(part.get("version", "")))
        if row is None:
            items = [
                Answer(Question(qid, Kind.SHORT_TEXT, Wording(qid, qid)), value)
                for qid, value in values.items()
            ]
            return Answers(part.get("number"), items, missing=True)
        questionnaire = _questionnaire(row)
        items = [Answer(q, values.get(q.id)) for q in questionnaire.for_category(category_id)]
        return Answers(row.number, items, altered=questionnaire.digest != part.get("digest"))

    # --- admin -----------------------------------------------------------------------------

    def channel(self, me: StaffPrincipal, channel_id: str) -> Channel:
        require_admin(me)
        channel = self.db.get(Channel, channel_id) if len(channel_id) <= 64 else None
        if channel is None:
            raise NotFound
        return channel

    def question(self, me: StaffPrincipal, channel_id: str, question_id: str) -> Question:
        self.channel(me, channel_id)
        found = self.current(channel_id).question(question_id)
        if found is None:
            raise NotFound
        return found

    def add(self, me: StaffPrincipal, channel_id: str, form: QuestionForm) -> Question:
        channel = self.channel(me, channel_id)
        questions = list(self.current(channel.id).questions)
        if len(questions) >= MAX_QUESTIONS:
            raise Invalid(TOO_MANY, fields={"kind": "too_many"})
        question = _question(channel, new_id(), form)
        self._publish(me, channel, [*questions, question], "added", question.id)
        return question

    def change(
        self, me: StaffPrincipal, channel_id: str, question_id: str, form: QuestionForm
    ) -> None:
        channel = self.channel(me, channel_id)
        question = _question(channel, question_id, form)
        questions = [
            question if q.id == question_id else q for q in self._existing(channel, question_id)
        ]
        self._publish(me, channel, questions, "changed", question_id)

    def move(self, me: StaffPrincipal, channel_id: str, question_id: str, step: int) -> None:
        """Swap a question with its neighbour above (step -1) or below (step +1)."""
        channel = self.channel(me, channel_id)
        questions = self._existing(channel, question_id)
        index = next(i for i, q in enumerate(questions) if q.id == question_id)
        other = index + (1 if step > 0 else -1)
        if not 0 <= other < len(questions):
            return
        questions[index], questions[other] = questions[other], questions[index]
        self._publish(me, channel, questions, "moved", question_id)

    def delete(self, me: StaffPrincipal, channel_id: str, question_id: str) -> None:
        channel = self.channel(me, channel_id)
        questions = [q for q in self._existing(channel, question_id) if q.id != question_id]
        self._publish(me, channel, questions, "deleted", question_id)

    def replace_all(
        self, me: StaffPrincipal, channel_id: str, forms: Sequence[tuple[str | None, QuestionForm]]
    ) -> Questionnaire:
        """The whole list at once (the admin API): ids kept where given, new ones made."""
        channel = self.channel(me, channel_id)
        if len(forms) > MAX_QUESTIONS:
            raise Invalid(TOO_MANY, fields={"questions": "too_many"})
        questions = [_question(channel, qid or new_id(), form) for qid, form in forms]
        if len({q.id for q in questions}) != len(questions):
            raise Invalid("Each question id once.", fields={"questions": "duplicate"})
        return self._publish(me, channel, questions, "replaced", "")

    def _existing(self, channel: Channel, question_id: str) -> list[Question]:
        questions = list(self.current(channel.id).questions)
        if not any(q.id == question_id for q in questions):
            raise NotFound
        return questions

    def _publish(
        self,
        me: StaffPrincipal,
        channel: Channel,
        questions: list[Question],
        what: str,
        question_id: str,
    ) -> Questionnaire:
        number = (
            self.db.scalar(
                select(func.max(QuestionnaireVersion.number)).where(
                    QuestionnaireVersion.channel_id == channel.id
                )
            )
            or 0
        ) + 1
        row = QuestionnaireVersion(
            channel_id=channel.id, number=number, questions=dump(questions), created_by=me.id
        )
        self.db.add(row)
        self.db.flush()
        if self.audit is not None:
            detail = {"target": channel.id, "version": number, "change": what}
            detail["question"] = question_id
            self.audit.record(me.actor, "admin.questionnaire_published", detail=detail)
        return _questionnaire(row)


def require_admin(me: StaffPrincipal) -> None:
    """Questionnaires are configuration: admins edit them (cases/org/admin.py's rule)."""
    if not me.has_role(Role.ADMIN):
        raise Forbidden("Only admins use these pages.")


def _questionnaire(row: QuestionnaireVersion) -> Questionnaire:
    return Questionnaire(row.id, row.number, load(row.questions))


def _choice_label(question: Question, choice_id: str, locale: str) -> str:
    choice = question.choice(choice_id)
    return choice.label.get(locale) if choice is not None else choice_id


def _question(channel: Channel, question_id: str, form: QuestionForm) -> Question:
    """The typed question checked; Invalid names each field to fix."""
    errors: dict[str, str] = {}
    kind = Kind(form.kind) if form.kind in set(Kind) else None
    if kind is None:
        errors["kind"] = "required"
    for name, value, limit in (
        ("label_en", form.label_en, LABEL_MAX),
        ("label_zh", form.label_zh, LABEL_MAX),
    ):
        _limit(errors, name, value, limit, required=True)
    _limit(errors, "help_en", form.help_en, HELP_MAX, required=False)
    _limit(errors, "help_zh", form.help_zh, HELP_MAX, required=False)
    category = form.category_id or None
    if category is not None and category not in {c.id for c in channel.categories}:
        errors["category"] = "unknown_category"
    choices = _choices(errors, form) if kind in CHOICE_KINDS else ()
    if errors or kind is None:
        raise Invalid("Please check the highlighted fields.", fields=errors)
    return Question(
        id=question_id,
        kind=kind,
        label=Wording(form.label_en.strip(), form.label_zh.strip()),
        help=Wording(form.help_en.strip(), form.help_zh.strip()),
        required=form.required,
        category_id=category,
        choices=choices,
    )


def _choices(errors: dict[str, str], form: QuestionForm) -> tuple[Choice, ...]:
    english = [line.strip() for line in form.choices_en if line.strip()]
    chinese = [line.strip() for line in form.choices_zh if line.strip()]
    if len(english) < 2:
        errors["choices_en"] = "two_choices"
    elif len(english) > MAX_CHOICES:
        errors["choices_en"] = "too_many"
    elif len(chinese) != len(english):
        errors["choices_zh"] = "choices_in_step"
    elif any(len(c) > CHOICE_MAX for c in english + chinese):
        errors["choices_en"] = "too_long"
    if errors:
        return ()
    pairs = zip(english, chinese, strict=True)
    return tuple(Choice(str(n), Wording(en, zh)) for n, (en, zh) in enumerate(pairs, 1))


def _limit(errors: dict[str, str], name: str, value: str, limit: int, *, required: bool) -> None:
    if required and not value.strip():
        errors[name] = "required"
    elif len(value) > limit:
        errors[name] = "too_long"
