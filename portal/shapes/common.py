"""Field types and small shapes more than one area uses."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

from portal.shapes import Answer, Shape


def blank_if_null(value: Any) -> Any:
    return "" if value is None else value


def empty_if_null(value: Any) -> Any:
    return [] if value is None else value


# Text a client may leave out or send as null: both read as "" (the domain says if it is needed).
Text = Annotated[
    str,
    BeforeValidator(blank_if_null),
    WithJsonSchema({"type": ["string", "null"]}, mode="validation"),
]
# A list a client may send as null: read as empty.
Ids = Annotated[
    list[str],
    BeforeValidator(empty_if_null),
    WithJsonSchema({"type": ["array", "null"], "items": {"type": "string"}}, mode="validation"),
]


class Named(Answer):
    """Anything shown by id and name: a channel's category, a staff member."""

    id: str
    name: str


class Created(Answer):
    """The id of what was just made."""

    id: str


class Empty(Answer):
    """An answer with nothing to say beyond its status."""


class BodyIn(Shape):
    """A message or a note: its text (the domain decides if it is empty or too long)."""

    body: str = Field(description="the text")
