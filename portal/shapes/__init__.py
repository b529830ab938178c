"""JSON shapes, each defined once as a pydantic model: validation and OpenAPI both come from it.

A route validates a body with ``parse(Model, body)`` (422 with per-field codes on any mismatch)
and describes it in the OpenAPI document with ``schema(Model)``. Shapes live in this package,
one module per area; the domain (cases/) never sees them, only the values they carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from cases.errors import Invalid
from portal.i18n import N_

Model = TypeVar("Model", bound=BaseModel)


class Shape(BaseModel):
    """Base of every request shape: unknown keys are ignored, values are not coerced."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


def parse(model: type[Model], body: Mapping[str, Any]) -> Model:
    """The body as ``model``, or Invalid naming each bad field (``required`` or ``invalid``)."""
    try:
        return model.model_validate(dict(body))
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "body"
            fields.setdefault(name, "required" if error["type"] == "missing" else "invalid")
        raise Invalid(N_("Please check the highlighted fields."), fields=fields) from None


def schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema, nested definitions inlined (the OpenAPI document has no $defs)."""
    raw = model.model_json_schema()
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
