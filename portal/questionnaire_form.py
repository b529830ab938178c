"""The report form's extra questions: which to show, how their fields are named and read back.

Without JavaScript the form cannot change with the category chosen, so it shows the channel's
questions for every category, the general ones first and then one group per category with a
heading; the domain keeps only the answers to the chosen category's questions
(cases/questionnaires/questions.py, `check_answers`). Each answer is one field
``answers.<question id>`` (a checkbox group repeats it; an amount is ``….amount`` and
``….currency``), so the typed answers come back with every other field after a refusal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from cases.org.models import Channel
from cases.questionnaires.questions import Question
from cases.questionnaires.service import QuestionnaireService
from portal.i18n import N_

PREFIX = "answers."
# Offered in the form's currency list; the API takes any ISO 4217 code.
FORM_CURRENCIES = ("CNY", "HKD", "TWD", "USD", "EUR", "GBP", "JPY", "SGD")
ANSWER_MESSAGES = {
    "invalid_choice": N_("Choose one of the options given."),
    "invalid_date": N_("Enter a date as year-month-day, for example 2026-03-31."),
    "invalid_amount": N_("Enter an amount in figures, for example 120000 or 120000.50."),
    "invalid_currency": N_("Choose a currency from the list."),
    "unknown_question": N_("This question is not asked here."),
}


@dataclass
class CategoryQuestions:
    name: str
    questions: list[Question]


@dataclass
class FormQuestions:
    """The channel's current questions as the form shows them."""

    general: list[Question] = field(default_factory=list)
    by_category: list[CategoryQuestions] = field(default_factory=list)
    currencies: tuple[str, ...] = FORM_CURRENCIES

    @property
    def any(self) -> bool:
        return bool(self.general or self.by_category)


def form_questions(db: Session, channel: Channel | None, locale: str) -> FormQuestions:
    if channel is None:
        return FormQuestions()
    questions = QuestionnaireService(db).current(channel.id).questions
    shown = FormQuestions(general=[q for q in questions if q.category_id is None])
    for category in channel.categories:
        mine = [q for q in questions if q.category_id == category.id]
        if category.active and mine:
            shown.by_category.append(CategoryQuestions(category.name(locale), mine))
    return shown


def answers_from_fields(fields: Iterable[tuple[str, list[str]]]) -> dict[str, Any]:
    """The form's ``answers.*`` fields as the domain takes answers: a string, a list (several
    values of one name) or an amount's ``{"amount", "currency"}``."""
    answers: dict[str, Any] = {}
    for name, values in fields:
        if not name.startswith(PREFIX):
            continue
        question_id, _, part = name.removeprefix(PREFIX).partition(".")
        if part in {"amount", "currency"}:
            amount = answers.get(question_id)
            if not isinstance(amount, dict):
                amount = answers[question_id] = {}
            amount[part] = values[0] if values else ""
        elif not part:
            answers[question_id] = values[0] if len(values) == 1 else list(values)
    return answers
