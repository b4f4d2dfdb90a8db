"""The Modbus bridge actor against the real simulator on loopback; the sim-modbus component.

Ticks come from the ticker on the manual clock (``tick()`` advances it one
poll interval); device timeouts are real but short. Every wait is bounded.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pykka
import pytest

from actors import BmsActor, ChildSpec, Context, handles
from actors.components.modbus import ModbusBridge, modbus_bridges
from actors.components.modbus._device import line_timeout
from actors.components.sim_modbus import ModbusSimulators, ModbusSimulatorThread, modbus_simulators
from actors.platform import Platform
from bms.clock import ManualClock
from bms.config import ModbusBinding, ModbusDevice, ModbusNetwork, PointSpec, Profile, Settings, load_scenario
from bms.messages import DeviceDown, DeviceRecovered, DeviceWrite, Message, SampleBatch, WriteResult
from bms.modbus import plan_reads
from bms.sim.cli import ModbusServer
from bms.sim.modbus import ModbusSimulator
from tests.actors.modbus_servers import LyingServer, one_register_short
from tests.bms.modbus.conftest import profile
from tests.conftest import ROOT, wait_until

METER, TEST = 1, 2
INTERVAL = 2.0
NET = ModbusNetwork(timeout=2.0, retries=0)
SHORT = 0.3  # the timeout of a device a test silences


class Collector(BmsActor):
    """Records what the bridge publishes."""

    def __init__(self, name: str, ctx: Context, out: list[Message]) -> None:
        super().__init__(name, ctx)
        self.out = out

    @handles(SampleBatch, DeviceDown, DeviceRecovered, WriteResult)
    def got(self, msg: Message) -> None:
        self.out.append(msg)


class Seen:
    """The messages a Collector received, by kind and device."""

    def __init__(self) -> None:
        self.out: list[Message] = []

    def published(self, device: str) -> list[SampleBatch]:
        """The device's batches as published: good register values in columns (Readings)."""
        return [m for m in list(self.out) if isinstance(m, SampleBatch) and m.size
                and m.all_samples()[0].point_id.startswith(device + "/")]

    def batches(self, device: str) -> list[SampleBatch]:
        """The device's batches with every reading as a Sample."""
        return [SampleBatch(m.source, tuple(m.all_samples())) for m in self.published(device)]

    def of(self, kind: type[Any]) -> list[Any]:
        return [m for m in list(self.out) if isinstance(m, kind)]


@pytest.fixture
def sim() -> Iterator[ModbusSimulatorThread]:
    units = {METER: profile("power-meter"), TEST: profile("modbus-test")}
    handle = ModbusSimulatorThread(ModbusSimulator(units, interval=3600.0))
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def seen(ctx: Context) -> Seen:
    record = Seen()
    ref = ctx.supervisor.start_child(ChildSpec("collector", Collector, kwargs={"out": record.out}))
    assert ref is not None
    for kind in (SampleBatch, DeviceDown, DeviceRecovered, WriteResult):
        ctx.registry.subscribe(kind, ref)
    return record


def device(dev_id: str, port: int, unit: int = METER, prof: str = "power-meter", **kw: Any) -> ModbusDevice:
    return ModbusDevice(id=dev_id, profile=prof, host="127.0.0.1", port=port, unit_id=unit,
                        poll_interval=INTERVAL, **kw)


def start(ctx: Context, devices: list[tuple[ModbusDevice, Profile]], spec: ModbusNetwork = NET,
          **kw: Any) -> pykka.ActorRef[Any]:
    kwargs = {"network": "test", "spec": spec, "devices": tuple(devices), "backoff_initial": 0.5,
              "backoff_max": INTERVAL, **kw}
    ref = ctx.supervisor.start_child(ChildSpec("modbus.test", ModbusBridge, kwargs=kwargs))
    assert ref is not None
    return ref


def tick(clock: ManualClock) -> None:
    """One poll interval later (once the ticker is waiting on the clock)."""
    assert clock.wait_for_waiters(1)
    clock.advance(INTERVAL)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def plan_size(prof: str, dev_id: str) -> int:
    points = [(f"{dev_id}/{p.key}", p.modbus) for p in profile(prof).points if p.modbus is not None]
    return len(plan_reads(points))


# ------------------------------------------------------------------ polls


