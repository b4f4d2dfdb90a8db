"""The api and stream actors wired to a platform context: token, daemon.json,
asks to running (or absent, dead, silent) services, the live stream through
the hub, and a stop that leaves no thread behind."""

from __future__ import annotations

import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors import BmsActor, ChildSpec, Context, handles
from actors.components.api import ApiServer, StreamHub
from actors.components.audit import AuditWriter
from actors.components.auth import Authority
from bms.audit import AuditLog
from bms.auth import Directory, ensure_local_admin
from bms.client import ApiClient, CommandRefused
from bms.daemon import read_daemon_info
from bms.errors import NotFound, Unavailable, WriteRefused
from bms.history import HistoryWriter
from bms.messages import (
    GetPoint,
    ListPoints,
    PointState,
    PointValue,
    ValueChanged,
    WriteAccepted,
    WritePoint,
    WriteResult,
)
from tests.conftest import wait_until


class PointStore(BmsActor):
    """A realistic stand-in for the points actor: two points, a guard, ValueChanged on write."""

    def __init__(self, name: str, ctx: Context, release: threading.Event | None = None) -> None:
        super().__init__(name, ctx)
        self.release = release or threading.Event()

    def setup(self) -> None:
        self.values: dict[str, float] = {"room1/temp": 21.5, "room1/sp": 21.0}

    def _state(self, point_id: str) -> PointState:
        if point_id not in self.values:
            raise NotFound(f"unknown point {point_id!r}")
        return PointState(point_id=point_id, name=point_id, value=self.values[point_id], ts=self.clock.now(),
                          writable=point_id == "room1/sp")

    @handles(GetPoint)
    def get(self, msg: GetPoint) -> PointState:
        if msg.point_id == "slow/point":
            self.release.wait(10)
        return self._state(msg.point_id)

    @handles(ListPoints)
    def list(self, msg: ListPoints) -> list[PointState]:
        return [self._state(p) for p in self.values]

    @handles(WritePoint)
    def write(self, msg: WritePoint) -> WriteAccepted:
        self._state(msg.point_id)
        if not isinstance(msg.value, (int, float)) or not 15 <= msg.value <= 28:
            raise WriteRefused(msg.point_id, f"{msg.value} is outside 15..28", guard="range")
        self.values[msg.point_id] = float(msg.value)
        self.publish(ValueChanged(values=(PointValue(point_id=msg.point_id, value=float(msg.value),
                                                     ts=self.clock.now()),), source="points"))
        request = msg.request_id  # the "device": refuses 27, never answers 26, takes the rest
        if msg.value == 27:
            self.publish(WriteResult(msg.point_id, False, request, error="exception 3 (illegal data value)"))
        elif msg.value != 26:
            self.publish(WriteResult(msg.point_id, True, request, readback=float(msg.value)))
        return WriteAccepted(point_id=msg.point_id, effective=float(msg.value), active_priority=msg.priority,
                             priority=msg.priority, request_id=request)


@pytest.fixture
def api(ctx: Context, tmp_path: Path) -> Iterator[ApiClient]:
    sup = ctx.supervisor
    assert sup.start_child(ChildSpec("auth", Authority)) is not None
    assert sup.start_child(ChildSpec("audit", AuditWriter)) is not None
    assert sup.start_child(ChildSpec("stream", StreamHub)) is not None
    assert sup.start_child(ChildSpec("api", ApiServer, kwargs={
        "host": "127.0.0.1", "port": 0, "max_body_bytes": 4096, "data_dir": tmp_path, "ask_timeout": 0.5,
    })) is not None
    with ApiClient.from_data_dir(tmp_path) as client:
        yield client


def test_local_admin_token_file_is_private_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "api.token"
    directory = Directory(tmp_path / "users.db", lambda: 1000.0)
    token = ensure_local_admin(directory, tmp_path)
    assert len(token) >= 40 and path.read_text().strip() == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)
    assert ensure_local_admin(directory, tmp_path) == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert directory.authenticate(token).user == "admin"
    directory.close()


def test_writes_through_the_server_are_audited_as_the_local_admin(api: ApiClient, ctx: Context,
                                                                 tmp_path: Path) -> None:
    assert ctx.supervisor.start_child(ChildSpec("points", PointStore)) is not None
    api.write("room1/sp", 22.0)
    with pytest.raises(WriteRefused):
        api.write("room1/sp", 99.0)
    rows = AuditLog(tmp_path / "audit.db", readonly=True).rows()
    assert [(r.entry.user, r.entry.token, r.entry.action, r.entry.target, r.entry.outcome) for r in rows] == [
        ("admin", "local", "writePoint", "room1/sp", "done"),
        ("admin", "local", "writePoint", "room1/sp", "refused"),
    ]
    assert "outside 15..28" in rows[1].entry.detail


def test_daemon_json_and_health(api: ApiClient, ctx: Context, tmp_path: Path) -> None:
    info = read_daemon_info(tmp_path)
    assert info is not None and info.api_url == api.base_url and info.api_url.startswith("http://127.0.0.1:")
    report = api.health()
    assert {c.component: c.state for c in report.components} == {
        "api": "Healthy", "stream": "Healthy", "auth": "Healthy", "audit": "Healthy"}
    assert report.status == "Healthy"


