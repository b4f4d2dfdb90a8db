"""The OpenAPI document: valid, fixed path, every route, bearer security, strict bodies."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from openapi_spec_validator import validate

ROUTES = {
    "/api/health": {"get"},
    "/api/log-level": {"post"},
    "/api/nodes": {"get"},
    "/api/nodes/tree": {"get"},
    "/api/nodes/{node_id}": {"get"},
    "/api/points": {"get"},
    "/api/points/{device}/{key}": {"get"},
    "/api/points/{device}/{key}/write": {"post"},
    "/api/points/{device}/{key}/relinquish": {"post"},
    "/api/points/{device}/{key}/priority": {"get"},
    "/api/history/{device}/{key}": {"get"},
    "/api/history/{device}/{key}/csv": {"get"},
    "/api/devices": {"get"},
    "/api/devices/{device_id}": {"get", "delete"},
    "/api/devices/discover": {"post"},
    "/api/devices/{device_id}/accept": {"post"},
    "/api/devices/{device_id}/ignore": {"post"},
    "/api/stream": {"get"},
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    from tests.api.conftest import site_app
    from tests.api.fake import FakeSite

    app: Litestar = site_app(FakeSite(), "t", 1000)
    with TestClient(app) as client:
        r = client.get("/api/openapi.json")
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def test_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)


def test_document_lists_every_route_and_only_those(document: dict[str, Any]) -> None:
    assert {path: set(ops) for path, ops in document["paths"].items()} == ROUTES


def test_every_operation_is_named_documented_and_says_its_errors(document: dict[str, Any]) -> None:
    ids = []
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            ids.append(op["operationId"])
            assert op.get("description"), f"{method} {path} has no description"
            assert {"400", "401"} <= set(op["responses"]), f"{method} {path}"
            for code, response in op["responses"].items():
                if int(code) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, f"{method} {path} {code}"
    assert len(ids) == len(set(ids))


def test_bearer_security_applies_to_all(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"] == {"bearer": {"type": "http", "scheme": "bearer"}}
    assert document["security"] == [{"bearer": []}]


def test_bodies_are_strict_and_constrained_as_msgspec_decodes_them(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    write = schemas["WriteBody"]
    assert write["additionalProperties"] is False and write["required"] == ["value"]
    assert write["properties"]["priority"] == {"type": "integer", "minimum": 1, "maximum": 16, "default": 8,
                                               "description": "1 highest .. 16 lowest"}
    assert {"type": "number", "exclusiveMinimum": 0, "maximum": 366 * 86400.0} in write["properties"]["duration"]["anyOf"]
    assert "oneOf" not in str(schemas["PointState"])  # 21.0 is a number and an integer: anyOf, not oneOf
    assert schemas["PointState"]["additionalProperties"] is False


def test_stream_is_documented_as_event_stream(document: dict[str, Any]) -> None:
    assert "text/event-stream" in document["paths"]["/api/stream"]["get"]["responses"]["200"]["content"]


def test_the_sites_messages_join_the_document_nodes_and_all() -> None:
    from bms import messages
    from bms.api import create_app
    from bms.components import MessageCatalog
    from tests.api.fake import FakeSite

    catalog = MessageCatalog(messages.all_message_types())
    app: Litestar = create_app(FakeSite(), "t", 1000, message_schemas=catalog.schemas())
    with TestClient(app) as client:
        document = client.get("/api/openapi.json").json()
    validate(document)
    schemas = document["components"]["schemas"]
    assert schemas["DeviceAccepted"]["properties"]["equip"] == {"$ref": "#/components/schemas/Node"}
    assert "node" in schemas["EntityCreated"]["properties"] and "Node" in schemas