def test_each_poll_publishes_one_batch_of_the_simulators_values(
        ctx: Context, clock: ManualClock, sim: ModbusSimulatorThread, seen: Seen) -> None:
    start(ctx, [(device("m1", sim.port), profile("power-meter")),
                (device("t1", sim.port, TEST, "modbus-test"), profile("modbus-test"))])
    sim.set_point(TEST, "float64_dcba", -12.625)
    wait_until(lambda: len(seen.batches("m1")) == 1 and len(seen.batches("t1")) == 1, what="first polls")
    tick(clock)
    wait_until(lambda: len(seen.batches("m1")) == 2 and len(seen.batches("t1")) == 2, what="second polls")
    for dev_id, unit, prof in (("m1", METER, "power-meter"), ("t1", TEST, "modbus-test")):
        batch = seen.batches(dev_id)[-1]
        assert batch.source == "modbus.test"
        keys = [s.point_id.split("/", 1)[1] for s in batch.samples]
        assert sorted(keys) == sorted(p.key for p in profile(prof).points)
        for sample in batch.samples:
            assert sample.fault is None, sample
            assert sample.ts == clock.now()
            expected = sim.read_point(unit, sample.point_id.split("/", 1)[1])
            assert sample.value == expected, sample
        requests = sum(n for (u, _fc), n in sim.simulator.requests.items() if u == unit)
        assert requests == 2 * plan_size(prof, dev_id)  # two cycles, one request per planned block
    published = seen.published("m1")[-1]  # the meter's registers are plain numbers: columns, no Sample each
    assert published.readings and not any(s.fault for s in published.samples)
    assert published.size == len(profile("power-meter").points)
    t1 = {s.point_id: s.value for s in seen.batches("t1")[-1].samples}
    assert t1["t1/float64_dcba"] == -12.625
    assert ctx.health.get("modbus.test").state == "Healthy"  # type: ignore[union-attr]


def test_an_unreachable_device_goes_down_while_another_keeps_publishing(
        ctx: Context, clock: ManualClock, sim: ModbusSimulatorThread, seen: Seen) -> None:
    start(ctx, [(device("dead", closed_port()), profile("power-meter")),
                (device("m1", sim.port), profile("power-meter"))])
    for cycle in range(1, 4):
        wait_until(lambda: len(seen.batches("dead")) == cycle and len(seen.batches("m1")) == cycle,  # noqa: B023
                   what=f"cycle {cycle}")
        if cycle < 3:
            tick(clock)
    wait_until(lambda: seen.of(DeviceDown), what="DeviceDown")
    (down,) = seen.of(DeviceDown)
    assert down.protocol == "modbus" and down.device_id == "dead"
    assert "cannot connect to 127.0.0.1" in down.reason
    for batch in seen.batches("dead"):
        assert all(s.value is None and s.fault == batch.samples[0].fault for s in batch.samples)
    assert all(s.fault is None for b in seen.batches("m1") for s in b.samples)
    status = ctx.health.get("modbus.test")
    assert status is not None and status.state == "Degraded"
    assert status.reason.startswith("1 of 2 devices down: dead (cannot connect")


def test_a_silent_unit_goes_down_and_recovers(
        ctx: Context, clock: ManualClock, sim: ModbusSimulatorThread, seen: Seen) -> None:
    start(ctx, [(device("m1", sim.port, timeout=SHORT), profile("power-meter"))])
    wait_until(lambda: len(seen.batches("m1")) == 1, what="first poll")
    sim.simulator.set_silent(METER)
    for cycle in range(2, 5):
        tick(clock)
        wait_until(lambda: len(seen.batches("m1")) == cycle, what=f"failed poll {cycle}")  # noqa: B023
    wait_until(lambda: seen.of(DeviceDown), what="DeviceDown")
    (down,) = seen.of(DeviceDown)
    assert "no reply" in down.reason and f"within {SHORT:g} s" in down.reason
    assert seen.batches("m1")[-1].samples[0].fault == down.reason
    assert ctx.health.get("modbus.test").state == "Degraded"  # type: ignore[union-attr]
    down_at = clock.now()
    sim.simulator.set_silent(METER, False)
    tick(clock)
    wait_until(lambda: seen.of(DeviceRecovered) and len(seen.batches("m1")) == 5, what="recovery")
    (recovered,) = seen.of(DeviceRecovered)
    assert recovered.device_id == "m1" and recovered.down_for == clock.now() - down_at == INTERVAL
    assert all(s.fault is None for s in seen.batches("m1")[-1].samples)
    order = [type(m).__name__ for m in seen.out if isinstance(m, (DeviceDown, DeviceRecovered))]
    assert order == ["DeviceDown", "DeviceRecovered"]
    assert ctx.health.get("modbus.test").state == "Healthy"  # type: ignore[union-attr]


