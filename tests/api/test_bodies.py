"""Bad bodies and parameters: 400 naming the field, 413 over the limit, never a 500."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.api.conftest import MAX_BODY

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
