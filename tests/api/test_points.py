"""Points: list, read, write with priority and duration, guard refusal, relinquish, priority array."""

from __future__ import annotations

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from bms.messages import PointState, PriorityArrayView, WriteAccepted
from tests.api.fake import NOW, FakeSite

Client = TestClient[Litestar]


def test_list_points_decodes_into_point_states(client: Client) -> None:
    r = client.get("/api/points")
    assert r.status_code == 200
    states = msgspec.json.decode(r.content, type=list[PointState])
    assert [s.point_id for s in states] == ["room1/temp", "room1/sp"]


@pytest.mark.parametrize(("query", "expected"), [
    ("tag=sp", ["room1/sp"]),
    ("tag=temp&tag=sensor", ["room1/temp"]),
    ("pattern=room1/s*", ["room1/sp"]),
    ("under=room1-eq", ["room1/temp", "room1/sp"]),
    ("tag=nothing", []),
])
def test_list_points_filters(client: Client, query: str, expected: list[str]) -> None:
    r = client.get(f"/api/points?{query}")
    assert r.status_code == 200
    assert [p["point_id"] for p in r.json()] == expected


def test_read_point(client: Client) -> None:
    r = client.get("/api/points/room1/temp")
    assert r.status_code == 200
    state = msgspec.json.decode(r.content, type=PointState)
    assert (state.point_id, state.value, state.unit, state.writable) == ("room1/temp", 21.5, "°C", False)


def test_unknown_point_is_404_with_one_line(client: Client) -> None:
    r = client.get("/api/points/room9/nope")
    assert r.status_code == 404
    assert r.json() == {"error": "unknown point 'room9/nope'"}


def test_write_with_priority_and_duration(client: Client, site: FakeSite) -> None:
    r = client.post("/api/points/room1/sp/write", json={"value": 24.5, "priority": 5, "duration": 900})
    assert r.status_code == 200
    accepted = msgspec.json.decode(r.content, type=WriteAccepted)
    assert accepted == WriteAccepted(point_id="room1/sp", effective=24.5, active_priority=5, priority=5,
                                     expires_at=NOW + 900)
    assert site.point_table["room1/sp"].users[4] == "api"
    view = msgspec.json.decode(client.get("/api/points/room1/sp/priority").content, type=PriorityArrayView)
    assert view.levels[4] == 24.5 and view.expires[4] == NOW + 900
    assert (view.effective, view.active_priority, view.relinquish_default) == (24.5, 5, 21.0)


def test_write_defaults_to_priority_8_without_expiry(client: Client) -> None:
    r = client.post("/api/points/room1/sp/write", json={"value": 22})
    assert r.status_code == 200
    assert r.json()["priority"] == 8 and r.json()["expires_at"] is None


def test_write_passes_its_wait_and_bounds_it(client: Client, site: FakeSite) -> None:
    assert client.post("/api/points/room1/sp/write", json={"value": 22, "wait": 2.5}).status_code == 200
    assert site.waits[-1] == 2.5
    r = client.post("/api/points/room1/sp/write", json={"value": 22, "wait": 61})
    assert r.status_code == 400 and "wait" in r.json()["error"]
    assert site.waits[-1] == 2.5  # refused before reaching the point


def test_write_refused_by_guard_is_409_naming_the_guard(client: Client) -> None:
    r = client.post("/api/points/room1/sp/write", json={"value": 35})
    assert r.status_code == 409
    assert r.json() == {"error": "write to room1/sp refused: 35 is above the maximum 28.0 (guard max)"}


def test_write_to_read_only_point_is_409(client: Client) -> None:
    r = client.post("/api/points/room1/temp/write", json={"value": 20})
    assert r.status_code == 409
    assert "not writable" in r.json()["error"]


def test_relinquish_returns_to_the_next_level_then_the_default(client: Client) -> None:
    client.post("/api/points/room1/sp/write", json={"value": 23, "priority": 8})
    client.post("/api/points/room1/sp/write", json={"value": 26, "priority": 3})
    r = client.post("/api/points/room1/sp/relinquish", json={"priority": 3})
    assert r.status_code == 200
    assert (r.json()["effective"], r.json()["active_priority"]) == (23, 8)
    r = client.post("/api/points/room1/sp/relinquish")  # no body: priority 8
    assert r.status_code == 200
    assert (r.json()["effective"], r.json()["active_priority"]) == (21.0, None)


def test_priority_array_has_16_levels(client: Client) -> None:
    r = client.get("/api/points/room1/sp/priority")
    assert r.status_code == 200
    view = msgspec.json.decode(r.content, type=PriorityArrayView)
    assert len(view.levels) == len(view.expires) == len(view.users) == 16


def test_points_service_down_is_503_naming_it(client: Client, site: FakeSite) -> None:
    site.down.add("points")
    for r in (client.get("/api/points"), client.get("/api/points/room1/sp"),
              client.post("/api/points/room1/sp/write", json={"value": 22})):
        assert r.status_code == 503
        assert r.json() == {"error": "the points service is not running"}