def test_absent_dead_and_silent_services_are_503(api: ApiClient, ctx: Context) -> None:
    with pytest.raises(Unavailable, match="the points service is not running"):
        api.points()
    release = threading.Event()
    ref = ctx.supervisor.start_child(ChildSpec("points", PointStore, kwargs={"release": release}))
    assert ref is not None
    assert [p.point_id for p in api.points()] == ["room1/temp", "room1/sp"]
    with pytest.raises(NotFound, match="unknown point 'room9/x'"):
        api.point("room9/x")
    with pytest.raises(Unavailable, match=r"the points service did not answer within 0.5 s"):
        api.point("slow/point")
    release.set()
    ref.stop()
    with pytest.raises(Unavailable, match="the points service is not running"):
        api.point("room1/sp")


def test_write_refusal_and_the_live_stream(api: ApiClient, ctx: Context) -> None:
    assert ctx.supervisor.start_child(ChildSpec("points", PointStore)) is not None
    with api.stream(points=["room1/sp"]) as events:
        assert api.write("room1/sp", 23.5).effective == 23.5
        change = next(events)
        assert isinstance(change, ValueChanged)
        assert [(v.point_id, v.value) for v in change.values] == [("room1/sp", 23.5)]
        with pytest.raises(CommandRefused, match=r"write to room1/sp refused: 35 is outside 15..28 \(guard range\)"):
            api.write("room1/sp", 35)


def test_a_write_can_wait_for_the_devices_answer(api: ApiClient, ctx: Context) -> None:
    assert ctx.supervisor.start_child(ChildSpec("points", PointStore)) is not None
    took = api.write("room1/sp", 23.0, wait=5, request_id="ops-42")
    assert took.request_id == "ops-42"  # the caller's id, through the command to the device's answer
    assert took.device == WriteResult("room1/sp", True, "ops-42", readback=23.0)
    refused = api.write("room1/sp", 27.0, wait=5)
    assert refused.device is not None and refused.device.error == "exception 3 (illegal data value)"
    assert refused.effective == 27.0  # kept in the priority array all the same
    silent = api.write("room1/sp", 26.0, wait=0.2)
    assert silent.request_id and silent.device is None  # an id minted by the client; no answer in time
    assert api.write("room1/sp", 24.0).device is None  # not asked to wait


def test_stop_ends_streams_and_leaves_no_thread(ctx: Context, tmp_path: Path) -> None:
    before = set(threading.enumerate())
    sup = ctx.supervisor
    sup.start_child(ChildSpec("auth", Authority))
    sup.start_child(ChildSpec("stream", StreamHub))
    sup.start_child(ChildSpec("api", ApiServer, kwargs={
        "host": "127.0.0.1", "port": 0, "max_body_bytes": 4096, "data_dir": tmp_path,
    }))
    client = ApiClient.from_data_dir(tmp_path)
    events = client.stream()
    assert sup.stop_all(timeout=10) == []
    assert list(events) == []  # the stream ended with the server
    client.close()
    wait_until(lambda: set(threading.enumerate()) <= before, 5, "the api threads to end")


def test_hub_restart_ends_open_streams(api: ApiClient, ctx: Context) -> None:
    events = api.stream()
    hub = ctx.registry.get("stream")
    hub.stop()
    assert list(events) == []


def test_a_service_without_the_handler_is_503_not_null(api: ApiClient, ctx: Context) -> None:
    assert ctx.supervisor.start_child(ChildSpec("points", PointStore)) is not None
    with pytest.raises(Unavailable, match="the points service does not answer GetPriorityArray"):
        api.relinquish("room1/sp")


def test_history_is_read_from_history_db(api: ApiClient, ctx: Context, tmp_path: Path) -> None:
    assert ctx.supervisor.start_child(ChildSpec("points", PointStore)) is not None
    with pytest.raises(Unavailable, match=r"the history service has recorded nothing yet \(no history.db\)"):
        api.history("room1/temp")
    t0 = 1_700_000_000.0
    writer = HistoryWriter(tmp_path / "history.db")
    try:
        writer.append([PointValue(point_id="room1/temp", value=20.0 + i / 10, ts=t0 + 60 * i) for i in range(30)])
    finally:
        writer.close()
    series = api.history("room1/temp", start=t0, end=t0 + 1800, limit=5)
    assert series.rollup == "raw" and [s.value for s in series.samples] == [20.0, 20.1, 20.2, 20.3, 20.4]
    buckets = api.history("room1/temp", start=t0, end=t0 + 1800, rollup="15m").buckets
    assert sum(b.count for b in buckets) == 30 and buckets[-1].last == pytest.approx(22.9)
    assert api.history("room1/temp", start=t0, end=t0 + 1800, rollup="auto").rollup == "raw"  # a short span
    lines = api.history_csv("room1/temp", start=t0, end=t0 + 1800).splitlines()
    assert lines[0] == "time,ts,value" and len(lines) == 31
    assert lines[1] == "2023-11-14T22:13:20.000Z,1700000000.0,20.0"
    assert len(api.history_csv("room1/temp", start=t0, end=t0 + 1800, limit=3).splitlines()) == 4
    with pytest.raises(NotFound):
        api.history("room9/x")
