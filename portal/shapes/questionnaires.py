"""JSON shapes of questionnaires: questions as channels list them, answers in a report body,
and the admin API's whole-list replacement."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from cases.questionnaires.questions import Choice, Question, Questionnaire, Wording
from cases.questionnaires.service import Answers
from portal.shapes import Answer, Shape

KindName = Literal[
    "short_text", "long_text", "single_choice", "multiple_choice", "date", "amount", "yes_no"
]


class WordingOut(Shape):
    """Both wordings of a text (the request form of a wording too)."""

    en: str
    zh_CN: str

    @classmethod
    def of(cls, wording: Wording) -> WordingOut:
        return cls(en=wording.en, zh_CN=wording.zh)


class ChoiceOut(Answer):
    id: str
    label: WordingOut

    @classmethod
    def of(cls, choice: Choice) -> ChoiceOut:
        return cls(id=choice.id, label=WordingOut.of(choice.label))


class QuestionOut(Answer):
    id: str
    type: KindName
    required: bool
    category: str | None = Field(description="the category it is limited to; null: every one")
    label: WordingOut
    help: WordingOut
    choices: list[ChoiceOut]

    @classmethod
    def of(cls, question: Question) -> QuestionOut:
        return cls(
            id=question.id,
            type=str(question.kind),  # type: ignore[arg-type]
            required=question.required,
            category=question.category_id,
            label=WordingOut.of(question.label),
            help=WordingOut.of(question.help),
            choices=[ChoiceOut.of(c) for c in question.choices],
        )


class QuestionnaireOut(Answer):
    version: int = Field(description="0 while the channel has no questions")
    questions: list[QuestionOut]

    @classmethod
    def of(cls, questionnaire: Questionnaire) -> QuestionnaireOut:
        return cls(
            version=questionnaire.number,
            questions=[QuestionOut.of(q) for q in questionnaire.questions],
        )


class AnswerOut(Answer):
    """One answer, with the question's wording in the version the report was filed under."""

    question: str
    type: KindName
    label: WordingOut
    value: Any = Field(description="as sent: text, a choice id or ids, true/false, an amount")


class AnswersOut(Answer):
    """A case's answers; ``altered`` when the stored version no longer matches the one filed."""

    version: int | None
    altered: bool
    answers: list[AnswerOut]

    @classmethod
    def of(cls, answers: Answers | None) -> AnswersOut | None:
        if answers is None:
            return None
        return cls(
            version=answers.number,
            altered=answers.altered or answers.missing,
            answers=[
                AnswerOut(
                    question=a.question.id,
                    type=str(a.question.kind),  # type: ignore[arg-type]
                    label=WordingOut.of(a.question.label),
                    value=a.value,
                )
                for a in answers.items
            ],
        )


class AmountIn(Shape):
    amount: str = Field(max_length=40, description="decimal figures, e.g. 120000.50")
    currency: str = Field(max_length=3, description="ISO 4217 code, e.g. CNY")


AnswerIn = str | bool | list[str] | AmountIn


class AnswersIn(Shape):
    """The `answers` of a report body, by question id: text, a date (YYYY-MM-DD) or a choice id
    as a string; several choice ids as a list; yes/no as true/false; an amount as an object."""

    answers: dict[str, AnswerIn] = Field(default_factory=dict, max_length=100)


def answer_values(answers: dict[str, AnswerIn] | None) -> dict[str, Any]:
    """A report body's `answers` (absent or null: none) as the domain takes them."""
    return {
        qid: value.model_dump() if isinstance(value, AmountIn) else value
        for qid, value in (answers or {}).items()
    }


class QuestionIn(Shape):
    id: str | None = Field(default=None, max_length=64, description="kept to edit a question")
    type: KindName
    required: bool = False
    category: str | None = None
    label: WordingOut
    help: WordingOut | None = None
    choices: list[WordingOut] = Field(default_factory=list, max_length=30)


class QuestionnaireIn(Shape):
    """The admin API's body: the channel's whole new list; it becomes the next version."""

    questions: list[QuestionIn] = Field(max_length=50)
