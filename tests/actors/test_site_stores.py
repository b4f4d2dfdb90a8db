"""The model, point and history stores wired together, as the daemon runs them.

A scenario built in code: ``dev1``, a Modbus device (no bridge runs: the
test publishes its SampleBatches as a bridge would) and ``room``, a virtual
device with a writable setpoint. Real SQLite files in the test's data dir,
a manual clock, no sleeps.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pykka
import pytest
import structlog.testing

from actors import BmsActor, ChildSpec, Context, handles, make_context
from actors._registry import LOSSLESS
from actors.components.history import HistoryStore
from actors.components.nodes import ModelStore
from actors.components.points import PointStore
from bms.clock import ManualClock
from bms.config import (
    BacnetBinding,
    BacnetDevice,
    GuardSpec,
    HistorySpec,
    LoadedScenario,
    ModbusBinding,
    ModbusDevice,
    PointSpec,
    Profile,
    Scenario,
    SiteSpec,
    VirtualBinding,
    VirtualDevice,
)
from bms.errors import NotFound, WriteRefused
from bms.history import HistoryReader
from bms.messages import (
    DeviceDown,
    DeviceRecovered,
    DeviceWrite,
    EntityDeleted,
    GetPoint,
    GetPriorityArray,
    ListPoints,
    Message,
    RelinquishPoint,
    Sample,
    SampleBatch,
    StatusChanged,
    ValueChanged,
    WritePoint,
    WriteResult,
)
from tests.conftest import wait_until

T0 = 1_700_000_000.0


def sensors(n: int) -> Profile:
    points = [
        PointSpec(key=f"p{i}", name=f"Sensor {i}", unit="kW", cov_increment=0.5,
                  modbus=ModbusBinding(table="holding", address=i + 1))
        for i in range(n)
    ]
    points.append(PointSpec(key="cmd", name="Damper Command", unit="%", writable=True, relinquish_default=0.0,
                            guard=GuardSpec(min=0, max=100), modbus=ModbusBinding(table="holding", address=n + 1)))
    points.append(PointSpec(key="slow", name="Slow Temp", stale_after=60.0, history=HistorySpec(cov=False, interval=60.0),
                            modbus=ModbusBinding(table="holding", address=n + 2)))
    return Profile(name="sensors", protocol="modbus", points=points)


ROOM = Profile(name="room", protocol="virtual", points=[
    PointSpec(key="sp", name="Room Setpoint", unit="°C", writable=True, relinquish_default=21.0,
              guard=GuardSpec(min=15, max=28), virtual=VirtualBinding(initial=21.0)),
])


def site(n: int = 10) -> LoadedScenario:
    scenario = Scenario(
        site=SiteSpec(id="s", name="Site"),
        devices=[ModbusDevice(id="dev1", profile="sensors", host="127.0.0.1"),
                 VirtualDevice(id="room", profile="room")],
    )
    return LoadedScenario(Path("site.toml"), scenario, {"sensors": sensors(n), "room": ROOM})


class Collector(BmsActor):
    """Keeps every message it is subscribed to; sets ``seen`` when ``until`` says so."""

    def __init__(self, name: str, ctx: Context, out: list[Message]) -> None:
        super().__init__(name, ctx)
        self.out = out

    @handles(Message)
    def keep(self, msg: Message) -> None:
        self.out.append(msg)


def start_site(ctx: Context, loaded: LoadedScenario) -> pykka.ActorRef[PointStore]:
    for spec in (ChildSpec("nodes", ModelStore, kwargs={"site": loaded}), ChildSpec("history", HistoryStore),
                 ChildSpec("points", PointStore)):
        assert ctx.supervisor.start_child(spec) is not None, ctx.health.get(spec.name)
    return ctx.registry.get("points")


def collect(ctx: Context, *types: type) -> list[Message]:
    out: list[Message] = []
    ref = ctx.supervisor.start_child(ChildSpec("collector", Collector, kwargs={"out": out}))
    assert ref is not None
    for t in types:
        ctx.registry.subscribe(t, ref, LOSSLESS)
    return out


def test_a_batch_of_10000_updates_is_stored_and_queried(ctx: Context, clock: ManualClock, tmp_path: Path) -> None:
    points = start_site(ctx, site(10_000))
    changed = collect(ctx, ValueChanged)
    ts = clock.now()
    batch = tuple(Sample(f"dev1/p{i}", float(i), ts) for i in range(10_000))
    ctx.registry.publish(SampleBatch(source="modbus.test", samples=batch))
    wait_until(lambda: ctx.registry.get("history").proxy().stored.get() >= 10_000, 10, "10,000 samples stored")
    wait_until(lambda: any(isinstance(m, ValueChanged) and m.source == "modbus.test" for m in changed))
    published = [m for m in changed if isinstance(m, ValueChanged) and m.source == "modbus.test"]
    assert len(published) == 1 and len(published[0].values) == 10_000  # one batch in, one batch out
    with HistoryReader(tmp_path / "history.db") as reader:
        assert [(s.ts, s.value) for s in reader.raw("dev1/p1234", ts - 1, ts + 1)] == [(ts, 1234.0)]
        assert sum(1 for p in reader.points() if p.point_id.startswith("dev1/p")) == 10_000
    state = points.ask(GetPoint(point_id="dev1/p42"))
    assert (state.value, state.unit, state.name, state.device) == (42.0, "kW", "Sensor 42", "dev1")


def test_cov_filter_faults_and_device_down(ctx: Context, clock: ManualClock) -> None:
    points = start_site(ctx, site())
    out = collect(ctx, ValueChanged, StatusChanged)
    ts = clock.now()

    def publish(*samples: Sample) -> None:
        ctx.registry.publish(SampleBatch(source="bridge", samples=samples))

    publish(Sample("dev1/p0", 10.0, ts))
    publish(Sample("dev1/p0", 10.2, ts + 1))  # below the 0.5 increment: nothing
    publish(Sample("dev1/p0", 10.6, ts + 2))
    publish(Sample("dev1/p1", None, ts + 3, fault="illegal data address (exception 2)"))
    ctx.registry.publish(DeviceDown(protocol="modbus", device_id="dev1", ts=ts + 4, reason="no answer"))
    wait_until(lambda: sum(isinstance(m, StatusChanged) for m in out) >= 1 + 12)
    values = [v.value for m in out if isinstance(m, ValueChanged) for v in m.values if v.point_id == "dev1/p0"]
    assert values == [10.0, 10.6]
    p1 = points.ask(GetPoint(point_id="dev1/p1"))
    assert "fault" in p1.flags and "down" in p1.flags
    ctx.registry.publish(DeviceRecovered(protocol="modbus", device_id="dev1", ts=ts + 5))
    wait_until(lambda: "down" not in points.ask(GetPoint(point_id="dev1/p0")).flags)
    assert points.ask(GetPoint(point_id="dev1/p0")).flags == ()


def test_writes_drive_the_device_and_expire_on_the_clock(ctx: Context, clock: ManualClock) -> None:
    points = start_site(ctx, site())
    out = collect(ctx, DeviceWrite)
    accepted = points.ask(WritePoint(point_id="dev1/cmd", value=40.0, priority=8, duration=900.0, user="op"))
    assert (accepted.effective, accepted.active_priority, accepted.expires_at) == (40.0, 8, clock.now() + 900)
    points.ask(WritePoint(point_id="dev1/cmd", value=80.0, priority=5))
    assert points.ask(GetPriorityArray(point_id="dev1/cmd")).levels[4:8] == (80.0, None, None, 40.0)
    points.ask(RelinquishPoint(point_id="dev1/cmd", priority=5))
    wait_until(lambda: len(out) == 3)
    assert [(m.value, m.priority) for m in out if isinstance(m, DeviceWrite)] == [(40.0, 8), (80.0, 8), (40.0, 8)]
    assert "overridden" in points.ask(GetPoint(point_id="dev1/cmd")).flags
    clock.advance(901.0)  # the timed override expires: back to the relinquish default
    wait_until(lambda: len(out) == 4, what="the expiry's DeviceWrite")
    assert isinstance(out[3], DeviceWrite) and out[3].value == 0.0
    assert points.ask(GetPoint(point_id="dev1/cmd")).flags == ()


def test_a_refused_write_changes_nothing_and_names_the_guard(ctx: Context, clock: ManualClock) -> None:
    points = start_site(ctx, site())
    with pytest.raises(WriteRefused, match=r"write to room/sp refused: value 35 above maximum 28 \(guard max\)"):
        points.ask(WritePoint(point_id="room/sp", value=35.0))
    with pytest.raises(WriteRefused, match="read-only"):
        points.ask(WritePoint(point_id="dev1/p0", value=1.0))
    with pytest.raises(NotFound, match="nope/x"):
        points.ask(WritePoint(point_id="nope/x", value=1.0))
    assert points.ask(GetPoint(point_id="room/sp")).value == 21.0
    assert points.ask(GetPriorityArray(point_id="room/sp")).active_priority is None


def test_write_results_update_or_fault_the_point(ctx: Context, clock: ManualClock) -> None:
    points = start_site(ctx, site())
    ctx.registry.publish(WriteResult(point_id="dev1/cmd", ok=True, readback=55.0))
    wait_until(lambda: points.ask(GetPoint(point_id="dev1/cmd")).value == 55.0)
    ctx.registry.publish(WriteResult(point_id="dev1/cmd", ok=False, error="exception 4: device failure"))
    wait_until(lambda: "fault" in points.ask(GetPoint(point_id="dev1/cmd")).flags)
    assert points.ask(GetPoint(point_id="dev1/cmd")).reason == "write failed: exception 4: device failure"


def test_stale_points_and_interval_history(ctx: Context, clock: ManualClock, tmp_path: Path) -> None:
    points = start_site(ctx, site())
    ts = clock.now()
    ctx.registry.publish(SampleBatch(source="b", samples=(Sample("dev1/slow", 19.5, ts),)))
    wait_until(lambda: points.ask(GetPoint(point_id="dev1/slow")).value == 19.5)
    history = ctx.registry.get("history").proxy()
    for k in range(1, 6):  # five one-minute boundaries pass; no new sample arrives
        clock.advance(60.0)
        wait_until(lambda k=k: history.stored.get() >= k, what=f"interval sample {k}")
    wait_until(lambda: "stale" in points.ask(GetPoint(point_id="dev1/slow")).flags, what="stale flag")
    with HistoryReader(tmp_path / "history.db") as reader:
        got = reader.raw("dev1/slow", ts, clock.now())
    assert len(got) >= 4 and all(s.value == 19.5 and s.ts % 60 == 0 for s in got)


def test_list_points_by_tag_under_and_pattern(ctx: Context) -> None:
    points = start_site(ctx, site(3))
    ids = [p.point_id for p in points.ask(ListPoints())]
    assert ids == ["dev1/cmd", "dev1/p0", "dev1/p1", "dev1/p2", "dev1/slow", "room/sp"]
    assert [p.point_id for p in points.ask(ListPoints(under="room"))] == ["room/sp"]
    assert [p.point_id for p in points.ask(ListPoints(pattern="dev1/p*"))] == ["dev1/p0", "dev1/p1", "dev1/p2"]
    assert "dev1/cmd" in [p.point_id for p in points.ask(ListPoints(tags=("cmd",)))]
    with pytest.raises(NotFound, match="nowhere"):
        points.ask(ListPoints(under="nowhere"))


def test_overrides_survive_a_restart_of_the_daemon(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    first = make_context(clock, tmp_path)
    try:
        points = start_site(first, site())
        points.ask(WritePoint(point_id="room/sp", value=24.0, priority=8, duration=3600.0))
        points.ask(WritePoint(point_id="dev1/cmd", value=30.0, priority=3))
    finally:
        first.supervisor.stop_all()
    clock.advance(60.0)
    second = make_context(clock, tmp_path)
    try:
        writes = collect(second, DeviceWrite)
        points = start_site(second, site())
        view = points.ask(GetPriorityArray(point_id="room/sp"))
        assert (view.effective, view.active_priority, view.expires[7]) == (24.0, 8, T0 + 3600.0)
        assert points.ask(GetPoint(point_id="room/sp")).value == 24.0
        wait_until(lambda: writes, what="the commanded value re-asserted on the device")
        assert [(m.point_id, m.value) for m in writes if isinstance(m, DeviceWrite)] == [("dev1/cmd", 30.0)]
    finally:
        second.supervisor.stop_all()


def test_the_point_store_restarts_with_its_state_rebuilt(ctx: Context) -> None:
    points = start_site(ctx, site())
    points.ask(WritePoint(point_id="room/sp", value=23.0, priority=8))
    restarted = threading.Event()

    class Watch(BmsActor):
        @handles(Message)
        def on(self, msg: Message) -> None:
            if type(msg).__name__ == "ActorRestarted":
                restarted.set()

    watch = ctx.supervisor.start_child(ChildSpec("watch", Watch))
    assert watch is not None
    ctx.registry.subscribe(Message, watch, LOSSLESS)
    # a message whose handler fails (not a refusal): the store restarts and rebuilds from nodes.db and overrides.db
    points.tell(SampleBatch(source="bad", samples=None))  # type: ignore[arg-type]
    assert restarted.wait(5)
    assert points.ask(GetPoint(point_id="room/sp")).value == 23.0
    assert ctx.health.get("points").state == "Healthy"  # type: ignore[union-attr]


def test_a_device_dropped_from_the_scenario_leaves_the_model_at_the_next_start(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    first = make_context(clock, tmp_path)
    try:
        start_site(first, site())
    finally:
        first.supervisor.stop_all()
    smaller = site()
    smaller = LoadedScenario(smaller.path, Scenario(site=smaller.scenario.site, devices=smaller.scenario.devices[:1]),
                             smaller.profiles)
    second = make_context(clock, tmp_path)
    try:
        deleted = collect(second, EntityDeleted)
        points = start_site(second, smaller)
        wait_until(lambda: {m.node_id for m in deleted if isinstance(m, EntityDeleted)} == {"room", "room/sp"})
        assert "room/sp" not in [p.point_id for p in points.ask(ListPoints())]
        with pytest.raises(NotFound):
            points.ask(GetPoint(point_id="room/sp"))
    finally:
        second.supervisor.stop_all()


def test_a_released_bacnet_point_is_relinquished_on_the_device_a_modbus_one_gets_its_default(ctx: Context) -> None:
    damper = Profile(name="box", protocol="bacnet", points=[
        PointSpec(key="damper", name="Damper", unit="%", writable=True, relinquish_default=50.0,
                  bacnet=BacnetBinding(object="analog-output,1")),
    ])
    loaded = site()
    scenario = Scenario(site=loaded.scenario.site, devices=[
        *loaded.scenario.devices, BacnetDevice(id="box1", profile="box", address="127.0.0.9",
                                               device_instance=9)])
    points = start_site(ctx, LoadedScenario(loaded.path, scenario, {**loaded.profiles, "box": damper}))
    writes = collect(ctx, DeviceWrite)
    for point_id in ("box1/damper", "dev1/cmd"):
        points.ask(WritePoint(point_id=point_id, value=80.0, priority=8))
        points.ask(RelinquishPoint(point_id=point_id, priority=8))
    wait_until(lambda: len(writes) == 4)
    assert [(m.point_id, m.value, m.priority) for m in writes if isinstance(m, DeviceWrite)] == [
        ("box1/damper", 80.0, 8), ("box1/damper", None, 8),  # the device's own array takes over
        ("dev1/cmd", 80.0, 8), ("dev1/cmd", 0.0, 8),  # a register keeps what it is told: the default
    ]


def test_an_expiry_is_logged_with_point_priority_value_and_user(ctx: Context, clock: ManualClock) -> None:
    points = start_site(ctx, site())
    out = collect(ctx, DeviceWrite)
    points.ask(WritePoint(point_id="dev1/cmd", value=40.0, priority=8, duration=900.0, user="op"))
    wait_until(lambda: len(out) == 1)
    with structlog.testing.capture_logs() as logs:
        clock.advance(901.0)
        wait_until(lambda: len(out) == 2, what="the expiry's DeviceWrite")
    expired = [e for e in logs if e["event"] == "override expired"]
    assert [(e["point_id"], e["priority"], e["value"], e["user"]) for e in expired] == [("dev1/cmd", 8, 40.0, "op")]


def test_releasing_an_empty_level_says_so(ctx: Context) -> None:
    points = start_site(ctx, site())
    points.ask(WritePoint(point_id="dev1/cmd", value=40.0, priority=8))
    assert points.ask(RelinquishPoint(point_id="dev1/cmd", priority=8)).level_was_empty is False
    again = points.ask(RelinquishPoint(point_id="dev1/cmd", priority=8))
    assert again.level_was_empty is True and again.effective == 0.0