def test_a_device_that_never_answered_is_named_not_counted_as_answering(
        ctx: Context, clock: ManualClock, sim: ModbusSimulatorThread, seen: Seen) -> None:
    start(ctx, [(device("dead", closed_port()), profile("power-meter")),
                (device("m1", sim.port), profile("power-meter"))], down_after=5)
    wait_until(lambda: seen.batches("dead") and seen.batches("m1"), what="first polls")
    expected = "1 of 2 devices answering; 1 not answered yet: dead"
    wait_until(lambda: ctx.health.get("modbus.test").reason == expected, what="the health")  # type: ignore[union-attr]
    assert ctx.health.get("modbus.test").state == "Healthy"  # type: ignore[union-attr]


def test_a_write_the_device_takes_ends_its_down_state_at_once(
        ctx: Context, clock: ManualClock, sim: ModbusSimulatorThread, seen: Seen) -> None:
    start(ctx, [(device("m1", sim.port, timeout=SHORT), profile("power-meter"))], down_after=1,
          backoff_initial=3600.0, backoff_max=3600.0)
    wait_until(lambda: len(seen.batches("m1")) == 1, what="first poll")
    sim.simulator.set_silent(METER)
    tick(clock)
    wait_until(lambda: seen.of(DeviceDown), what="DeviceDown")
    assert ctx.health.get("modbus.test").state == "Degraded"  # type: ignore[union-attr]
    sim.simulator.set_silent(METER, False)
    ctx.registry.publish(DeviceWrite("m1/demand_limit", 300.0, 8, request_id="r7"))
    wait_until(lambda: seen.of(DeviceRecovered) and results(seen, 7), what="recovered by the write, with no poll")
    assert results(seen, 7)[0].ok and len(seen.batches("m1")) == 2
    wait_until(lambda: ctx.health.get("modbus.test").state == "Healthy", what="healthy again")  # type: ignore[union-attr]
    tick(clock)  # polled at its normal pace again, not an hour later
    wait_until(lambda: len(seen.batches("m1")) == 3, what="the next poll")
    assert seen.batches("m1")[-1].samples[0].fault is None


def test_exception_replies_fault_only_their_points(
        ctx: Context, clock: ManualClock, sim: ModbusSimulatorThread, seen: Seen) -> None:
    test = profile("modbus-test")
    ghost = PointSpec(key="ghost", name="Not served", modbus=ModbusBinding(table="holding", address=5000))
    with_ghost = msgspec.structs.replace(test, points=[*test.points, ghost])
    start(ctx, [(device("t1", sim.port, TEST, "modbus-test"), with_ghost),
                (device("m1", sim.port), profile("power-meter"))])
    wait_until(lambda: seen.batches("t1") and seen.batches("m1"), what="first polls")
    samples = {s.point_id: s for s in seen.batches("t1")[0].samples}
    assert samples["t1/ghost"].value is None
    assert samples["t1/ghost"].fault == "exception 2 (illegal data address) reading holding 5000..5000"
    assert all(s.fault is None for pid, s in samples.items() if pid != "t1/ghost")
    sim.simulator.set_failing(METER)
    tick(clock)
    wait_until(lambda: len(seen.batches("m1")) == 2, what="second poll")
    faults = {s.fault for s in seen.batches("m1")[1].samples}
    assert all(f is not None and f.startswith("exception 4 (device failure) reading ") for f in faults)
    assert not seen.of(DeviceDown)  # a device that answers with exceptions is not down


def test_a_short_reply_is_rejected_not_decoded(ctx: Context, seen: Seen) -> None:
    short = LyingServer(one_register_short)
    try:
        start(ctx, [(device("m1", short.port), profile("power-meter"))])
        wait_until(lambda: seen.batches("m1"), what="first poll")
    finally:
        ctx.supervisor.stop_all()
        short.close()
    faults = {s.fault for s in seen.batches("m1")[0].samples}
    assert faults == {"malformed reply to holding 200..203: asked 4 registers, got 3",
                      "malformed reply to input 100..120: asked 21 registers, got 20"}
    assert all(s.value is None for s in seen.batches("m1")[0].samples)
    assert not seen.of(DeviceDown)


# ----------------------------------------------------------------- writes


def results(seen: Seen, n: int) -> list[WriteResult]:
    """The results of the DeviceWrite whose id is ``r<n>``."""
    return [r for r in seen.of(WriteResult) if r.request_id == f"r{n}"]


