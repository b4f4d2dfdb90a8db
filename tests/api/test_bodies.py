"""Bad bodies and parameters: 400 naming the field, 413 over the limit, never a 500.

Hostile input too: bodies nested a thousand deep, numbers sent as strings.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog
from litestar import Litestar
from litestar.testing import TestClient

from bms.api._strict import MAX_DEPTH, nesting_depth
from tests.api.conftest import AUTH, MAX_BODY, TOKEN, site_app
from tests.api.fake import NOW, FakeSite

Client = TestClient[Litestar]
WRITE = "/api/points/room1/sp/write"


@pytest.mark.parametrize(("body", "error"), [
    (b'{"value": 22, "priority": "x"}', "$.priority: Expected int, got str"),
    (b'{"value": 22, "priority": 0}', "$.priority: Expected int >= 1"),
    (b'{"value": 22, "priority": 17}', "$.priority: Expected int <= 16"),
    (b'{"value": 22, "duration": -5}', "$.duration: Expected float > 0.0"),
    (b'{"value": [1, 2]}', "$.value: Expected bool | int | float | str | null, got array"),
    (b'{"priority": 8}', "$: Object missing required field value"),
    (b'{"value": 22, "priorty": 3}', "$: Object contains unknown field priorty"),
    (b'{"value": 22', "invalid JSON body: Input data was truncated"),
    (b'[]', "$: Expected object, got array"),
])
def test_malformed_write_body_is_400_naming_the_field(client: Client, body: bytes, error: str) -> None:
    r = client.post(WRITE, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json() == {"error": error}


def test_relinquish_priority_out_of_range_is_400(client: Client) -> None:
    r = client.post("/api/points/room1/sp/relinquish", json={"priority": 99})
    assert r.status_code == 400
    assert r.json() == {"error": "$.priority: Expected int <= 16"}


def test_body_over_the_limit_is_413(client: Client) -> None:
    padding = "x" * MAX_BODY
    r = client.post(WRITE, content=f'{{"value": "{padding}"}}'.encode(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json() == {"error": f"request body over the limit of {MAX_BODY} bytes"}


def test_bad_query_parameter_is_400_naming_it(client: Client) -> None:
    r = client.get("/api/history/room1/temp?limit=lots")
    assert r.status_code == 400
    assert r.json() == {"error": "query parameter 'limit': Expected int | null, got str"}


def test_unknown_endpoint_and_method_are_json(client: Client) -> None:
    r = client.get("/api/nowhere")
    assert (r.status_code, r.json()) == (404, {"error": "no such endpoint"})
    r = client.get("/api/points/a/b/c/d")
    assert (r.status_code, r.json()) == (404, {"error": "no such endpoint: GET /api/points/a/b/c/d"})
    r = client.delete("/api/health")
    assert r.status_code == 405
    assert r.json() == {"error": "DELETE is not allowed on /api/health (allowed: GET, OPTIONS)"}


# ------------------------------------------------------------- hostile input

ROOMY = 1_000_000  # bodies this large reach the decoder
DEEP = 1000
BODY_ROUTES = sorted(
    path.format(device="room1", key="sp", device_id="bacnet:1001")
    for path, ops in site_app(FakeSite(), TOKEN, ROOMY).openapi_schema.to_schema()["paths"].items()
    for op in ops.values() if "requestBody" in op
)
DEEP_BODIES = {
    "arrays": b'{"value": ' + b"[" * DEEP + b"]" * DEEP + b"}",
    "objects": b'{"value": ' + b'{"a": ' * DEEP + b"1" + b"}" * DEEP + b"}",
    "never closed": b"[" * DEEP,
}


@pytest.fixture
def roomy(site: FakeSite) -> Iterator[Client]:
    with TestClient(site_app(site, TOKEN, ROOMY)) as test_client:
        test_client.headers.update(AUTH)
        yield test_client


def test_every_route_with_a_body_is_covered() -> None:
    assert BODY_ROUTES == [
        "/api/devices/bacnet:1001/accept", "/api/devices/discover", "/api/log-level",
        "/api/points/room1/sp/relinquish", "/api/points/room1/sp/write",
    ]


@pytest.mark.parametrize("shape", DEEP_BODIES)
@pytest.mark.parametrize("route", BODY_ROUTES)
def test_a_body_nested_a_thousand_deep_is_400_on_every_route(roomy: Client, route: str, shape: str) -> None:
    with structlog.testing.capture_logs() as logs:
        r = roomy.post(route, content=DEEP_BODIES[shape], headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()) == (400, {"error": f"invalid JSON body: nested deeper than {MAX_DEPTH} levels"})
    assert logs == []  # a refusal, not a bug with a traceback


def test_the_depth_limit_is_a_limit_not_a_ban_on_nesting(roomy: Client) -> None:
    def nested(depth: int) -> bytes:  # the body's object is one level
        return b'{"value": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"

    r = roomy.post(WRITE, content=nested(MAX_DEPTH), headers={"Content-Type": "application/json"})
    assert r.json() == {"error": "$.value: Expected bool | int | float | str | null, got array"}
    r = roomy.post(WRITE, content=nested(MAX_DEPTH + 1), headers={"Content-Type": "application/json"})
    assert r.json() == {"error": f"invalid JSON body: nested deeper than {MAX_DEPTH} levels"}
    r = roomy.post(WRITE, json={"value": "[[[[" * 100})  # brackets inside a string are text
    assert r.status_code == 409  # the fake's guard: not a number


@pytest.mark.parametrize(("route", "body", "error"), [
    (WRITE, {"value": 22, "priority": "8"}, "$.priority: Expected int, got str"),
    (WRITE, {"value": 22, "priority": 8.0}, "$.priority: Expected int, got float"),
    (WRITE, {"value": 22, "wait": "1"}, "$.wait: Expected float, got str"),
    (WRITE, {"value": 22, "duration": "60"}, "$.duration: Expected float | null, got str"),
    ("/api/points/room1/sp/relinquish", {"priority": "8"}, "$.priority: Expected int, got str"),
    ("/api/devices/discover", {"low": "1000"}, "$.low: Expected int | null, got str"),
    ("/api/devices/discover", {"timeout": "3"}, "$.timeout: Expected float, got str"),
])
def test_a_number_sent_as_a_string_is_400_naming_the_field(client: Client, site: FakeSite, route: str,
                                                          body: dict[str, object], error: str) -> None:
    r = client.post(route, json=body)
    assert (r.status_code, r.json()) == (400, {"error": error})
    assert site.point_table["room1/sp"].active() is None  # nothing was commanded


def test_an_integer_is_still_a_float(client: Client) -> None:
    r = client.post(WRITE, json={"value": 22, "priority": 8, "duration": 60, "wait": 0})
    assert r.status_code == 200 and r.json()["expires_at"] is not None


@pytest.mark.parametrize(("query", "error"), [
    ("limit=5.0", "query parameter 'limit': Expected int | null, got float"),
    ("limit=1e3", "query parameter 'limit': Expected int | null, got float"),
    ("limit=true", "query parameter 'limit': Expected int | null, got bool"),
    ("limit=five", "query parameter 'limit': Expected int | null, got str"),
])
def test_a_query_number_must_be_exactly_its_type(client: Client, query: str, error: str) -> None:
    r = client.get(f"/api/history/room1/temp?{query}")
    assert (r.status_code, r.json()) == (400, {"error": error})


def test_a_query_integer_is_accepted_and_its_range_still_checked(client: Client) -> None:
    r = client.get(f"/api/history/room1/temp?start={NOW - 3600}&end={NOW}&limit=5")
    assert r.status_code == 200 and len(r.json()["samples"]) == 5
    r = client.get("/api/history/room1/temp?limit=0")
    assert (r.status_code, r.json()) == (400, {"error": "query parameter 'limit': Expected int >= 1"})


def test_the_openapi_document_says_the_types_now_enforced(client: Client) -> None:
    doc = client.get("/api/openapi.json").json()
    assert doc["components"]["schemas"]["WriteBody"]["properties"]["priority"]["type"] == "integer"
    (limit,) = [p for p in doc["paths"]["/api/history/{device}/{key}"]["get"]["parameters"] if p["name"] == "limit"]
    assert limit["schema"] == {"oneOf": [{"type": "integer"}, {"type": "null"}], "minimum": 1, "maximum": 1_000_000,
                               "description": "at most this many samples"}


@pytest.mark.parametrize(("body", "depth"), [
    (b"", 0), (b"22", 0), (b"{}", 1), (b'{"value": 1}', 1), (b'{"a": {"b": [{"c": []}]}}', 5), (b"[[],[[]],[]]", 3),
    (b'{"value": "[[[[{{"}', 1),  # brackets in a string are text
    (b'{"a": "x\\"[[[["}', 1),  # ... after an escaped quote too
    (b'{"a": "x\\\\", "b": [[1]]}', 3),  # an escaped backslash ends before the quote
    (b"[" * 40 + b"]" * 40, MAX_DEPTH + 1),  # counting stops past the limit
    (b"[" * 1000, 1000),  # never closed: a decoder would still go down there
])
def test_nesting_depth(body: bytes, depth: int) -> None:
    assert nesting_depth(body) == depth
