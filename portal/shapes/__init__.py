"""JSON shapes, each defined once as a pydantic model: validation and OpenAPI both come from it.

A route validates a body with ``parse(Model, body)`` (422 with per-field codes on any mismatch)
and answers with ``answer(Out(...))``, built from an ``Answer`` model; ``api_operation`` takes
the model classes themselves (``request=ReportIn, responses={201: Filed}``) and describes
them with ``schema``. Shapes live in this package, one module per area; the domain (cases/)
never sees them, only the values they carry, and builds no JSON of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import JSONResponse

from cases.errors import Invalid
from portal.i18n import N_

Model = TypeVar("Model", bound=BaseModel)


class Shape(BaseModel):
    """Base of every request shape: unknown keys are ignored, values are not coerced."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class Answer(BaseModel):
    """Base of every response shape: a key the model does not name is an error, not dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ErrorOut(Answer):
    """Every refusal: a stable code, plain words in the caller's language, per-field codes."""

    error: str = Field(description="stable machine-readable code")
    message: str = Field(description="plain words, in the caller's language")
    fields: dict[str, str] | None = Field(default=None, description="per-field messages (422 only)")


def parse(model: type[Model], body: Mapping[str, Any]) -> Model:
    """The body as ``model``, or Invalid naming each bad field (``required`` or ``invalid``).

    A top-level field that is absent is ``required``; anything wrong inside a field (a nested
    key missing, a wrong type) makes that field ``invalid``, unless a validator raised
    ``PydanticCustomError("code:<name>", …)``, which gives the field the code ``<name>``.
    """
    try:
        return model.model_validate(dict(body))
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "body"
            fields.setdefault(name, _field_code(error["type"], len(error["loc"])))
        raise Invalid(N_("Please check the highlighted fields."), fields=fields) from None


def _field_code(kind: str, depth: int) -> str:
    if kind.startswith("code:"):
        return kind.removeprefix("code:")
    return "required" if kind == "missing" and depth == 1 else "invalid"


def answer(value: BaseModel, status_code: int = 200) -> JSONResponse:
    """The JSON answer of a response model (dates as ISO 8601 text)."""
    return JSONResponse(value.model_dump(mode="json", by_alias=True), status_code=status_code)


def iso(value: date | datetime | None) -> str | None:
    """A date as ``2026-03-02``, a stored (naive UTC) time as ``2026-03-02T10:00:00Z``."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds") + "Z"
    return value.isoformat() if value else None


def schema(
    model: type[BaseModel], mode: Literal["validation", "serialization"] = "validation"
) -> dict[str, Any]:
    """The model's JSON Schema, nested definitions inlined (the OpenAPI document has no $defs).

    Requests are described as validated, answers as serialised (``mode="serialization"``).
    """
    raw = model.model_json_schema(mode=mode, by_alias=True)
    definitions: dict[str, Any] = raw.pop("$defs", {})
    return _inline(raw, definitions)  # type: ignore[no-any-return]


def _inline(node: Any, definitions: Mapping[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(definitions[ref.removeprefix("#/$defs/")], definitions)
        return {key: _inline(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    return node
