"""The OpenAPI 3.1 document of /api/v1, generated from the route table and a registry.

Each JSON endpoint declares itself with ``@api_operation(...)`` next to its code;
``build_document`` walks the routes under /api/v1 and describes each one it
finds. An endpoint without a declaration still appears, without an operationId,
so the test that demands one fails until it is added (see docs/api.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal, TypeVar

from pydantic import BaseModel
from starlette.convertors import Convertor, FloatConvertor, IntegerConvertor
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route

from portal.shapes import ErrorOut, schema

API_PREFIX = "/api/v1"
Schema = Mapping[str, Any]
# A shape (portal/shapes) or, for what no model describes (a file download), a schema.
Described = type[BaseModel] | Schema
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

ERROR_SCHEMA: Schema = schema(ErrorOut, "serialization")


@dataclass(frozen=True)
class Operation:
    """What the document says about one method of one endpoint."""

    operation_id: str
    summary: str
    request: Schema | None = None
    request_media_type: str = "application/json"
    responses: Mapping[int, Schema | None] = field(default_factory=lambda: {200: None})
    errors: tuple[int, ...] = ()
    bearer: bool = False
    tags: tuple[str, ...] = ()
    response_media_type: str = "application/json"


_REGISTRY: dict[tuple[Callable[..., Any], str | None], Operation] = {}


def api_operation(
    operation_id: str,
    summary: str,
    *,
    method: str | None = None,
    request: Described | None = None,
    request_media_type: str = "application/json",
    responses: Mapping[int, Described | None] | None = None,
    errors: Sequence[int] = (),
    bearer: bool = False,
    tags: Sequence[str] = (),
    response_media_type: str = "application/json",
) -> Callable[[Endpoint], Endpoint]:
    """Declares an endpoint in the OpenAPI document; give ``method`` when it serves several.

    ``request`` and each response are a shape (a pydantic model, described by
    ``portal.shapes.schema``) or a JSON Schema mapping. ``response_media_type`` is the content
    type of the success answers (errors are JSON).
    """
    answers = responses if responses is not None else {200: None}
    operation = Operation(
        operation_id,
        summary,
        _described(request, "validation"),
        request_media_type,
        {status: _described(shape, "serialization") for status, shape in answers.items()},
        tuple(errors),
        bearer,
        tuple(tags),
        response_media_type,
    )

    def register(endpoint: Endpoint) -> Endpoint:
        _REGISTRY[(endpoint, method.upper() if method else None)] = operation
        return endpoint

    return register


def _described(
    shape: Described | None, mode: Literal["validation", "serialization"]
) -> Schema | None:
    if isinstance(shape, type) and issubclass(shape, BaseModel):
        return schema(shape, mode)
    return shape


def operation_for(endpoint: Callable[..., Any], method: str) -> Operation | None:
    """The declaration of one method of an endpoint, or None."""
    return _REGISTRY.get((endpoint, method)) or _REGISTRY.get((endpoint, None))


def api_routes(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, Route]]:
    """Every (path template, route) under /api/v1, Mount children included."""
    for route in routes:
        if isinstance(route, Mount):
            # A Mount's path_format ends in "/{path}", the part its children match.
            yield from api_routes(route.routes, prefix + route.path_format.removesuffix("/{path}"))
        elif isinstance(route, Route):
            path = prefix + route.path_format
            if path.startswith(API_PREFIX):
                yield path, route


def build_document(routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document for the given route table."""
    paths: dict[str, dict[str, Any]] = {}
    for path, route in api_routes(routes):
        for method in sorted((route.methods or set()) - {"HEAD"}):
            item = paths.setdefault(path, {})
            item[method.lower()] = _describe(route, method)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Speak Up portal API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": {"Error": dict(ERROR_SCHEMA)},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _describe(route: Route, method: str) -> dict[str, Any]:
    described: dict[str, Any] = {"responses": {}}
    parameters = [
        _path_parameter(name, convertor) for name, convertor in route.param_convertors.items()
    ]
    if parameters:
        described["parameters"] = parameters
    operation = operation_for(route.endpoint, method)
    if operation is None:
        return described
    described.update(operationId=operation.operation_id, summary=operation.summary)
    if operation.tags:
        described["tags"] = list(operation.tags)
    if operation.bearer:
        described["security"] = [{"bearer": []}]
    if operation.request is not None:
        content = {operation.request_media_type: {"schema": dict(operation.request)}}
        described["requestBody"] = {"required": True, "content": content}
    described["responses"] = _responses(operation)
    return described


def _responses(operation: Operation) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for status, described in operation.responses.items():
        answer: dict[str, Any] = {"description": HTTPStatus(status).phrase}
        if described is not None:
            answer["content"] = {operation.response_media_type: {"schema": dict(described)}}
        answers[str(status)] = answer
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    # An operation with a body refuses every other content type (portal.errors.read_json).
    implied = (415,) if operation.request is not None else ()
    for status in sorted({*operation.errors, *implied}):
        answers[str(status)] = {"description": HTTPStatus(status).phrase, "content": error}
    return answers


def _path_parameter(name: str, convertor: Convertor[Any]) -> dict[str, Any]:
    kind = "string"
    if isinstance(convertor, IntegerConvertor):
        kind = "integer"
    elif isinstance(convertor, FloatConvertor):
        kind = "number"
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}}


@api_operation(
    "getOpenApiDocument",
    "This document: the OpenAPI 3.1 description of the JSON API",
    responses={200: {"type": "object"}},
    tags=("meta",),
)
async def openapi_document(request: Request) -> JSONResponse:
    """Serves the document built from the running app's routes."""
    return JSONResponse(build_document(request.app.routes))