def test_device_writes_reach_the_simulator(
        ctx: Context, clock: ManualClock, sim: ModbusSimulatorThread, seen: Seen) -> None:
    start(ctx, [(device("t1", sim.port, TEST, "modbus-test"), profile("modbus-test")),
                (device("m1", sim.port), profile("power-meter"))])
    wait_until(lambda: seen.batches("t1"), what="first poll")
    writes = [("t1/int16_abcd", -1234, -1234), ("t1/float32_cdab", 21.5, 21.5), ("t1/coil_b", True, True),
              ("t1/flags_bit3", True, True), ("t1/scaled_int16", 21.7, pytest.approx(21.7))]
    for n, (pid, value, _) in enumerate(writes, start=1):
        ctx.registry.publish(DeviceWrite(pid, value, 8, request_id=f"r{n}"))
    wait_until(lambda: all(results(seen, n) for n in range(1, len(writes) + 1)), what="write results")
    for n, (pid, _, readback) in enumerate(writes, start=1):
        (result,) = results(seen, n)
        assert result.ok and result.point_id == pid and result.error == "", result
        assert result.readback == readback
        assert sim.read_point(TEST, pid.split("/")[1]) == readback

    ctx.registry.publish(DeviceWrite("t1/uint16_abcd", 70000, 8, request_id="r20"))
    ctx.registry.publish(DeviceWrite("t1/uint16_abcd", None, 8, request_id="r21"))
    ctx.registry.publish(DeviceWrite("m1/kw_total", 5.0, 8, request_id="r22"))
    ctx.registry.publish(DeviceWrite("m1/demand_limit", "lots", 8, request_id="r23"))
    wait_until(lambda: all(results(seen, n) for n in (20, 21, 22, 23)), what="refused writes")
    (too_big,) = results(seen, 20)
    assert not too_big.ok and "70000 is out of range for uint16 (0 .. 65535)" in too_big.error
    (relinquish,) = results(seen, 21)
    assert relinquish.ok and relinquish.readback is None
    assert sim.read_point(TEST, "uint16_abcd") == 0  # nothing was written
    (read_only,) = results(seen, 22)
    assert not read_only.ok and read_only.error == "m1/kw_total is not writable"
    (not_a_number,) = results(seen, 23)
    assert not not_a_number.ok and "'lots' is not a number" in not_a_number.error


def test_a_write_to_a_silent_device_reports_the_timeout(
        ctx: Context, sim: ModbusSimulatorThread, seen: Seen) -> None:
    start(ctx, [(device("m1", sim.port, timeout=SHORT), profile("power-meter"))])
    wait_until(lambda: seen.batches("m1"), what="first poll")
    sim.simulator.set_silent(METER)
    ctx.registry.publish(DeviceWrite("m1/demand_limit", 300.0, 8, request_id="r5"))
    wait_until(lambda: results(seen, 5), what="write result")
    (result,) = results(seen, 5)
    assert not result.ok and "no reply writing m1/demand_limit" in result.error


# -------------------------------------------------------------------- rtu


def test_rtu_network_without_its_serial_port_reports_the_device_down(ctx: Context, seen: Seen) -> None:
    rtu = ModbusNetwork(kind="rtu", serial_port="/dev/ttyBMS-missing", timeout=0.2, retries=0)
    spec = ModbusDevice(id="rtu1", profile="power-meter", network="test", unit_id=3,
                        poll_interval=INTERVAL)
    unset = ModbusNetwork(kind="rtu")
    start(ctx, [(spec, profile("power-meter"))], spec=rtu, down_after=1)
    wait_until(lambda: seen.of(DeviceDown), what="DeviceDown")
    (down,) = seen.of(DeviceDown)
    assert down.device_id == "rtu1"
    assert down.reason == ("cannot connect to /dev/ttyBMS-missing 9600 8N1 "
                           "(serial port /dev/ttyBMS-missing does not exist)")
    other = msgspec.structs.replace(spec, id="rtu2", network="bus2")
    ref = ctx.supervisor.start_child(ChildSpec("modbus.bus2", ModbusBridge, kwargs={
        "network": "bus2", "spec": unset, "devices": ((other, profile("power-meter")),)}))
    assert ref is not None
    status = ctx.health.get("modbus.bus2")
    assert status is not None and status.state == "Degraded"
    assert "modbus network 'bus2': kind 'rtu' needs serial_port (device rtu2)" in status.reason
    ctx.registry.publish(DeviceWrite("rtu2/demand_limit", 300.0, 8, request_id="r3"))
    wait_until(lambda: results(seen, 3), what="write result")
    (refused,) = results(seen, 3)
    assert not refused.ok and "needs serial_port" in refused.error


# ------------------------------------------------------------- components


def demo_platform(tmp_path: Path, simulate: bool | None = None) -> Platform:
    site = load_scenario(ROOT / "conf" / "scenarios" / "demo.toml")
    return Platform(settings=Settings(), site=site, data_dir=tmp_path, simulate=simulate)


