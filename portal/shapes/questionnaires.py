"""JSON shapes of questionnaires: questions as channels list them, answers in a report body,
and the admin API's whole-list replacement."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from portal.shapes import Shape, parse

KindName = Literal[
    "short_text", "long_text", "single_choice", "multiple_choice", "date", "amount", "yes_no"
]


class WordingOut(Shape):
    en: str
    zh_CN: str


class ChoiceOut(Shape):
    id: str
    label: WordingOut


class QuestionOut(Shape):
    id: str
    type: KindName
    required: bool
    category: str | None = Field(description="the category it is limited to; null: every one")
    label: WordingOut
    help: WordingOut
    choices: list[ChoiceOut]


class QuestionnaireOut(Shape):
    version: int = Field(description="0 while the channel has no questions")
    questions: list[QuestionOut]


class CategoryOut(Shape):
    id: str
    name: str


class ChannelOut(Shape):
    """`GET /api/v1/channels`: a channel, its categories and its current extra questions."""

    id: str
    name: str
    categories: list[CategoryOut]
    questions: list[QuestionOut]


class AmountIn(Shape):
    amount: str = Field(max_length=40, description="decimal figures, e.g. 120000.50")
    currency: str = Field(max_length=3, description="ISO 4217 code, e.g. CNY")


AnswerIn = str | bool | list[str] | AmountIn


class AnswersIn(Shape):
    """The `answers` of a report body, by question id: text, a date (YYYY-MM-DD) or a choice id
    as a string; several choice ids as a list; yes/no as true/false; an amount as an object."""

    answers: dict[str, AnswerIn] = Field(default_factory=dict, max_length=100)


def answers_from_json(body: dict[str, Any]) -> dict[str, Any]:
    """A report body's `answers` (absent or null: none) as the domain takes them."""
    raw = body.get("answers")
    parsed = parse(AnswersIn, {} if raw is None else {"answers": raw})
    return {
        qid: value.model_dump() if isinstance(value, AmountIn) else value
        for qid, value in parsed.answers.items()
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
