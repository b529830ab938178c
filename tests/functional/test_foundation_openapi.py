"""GET /api/v1/openapi.json describes every /api/v1 route of the app, each with an operationId."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from portal.openapi import api_routes


def test_every_api_route_is_in_the_document_with_an_operation_id(client: TestClient) -> None:
    """Each method of each /api/v1 route has an entry with a unique operationId."""
    document: dict[str, Any] = client.get("/api/v1/openapi.json").json()
    expected = {
        (path, method.lower())
        for path, route in api_routes(client.app.routes)  # type: ignore[attr-defined]
        for method in (route.methods or set()) - {"HEAD"}
    }

    described = {
        (path, method): operation.get("operationId")
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }

    assert document["openapi"].startswith("3.1")
    assert expected <= set(described)
    missing = sorted(key for key in expected if not described[key])
    assert missing == [], f"declare these with @api_operation: {missing}"
    ids = [operation_id for operation_id in described.values() if operation_id]
    assert len(ids) == len(set(ids))
