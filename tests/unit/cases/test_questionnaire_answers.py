"""Answers to a questionnaire's questions: what each kind accepts, normalises and refuses."""

from __future__ import annotations

from typing import Any

import pytest

from cases.errors import Invalid
from cases.questionnaires.questions import (
    Choice,
    Kind,
    Question,
    Questionnaire,
    Wording,
    check_answers,
    dump,
    load,
)

CHOICES = (Choice("1", Wording("Seen", "看到")), Choice("2", Wording("Heard", "听说")))
QUESTIONS = (
    Question("text", Kind.SHORT_TEXT, Wording("Customer?", "客户？"), required=True),
    Question("many", Kind.MULTIPLE_CHOICE, Wording("Which?", "哪些？"), choices=CHOICES),
    Question("value", Kind.AMOUNT, Wording("Value?", "金额？")),
    Question("ongoing", Kind.YES_NO, Wording("Ongoing?", "仍在继续？")),
    Question("gifts", Kind.DATE, Wording("When?", "何时？"), required=True, category_id="gifts"),
)
FORM = Questionnaire("v1", 1, QUESTIONS)


def test_form_strings_are_normalised_per_kind() -> None:
    """One checkbox is a list, figures lose separators, currency is upper-cased, yes is True."""
    raw = {
        "text": "  Acme  ",
        "many": "2",
        "value": {"amount": "120,000.50", "currency": "cny"},
        "ongoing": "yes",
    }

    values = check_answers(FORM, "kickbacks", raw)

    assert values == {
        "text": "Acme",
        "many": ["2"],
        "value": {"amount": "120000.50", "currency": "CNY"},
        "ongoing": True,
    }


def test_other_categories_questions_are_dropped_and_not_required() -> None:
    """A question limited to another category is neither required nor kept."""
    values = check_answers(FORM, "kickbacks", {"text": "Acme", "gifts": "not a date"})

    assert values == {"text": "Acme"}


def test_the_category_question_is_required_for_its_category() -> None:
    """In its own category a required question must be answered."""
    with pytest.raises(Invalid) as refused:
        check_answers(FORM, "gifts", {"text": "Acme"})

    assert refused.value.fields == {"answers.gifts": "required"}


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ({"value": {"amount": "", "currency": "CNY"}}, None),
        ({"value": {"amount": "1e5", "currency": "CNY"}}, "invalid_amount"),
        ({"value": {"amount": "-5", "currency": "CNY"}}, "invalid_amount"),
        ({"value": {"amount": "5", "currency": "ZZZ"}}, "invalid_currency"),
        ({"value": "5 CNY"}, "invalid_amount"),
        ({"many": ["1", 2]}, "invalid_choice"),
        ({"ongoing": "1"}, "invalid"),
    ],
)
def test_each_bad_answer_is_named(raw: dict[str, Any], code: str | None) -> None:
    """An empty amount is no answer; anything malformed is refused with its own code."""
    raw = {"text": "Acme", **raw}

    if code is None:
        assert "value" not in check_answers(FORM, "kickbacks", raw)
        return
    with pytest.raises(Invalid) as refused:
        check_answers(FORM, "kickbacks", raw)

    (name,) = raw.keys() - {"text"}
    assert refused.value.fields == {f"answers.{name}": code}


def test_stored_text_round_trips() -> None:
    """A version's stored text loads back to the same questions (so its digest is stable)."""
    assert load(dump(QUESTIONS)) == QUESTIONS
