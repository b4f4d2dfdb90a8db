"""ApiClient against the real app served by uvicorn on loopback (over the fake site)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors.components.api import HttpServer
from bms.api import HistorySeries, NodeTree
from bms.client import ApiClient, CommandRefused
from bms.daemon import DaemonInfo, write_daemon_info
from bms.errors import (
    BmsError,
    ConfigError,
    Conflict,
    DaemonError,
    NotAuthenticated,
    NotFound,
    Unavailable,
    WriteRefused,
)
from bms.messages import PointState, PriorityArrayView, StatusChanged, ValueChanged, WriteAccepted
from tests.api.conftest import TOKEN, site_app
from tests.api.fake import NOW, FakeSite


@pytest.fixture
def served(site: FakeSite) -> Iterator[HttpServer]:
    site.hold_open = True
    server = HttpServer(site_app(site, TOKEN, 4096, keepalive=0.05, now=lambda: NOW), "127.0.0.1", 0)
    server.start()
    try:
        yield server
    finally:
        server.stop()
    assert not server.running


@pytest.fixture
def api(served: HttpServer) -> Iterator[ApiClient]:
    with ApiClient(served.url, TOKEN) as client:
        yield client


def test_reads_return_the_reply_structs(api: ApiClient) -> None:
    assert api.health().status == "Healthy"
    points = api.points(tags=["temp"], under="room1")
    assert all(isinstance(p, PointState) for p in points) and len(points) == 2
    assert api.points(pattern="*/sp")[0].point_id == "room1/sp"
    assert api.point("room1/temp").value == 21.5
    assert [n.id for n in api.nodes(node_type="Point", tags=["sensor"])] == ["room1/temp"]
    assert api.node("room1/temp").parent == "room1-eq"
    (tree,) = api.tree("room1")
    assert isinstance(tree, NodeTree) and tree.children[0].id == "room1-eq"
    assert api.devices(protocol="virtual")[0].device_id == "room1"
    assert api.device("room1").points == 2


def test_write_priority_relinquish(api: ApiClient) -> None:
    accepted = api.write("room1/sp", 24, priority=5, duration="15m")
    assert accepted == WriteAccepted(point_id="room1/sp", effective=24, active_priority=5, priority=5,
                                     expires_at=NOW + 900)
    view = api.priority("room1/sp")
    assert isinstance(view, PriorityArrayView) and view.levels[4] == 24
    assert api.relinquish("room1/sp", priority=5).active_priority is None


def test_refusals_become_the_matching_errors(api: ApiClient, site: FakeSite) -> None:
    with pytest.raises(CommandRefused) as refused:
        api.write("room1/sp", 99)
    assert isinstance(refused.value, WriteRefused)
    assert str(refused.value) == "write to room1/sp refused: 99 is above the maximum 28.0 (guard max)"
    with pytest.raises(NotFound, match="unknown point 'room9/x'"):
        api.point("room9/x")
    with pytest.raises(BmsError, match=r"\$.priority: Expected int <= 16"):
        api.write("room1/sp", 22, priority=17)
    with pytest.raises(ConfigError, match="invalid point id 'room1': expected device/key"):
        api.point("room1")
    site.down.add("points")
    with pytest.raises(Unavailable, match="the points service is not running"):
        api.points()


def test_history_and_csv(api: ApiClient) -> None:
    series = api.history("room1/temp", start="-10m", end="now", limit=3)
    assert isinstance(series, HistorySeries) and len(series.samples) == 3
    assert sum(b.count for b in api.history("room1/temp", start=NOW - 3600, end=NOW, rollup="1h").buckets) == 60
    assert api.history_csv("room1/temp", start="-2m").splitlines()[0] == "time,ts,value"


def test_discover_accept_ignore_and_log_level(api: ApiClient, site: FakeSite) -> None:
    (found,) = api.discover("bacnet", low=1000, high=1999, timeout=1)
    assert api.ignore(found.device_id).state == "Ignored"
    assert api.accept(found.device_id, profile="bacnet-generic").state == "Accepted"
    with pytest.raises(Conflict, match="is part of the site: it cannot be ignored"):
        api.ignore(found.device_id)
    api.set_log_level("debug")
    assert site.log_level == "debug"


def test_wrong_token_is_not_authenticated(served: HttpServer) -> None:
    with ApiClient(served.url, "nope") as client, pytest.raises(NotAuthenticated,
                                                                match="refused the credentials: invalid bearer token"):
        client.health()


def test_stream_is_live_when_it_returns(api: ApiClient, site: FakeSite) -> None:
    with api.stream(points=["room1/sp"]) as events:
        assert len(site.feeds) == 1
        api.write("room1/sp", 25)
        got = next(events)
        assert isinstance(got, ValueChanged) and [(v.point_id, v.value) for v in got.values] == [("room1/sp", 25)]
        assert isinstance(next(events), StatusChanged)
    assert events.closed


def test_stream_by_tags_and_its_end(api: ApiClient, site: FakeSite, served: HttpServer) -> None:
    events = api.stream(tags=["sensor"])
    api.write("room1/sp", 25)  # not a sensor: filtered out
    served.loop.call_soon_threadsafe(lambda: [f.close() for f in site.feeds])  # type: ignore[union-attr]
    assert list(events) == []  # the daemon ended the stream: iteration stops
    with pytest.raises(NotFound, match="no point carries the tags nothing"):
        api.stream(tags=["nothing"])


def test_from_data_dir(tmp_path: Path, served: HttpServer) -> None:
    with pytest.raises(DaemonError) as err:
        ApiClient.from_data_dir(tmp_path)
    assert str(err.value) == f"no bms daemon is running on {tmp_path}; start it with `bms daemon --data {tmp_path}`"
    write_daemon_info(tmp_path, DaemonInfo(pid=1, api_url=served.url, started=NOW, version="x"))
    (tmp_path / "api.token").write_text(TOKEN + "\n")
    with ApiClient.from_data_dir(tmp_path) as client:
        assert client.health().status == "Healthy"


def test_daemon_gone_is_the_no_daemon_error(tmp_path: Path) -> None:
    server = HttpServer(site_app(FakeSite(), TOKEN, 4096), "127.0.0.1", 0)
    server.start()
    url = server.url
    server.stop()
    write_daemon_info(tmp_path, DaemonInfo(pid=1, api_url=url, started=NOW, version="x"))
    (tmp_path / "api.token").write_text(TOKEN)
    with ApiClient.from_data_dir(tmp_path) as client, pytest.raises(DaemonError, match="no bms daemon is running on"):
        client.health()


def test_server_threads_end_with_stop(site: FakeSite) -> None:
    before = {t.ident for t in threading.enumerate()}
    server = HttpServer(site_app(site, TOKEN, 4096), "127.0.0.1", 0)
    server.start()
    with ApiClient(server.url, TOKEN) as client:
        client.health()
        stream = client.stream()
        server.stop(before_stop=lambda: [f.close() for f in site.feeds])
        assert list(stream) == []
    assert {t.ident for t in threading.enumerate()} <= before


def test_busy_port_is_a_clear_error(served: HttpServer) -> None:
    other = HttpServer(site_app(FakeSite(), TOKEN, 4096), "127.0.0.1", served.port)
    with pytest.raises(DaemonError, match=f"cannot listen on 127.0.0.1:{served.port}: Address already in use"):
        other.start()
