"""Health, log level, and the token on every route but the OpenAPI document."""

from __future__ import annotations

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from bms.api import HealthReport
from tests.api.fake import FakeSite

Client = TestClient[Litestar]

ROUTES = [
    ("GET", "/api/health"), ("GET", "/api/points"), ("GET", "/api/points/room1/sp"),
    ("POST", "/api/points/room1/sp/write"), ("POST", "/api/points/room1/sp/relinquish"),
    ("GET", "/api/points/room1/sp/priority"), ("GET", "/api/nodes"), ("GET", "/api/nodes/tree"),
    ("GET", "/api/nodes/room1"), ("GET", "/api/history/room1/temp"), ("GET", "/api/history/room1/temp/csv"),
    ("GET", "/api/devices"), ("GET", "/api/devices/room1"), ("POST", "/api/devices/discover"),
    ("POST", "/api/devices/room1/accept"), ("POST", "/api/devices/room1/ignore"), ("GET", "/api/stream"),
    ("POST", "/api/log-level"),
]


def test_health(client: Client, site: FakeSite) -> None:
    report = msgspec.json.decode(client.get("/api/health").content, type=HealthReport)
    assert report.status == "Healthy"
    assert [c.component for c in report.components] == ["devices", "nodes", "points"]
    site.down.add("nodes")
    report = msgspec.json.decode(client.get("/api/health").content, type=HealthReport)
    assert report.status == "Degraded"
    assert {c.component: c.state for c in report.components}["nodes"] == "Down"


def test_log_level(client: Client, site: FakeSite) -> None:
    r = client.post("/api/log-level", json={"level": "debug"})
    assert (r.status_code, r.json(), site.log_level) == (200, {"level": "debug"}, "debug")
    r = client.post("/api/log-level", json={"level": "loud"})
    assert (r.status_code, r.json()) == (400, {"error": "$.level: Invalid enum value 'loud'"})


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize(("header", "error"), [
    (None, "missing bearer token: send 'Authorization: Bearer <token>'"),
    ("Bearer wrong-token", "invalid bearer token"),
    ("Basic dGVzdDp0ZXN0", "invalid bearer token"),
    ("Bearer", "invalid bearer token"),
])
def test_every_route_refuses_a_missing_or_wrong_token(
    app: Litestar, site: FakeSite, method: str, path: str, header: str | None, error: str
) -> None:
    with TestClient(app) as anonymous:
        headers = {"Authorization": header} if header else {}
        r = anonymous.request(method, path, headers=headers, json={"value": 22})
    assert (r.status_code, r.json()) == (401, {"error": error})
    assert site.point_table["room1/sp"].active() is None  # nothing was written


def test_openapi_document_needs_no_token(app: Litestar) -> None:
    with TestClient(app) as anonymous:
        r = anonymous.get("/api/openapi.json")
    assert r.status_code == 200
    assert r.json()["openapi"].startswith("3.")
