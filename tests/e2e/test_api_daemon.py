"""The local API of a real `bms daemon` process, driven with ApiClient.

The virtual-room site: ``room1/temp`` (read-only) and ``room1/sp``
(writable, guard 15..28, relinquish default 21).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bms.client import ApiClient
from bms.errors import NotAuthenticated, NotFound, WriteRefused
from bms.messages import PointState, PriorityArrayView, ValueChanged
from tests.conftest import wait_until
from tests.e2e.daemon import virtual_site


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A daemon running the virtual-room site, for the whole module."""
    with virtual_site(tmp_path_factory) as path:
        yield path


@pytest.fixture
def api(data: Path) -> Iterator[ApiClient]:
    with ApiClient.from_data_dir(data) as client:
        yield client


@pytest.fixture
def setpoint(api: ApiClient) -> Iterator[str]:
    """room1/sp, released at every level a test may have used."""
    yield "room1/sp"
    for priority in (5, 8):
        api.relinquish("room1/sp", priority=priority)


def test_health_lists_the_components(api: ApiClient) -> None:
    report = api.health()
    states = {c.component: c.state for c in report.components}
    assert {"api", "stream", "points", "nodes"} <= set(states)
    assert states["api"] == states["points"] == "Healthy"


def test_points_list_and_read(api: ApiClient) -> None:
    points = {p.point_id: p for p in api.points()}
    assert {"room1/temp", "room1/sp"} <= set(points)
    assert points["room1/sp"].writable and not points["room1/temp"].writable
    state = api.point("room1/sp")
    assert isinstance(state, PointState)
    assert (state.name, state.unit, state.value) == ("Room Temp Setpoint", "°C", 21.0)
    with pytest.raises(NotFound, match="room9/x"):
        api.point("room9/x")


def test_write_with_priority_and_duration_then_relinquish(api: ApiClient, setpoint: str) -> None:
    before = time.time()
    accepted = api.write(setpoint, 24.0, priority=8, duration="15m")
    assert (accepted.effective, accepted.active_priority, accepted.priority) == (24.0, 8, 8)
    assert accepted.expires_at is not None and before + 900 <= accepted.expires_at <= time.time() + 900
    view = api.priority(setpoint)
    assert isinstance(view, PriorityArrayView)
    assert view.levels[7] == 24.0 and view.expires[7] == accepted.expires_at
    assert (view.effective, view.active_priority, view.relinquish_default) == (24.0, 8, 21.0)
    higher = api.write(setpoint, 26.0, priority=5)
    assert (higher.effective, higher.active_priority) == (26.0, 5)
    assert api.relinquish(setpoint, priority=5).effective == 24.0
    released = api.relinquish(setpoint, priority=8)
    assert (released.effective, released.active_priority) == (21.0, None)
    wait_until(lambda: api.point(setpoint).value == 21.0, 5, "the setpoint back at its relinquish default")


def test_write_refused_by_the_guard_is_409_naming_the_guard(api: ApiClient, setpoint: str) -> None:
    with pytest.raises(WriteRefused) as refused:
        api.write(setpoint, 35.0)
    message = str(refused.value)
    assert message.startswith("write to room1/sp refused")
    assert "guard" in message and ("max" in message or "28" in message)
    assert api.point(setpoint).value == 21.0


def test_no_token_or_a_wrong_one_is_401(data: Path, api: ApiClient) -> None:
    r = httpx.get(f"{api.base_url}/api/health")
    assert r.status_code == 401
    assert r.json() == {"error": "missing bearer token: send 'Authorization: Bearer <token>'"}
    with ApiClient(api.base_url, "not-the-token") as stranger, \
            pytest.raises(NotAuthenticated, match="refused the credentials: unknown token"):
        stranger.points()
    assert httpx.get(f"{api.base_url}/api/openapi.json").status_code == 200


def test_stream_receives_the_change_after_a_write(api: ApiClient, setpoint: str) -> None:
    with api.stream(points=[setpoint]) as events:
        api.write(setpoint, 22.5)
        deadline = time.monotonic() + 10
        for event in events:
            if isinstance(event, ValueChanged) and any(
                v.point_id == setpoint and v.value == 22.5 for v in event.values
            ):
                break
            assert time.monotonic() < deadline, "the change did not arrive on the stream"
        assert all(v.point_id == setpoint for v in event.values)