def test_the_demo_has_one_bridge_and_one_simulator(tmp_path: Path) -> None:
    platform = demo_platform(tmp_path)
    (bridge,) = modbus_bridges(platform)
    assert bridge.name == "modbus.meters" and bridge.actor is ModbusBridge
    assert [d.id for d, _ in bridge.kwargs["devices"]] == ["meter1"]
    assert bridge.kwargs["spec"] == platform.site.scenario.networks.modbus["meters"]
    (sim,) = modbus_simulators(platform)
    (server,) = sim.kwargs["servers"]
    assert (server.host, server.port, dict(server.devices)) == ("127.0.0.1", 15020, {1: "meter1"})
    assert modbus_simulators(demo_platform(tmp_path, simulate=False)) == []


def test_the_simulator_component_serves_the_bridge(ctx: Context, clock: ManualClock, seen: Seen) -> None:
    port = closed_port()
    server = ModbusServer("127.0.0.1", port, {METER: profile("power-meter")}, {METER: "ABCD"}, {METER: "m1"})
    assert ctx.supervisor.start_child(ChildSpec("sim-modbus", ModbusSimulators, kwargs={"servers": (server,)}))
    assert ctx.health.get("sim-modbus").state == "Healthy"  # type: ignore[union-attr]
    start(ctx, [(device("m1", port), profile("power-meter"))])
    wait_until(lambda: seen.batches("m1"), what="a poll of the simulated meter")
    assert all(s.fault is None for s in seen.batches("m1")[0].samples)


def test_a_taken_port_makes_the_simulator_component_down(ctx: Context) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        server = ModbusServer("127.0.0.1", port, {METER: profile("power-meter")}, {METER: "ABCD"}, {METER: "m1"})
        ctx.supervisor.start_child(ChildSpec("sim-modbus", ModbusSimulators, kwargs={"servers": (server,)}))
    status = ctx.health.get("sim-modbus")
    assert status is not None and status.state == "Down"
    assert status.reason == (f"cannot serve Modbus on 127.0.0.1:{port}: "
                             f"address already in use by this process (pid {os.getpid()})")


# ---------------------------------------------------------------- restart


class Boom(msgspec.Struct, frozen=True):
    pass


class FragileBridge(ModbusBridge):
    """A bridge that a test can crash (once: the Boom is handled again after the restart, and then passes)."""

    crashed = False

    @handles(Boom)
    def boom(self, _: Boom) -> None:
        if not FragileBridge.crashed:
            FragileBridge.crashed = True
            raise RuntimeError("crash for the test")


def test_a_restarted_bridge_polls_and_writes_once_again(
        ctx: Context, clock: ManualClock, sim: ModbusSimulatorThread, seen: Seen) -> None:
    kwargs = {"network": "test", "spec": NET, "devices": ((device("t1", sim.port, TEST, "modbus-test"),
                                                           profile("modbus-test")),)}
    ref = ctx.supervisor.start_child(ChildSpec("modbus.test", FragileBridge, kwargs=kwargs))
    assert ref is not None
    wait_until(lambda: len(seen.batches("t1")) == 1, what="first poll")
    ref.tell(Boom())
    wait_until(lambda: ctx.health.get("modbus.test").restarts == 1, what="restart")  # type: ignore[union-attr]
    wait_until(lambda: len(seen.batches("t1")) == 2, what="the first poll after the restart")
    ctx.registry.publish(DeviceWrite("t1/int16_abcd", 42, 8, request_id="r9"))
    wait_until(lambda: results(seen, 9), what="write result")
    tick(clock)
    wait_until(lambda: len(seen.batches("t1")) == 3, what="a ticked poll")
    assert len(results(seen, 9)) == 1  # one subscription, one timer: nothing doubled
    assert results(seen, 9)[0].ok and sim.read_point(TEST, "int16_abcd") == 42
    assert [t for (_, t), r in ctx.ticker._targets.items() if r is ref] == ["poll:t1"]


def test_a_serial_line_waits_as_long_as_its_slowest_device() -> None:
    network = ModbusNetwork(kind="rtu", serial_port="/dev/ttyUSB0", timeout=1.0)
    fast = ModbusDevice(id="fast", profile="p", unit_id=1, timeout=0.2)
    slow = ModbusDevice(id="slow", profile="p", unit_id=2, timeout=3.0)
    default = ModbusDevice(id="plain", profile="p", unit_id=3)
    assert line_timeout(network, [fast, slow, default]) == 3.0
    assert line_timeout(network, [fast, default]) == 1.0  # the network's own, for a device without one
    assert line_timeout(network, [fast]) == 0.2
    assert line_timeout(network, []) == 1.0
