"""Questions, their JSON form, and the checks an answer to each kind must pass.

A questionnaire version is a list of questions; each question has a stable id (kept across
edits, so an answer names its question), a kind, whether it is required, an optional category
it is limited to, wording and help in English and Chinese, and for choice questions the choices
(ids local to the version: an answer is always read with the version it was filed under).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cached_property
from typing import Any

from babel.numbers import list_currencies

from cases.errors import Invalid


class Kind(StrEnum):
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    DATE = "date"
    AMOUNT = "amount"
    YES_NO = "yes_no"


CHOICE_KINDS = frozenset({Kind.SINGLE_CHOICE, Kind.MULTIPLE_CHOICE})
TEXT_LIMITS = {Kind.SHORT_TEXT: 200, Kind.LONG_TEXT: 5_000}
LABEL_MAX = 300
HELP_MAX = 1_000
CHOICE_MAX = 200
MAX_CHOICES = 30
MAX_QUESTIONS = 50
# Up to 15 digits before the point and 4 after; thousands separators and spaces are ignored.
AMOUNT = re.compile(r"^\d{1,15}(\.\d{1,4})?$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CURRENCIES = frozenset(list_currencies())
# Error codes an answer can get, per field "answers.<question id>".
ANSWER_CODES = (
    "required",
    "too_long",
    "invalid",
    "invalid_choice",
    "invalid_date",
    "invalid_amount",
    "invalid_currency",
    "unknown_question",
)


@dataclass(frozen=True)
class Wording:
    en: str
    zh: str

    def get(self, locale: str) -> str:
        return self.zh if locale.startswith("zh") else self.en

    def as_json(self) -> dict[str, str]:
        return {"en": self.en, "zh_CN": self.zh}

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> Wording:
        raw = raw or {}
        return cls(str(raw.get("en", "")), str(raw.get("zh_CN", "")))


@dataclass(frozen=True)
class Choice:
    id: str
    label: Wording

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label.as_json()}


@dataclass(frozen=True)
class Question:
    id: str
    kind: Kind
    label: Wording
    help: Wording = Wording("", "")
    required: bool = False
    category_id: str | None = None
    choices: tuple[Choice, ...] = ()

    def applies_to(self, category_id: str) -> bool:
        return self.category_id is None or self.category_id == category_id

    def choice(self, choice_id: str) -> Choice | None:
        return next((c for c in self.choices if c.id == choice_id), None)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": str(self.kind),
            "required": self.required,
            "category": self.category_id,
            "label": self.label.as_json(),
            "help": self.help.as_json(),
            "choices": [c.as_json() for c in self.choices],
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Question:
        return cls(
            id=str(raw["id"]),
            kind=Kind(raw["type"]),
            label=Wording.of(raw.get("label")),
            help=Wording.of(raw.get("help")),
            required=bool(raw.get("required", False)),
            category_id=raw.get("category"),
            choices=tuple(
                Choice(str(c["id"]), Wording.of(c.get("label"))) for c in raw.get("choices", [])
            ),
        )


@dataclass(frozen=True)
class Questionnaire:
    """One version of a channel's questions; version_id None when the channel has none."""

    version_id: str | None
    number: int
    questions: tuple[Question, ...] = ()

    @property
    def text(self) -> str:
        return dump(self.questions)

    @cached_property
    def digest(self) -> str:
        # Kept on the (frozen) object: a kept questionnaire is digested once per process.
        return digest(self.text)

    def for_category(self, category_id: str) -> list[Question]:
        return [q for q in self.questions if q.applies_to(category_id)]

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


def dump(questions: Sequence[Question]) -> str:
    """The stored text of a version: canonical, so its digest is stable."""
    return json.dumps(
        [q.as_json() for q in questions], ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )


def load(text: str) -> tuple[Question, ...]:
    return tuple(Question.from_json(item) for item in json.loads(text))


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- answers ---------------------------------------------------------------------------------


@dataclass
class Checked:
    """Answers accepted for storage (empty ones left out) and a code per refused answer."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def check_answers(
    questionnaire: Questionnaire, category_id: str, raw: Mapping[str, Any]
) -> dict[str, Any]:
    """The answers to the questions of this category, normalised; Invalid names each bad one.

    Answers to questions limited to another category are dropped (the form without JavaScript
    shows every category's questions); an id the version does not have is refused.
    """
    checked = Checked()
    for question_id in raw:
        if questionnaire.question(question_id) is None:
            checked.errors[field_name(question_id)] = "unknown_question"
    for question in questionnaire.for_category(category_id):
        _check(question, raw.get(question.id), checked)
    if checked.errors:
        raise Invalid("Please check the highlighted fields.", fields=checked.errors)
    return checked.values


def field_name(question_id: str) -> str:
    """The name of an answer's field, in forms and in a 422's `fields`."""
    return f"answers.{question_id}"


def _check(question: Question, value: Any, checked: Checked) -> None:
    name = field_name(question.id)
    if _empty(value):
        if question.required:
            checked.errors[name] = "required"
        return
    try:
        checked.values[question.id] = _normalise(question, value)
    except _Refused as refused:
        checked.errors[name] = refused.code


class _Refused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list):
        return not any(isinstance(v, str) and v.strip() for v in value) and all(
            isinstance(v, str) for v in value
        )
    if isinstance(value, Mapping):
        amount = value.get("amount")
        return (isinstance(amount, str) and not amount.strip()) or amount is None
    return False


def _normalise(question: Question, value: Any) -> Any:
    kind = question.kind
    if kind in TEXT_LIMITS:
        return _text(value, TEXT_LIMITS[kind])
    if kind is Kind.SINGLE_CHOICE:
        return _choice(question, value)
    if kind is Kind.MULTIPLE_CHOICE:
        values = value if isinstance(value, list) else [value]
        picked = {_choice(question, v) for v in values if not (isinstance(v, str) and not v)}
        return [c.id for c in question.choices if c.id in picked]
    if kind is Kind.DATE:
        return _date(value)
    if kind is Kind.AMOUNT:
        return _amount(value)
    return _yes_no(value)


def _text(value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise _Refused("invalid")
    if len(value) > limit:
        raise _Refused("too_long")
    return value.strip()


def _choice(question: Question, value: Any) -> str:
    if not isinstance(value, str) or question.choice(value) is None:
        raise _Refused("invalid_choice")
    return value


def _date(value: Any) -> str:
    if not isinstance(value, str) or not ISO_DATE.match(value.strip()):
        raise _Refused("invalid_date")
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise _Refused("invalid_date") from None


def _amount(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise _Refused("invalid_amount")
    amount, currency = value.get("amount"), value.get("currency")
    if not isinstance(amount, str):
        raise _Refused("invalid_amount")
    plain = amount.replace(",", "").replace(" ", "").strip()
    if not AMOUNT.match(plain):
        raise _Refused("invalid_amount")
    try:
        number = Decimal(plain)
    except InvalidOperation:
        raise _Refused("invalid_amount") from None
    if not isinstance(currency, str) or currency.strip().upper() not in CURRENCIES:
        raise _Refused("invalid_currency")
    return {"amount": str(number), "currency": currency.strip().upper()}


def _yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("yes", "no"):
        return bool(value == "yes")
    raise _Refused("invalid")
