"""The OpenAPI document is built from the route table and each endpoint's declaration."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from portal.openapi import api_operation, build_document

NEW_THING = {"type": "object", "properties": {"name": {"type": "string"}}}


@api_operation(
    "createThing",
    "Create a thing",
    method="POST",
    request=NEW_THING,
    responses={201: NEW_THING},
    errors=(400, 422),
    bearer=True,
)
@api_operation("getThing", "Read a thing", method="GET", responses={200: NEW_THING})
async def thing(request: Request) -> Response:
    return Response()


async def undeclared(request: Request) -> Response:
    return Response()


def test_declared_endpoint_is_described_per_method() -> None:
    """Each method gets its operationId, body schema, answers, errors and bearer security."""
    routes = [Mount("/api/v1", routes=[Route("/things/{id:int}", thing, methods=["GET", "POST"])])]

    paths = build_document(routes)["paths"]

    post = paths["/api/v1/things/{id}"]["post"]
    assert post["operationId"] == "createThing"
    assert post["requestBody"]["content"]["application/json"]["schema"] == NEW_THING
    assert set(post["responses"]) == {"201", "400", "415", "422"}
    assert post["security"] == [{"bearer": []}]
    assert post["parameters"][0] == {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
    }
    assert paths["/api/v1/things/{id}"]["get"]["operationId"] == "getThing"
    assert "head" not in paths["/api/v1/things/{id}"]


def test_undeclared_endpoint_appears_without_operation_id() -> None:
    """A route nobody declared is still listed, so the completeness test can name it."""
    paths = build_document([Route("/api/v1/odd", undeclared)])["paths"]

    assert "operationId" not in paths["/api/v1/odd"]["get"]


def test_routes_outside_the_api_are_left_out() -> None:
    """Pages and other paths are not part of the API document."""
    paths = build_document([Route("/report", undeclared), Route("/api/v2/x", undeclared)])["paths"]

    assert paths == {}
