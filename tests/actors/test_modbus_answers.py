"""The Modbus bridge answers every write and flags what it can no longer poll; a reply's byte count is checked.

The real simulator, or a hostile server, on loopback; ticks on the manual clock.
"""

from __future__ import annotations

import msgspec

from actors import ChildSpec, Context, handles
from actors.components.modbus import ModbusBridge
from actors.components.sim_modbus import ModbusSimulatorThread
from bms.messages import DeviceDown, DeviceWrite, Ping, SampleBatch
from bms.supervision import Health, RestartPolicy
from tests.actors.modbus_servers import Lie, LyingServer
from tests.actors.test_modbus_bridge import METER, NET, Seen, device, results, seen, sim, start  # noqa: F401
from tests.bms.modbus.conftest import profile
from tests.conftest import wait_until


def polled_faults(ctx: Context, record: Seen, lie: Lie) -> set[str | None]:
    server = LyingServer(lie)
    try:
        start(ctx, [(device("m1", server.port), profile("power-meter"))])
        wait_until(lambda: record.batches("m1"), what="first poll")
    finally:
        ctx.supervisor.stop_all()
        server.close()
    assert all(s.value is None for s in record.batches("m1")[0].samples)
    return {s.fault for s in record.batches("m1")[0].samples}


def test_a_byte_count_beyond_the_reply_is_rejected_not_stored(ctx: Context, seen: Seen) -> None:  # noqa: F811
    faults = polled_faults(ctx, seen, lambda data: b"\xff" + data[1:])  # says 255, carries the registers asked
    assert faults == {"malformed reply to holding 200..203: byte count says 255, the reply carries 8 bytes",
                      "malformed reply to input 100..120: byte count says 255, the reply carries 42 bytes"}
    assert not seen.of(DeviceDown)  # the device answers: it is not down


def test_a_byte_count_short_of_the_reply_is_rejected(ctx: Context, seen: Seen) -> None:  # noqa: F811
    faults = polled_faults(ctx, seen, lambda data: bytes([data[0] - 2]) + data[1:])  # 2 bytes more than it says
    assert faults == {"malformed reply to holding 200..203: byte count says 6, the reply carries 8 bytes",
                      "malformed reply to input 100..120: byte count says 40, the reply carries 42 bytes"}


# ----------------------------------------------------------------- every write is answered


def test_a_write_in_flight_when_the_bridge_stops_is_answered(
        ctx: Context, sim: ModbusSimulatorThread, seen: Seen) -> None:  # noqa: F811
    ref = start(ctx, [(device("m1", sim.port), profile("power-meter"))])
    wait_until(lambda: seen.batches("m1"), what="first poll")
    sim.simulator.set_silent(METER)  # the write waits NET.timeout (2 s) for a reply
    ctx.registry.publish(DeviceWrite("m1/demand_limit", 300.0, 8, request_id="r51"))
    ref.ask(Ping())  # the bridge has handed the write to its loop
    ref.stop(block=True, timeout=10)
    wait_until(lambda: results(seen, 51), what="the write's answer")
    (result,) = results(seen, 51)
    assert not result.ok and result.point_id == "m1/demand_limit" and result.error


class StopLoop(msgspec.Struct, frozen=True):
    pass


class LoopLosingBridge(ModbusBridge):
    @handles(StopLoop)
    def on_stop_loop(self, _msg: StopLoop) -> None:
        assert self._io is not None  # the loop dies under the bridge (a fault injected: nothing else stops it so)
        self._io.stop(lambda: [dev.session.close() for dev in self.devices.values()])


def test_a_write_the_loop_cannot_take_is_answered(ctx: Context, sim: ModbusSimulatorThread, seen: Seen) -> None:  # noqa: F811
    kwargs = {"network": "test", "spec": NET, "devices": ((device("m1", sim.port), profile("power-meter")),)}
    ref = ctx.supervisor.start_child(ChildSpec("modbus.test", LoopLosingBridge, kwargs=kwargs))
    assert ref is not None
    wait_until(lambda: seen.batches("m1"), what="first poll")
    ref.ask(StopLoop())
    ctx.registry.publish(DeviceWrite("m1/demand_limit", 300.0, 8, request_id="r52"))
    wait_until(lambda: results(seen, 52), what="the write's answer")
    (result,) = results(seen, 52)
    assert not result.ok and "m1/demand_limit" in result.error and "modbus.test" in result.error
    assert ref.ask(Ping(), timeout=1.0) == "modbus.test"  # refused, not failed


# ----------------------------------------------------------------- a bridge that gives up


class Breakdown(msgspec.Struct, frozen=True):
    pass


class BrittleBridge(ModbusBridge):
    @handles(Breakdown)
    def on_breakdown(self, _msg: Breakdown) -> None:
        raise RuntimeError("a bug in the bridge")


def test_a_bridge_stopped_for_good_reports_its_devices_down_at_once(
        ctx: Context, sim: ModbusSimulatorThread, seen: Seen) -> None:  # noqa: F811
    kwargs = {"network": "test", "spec": NET, "devices": ((device("m1", sim.port), profile("power-meter")),),
              "backoff_initial": 0.5}
    ref = ctx.supervisor.start_child(ChildSpec("modbus.test", BrittleBridge, kwargs=kwargs,
                                               policy=RestartPolicy(max_restarts=0)))
    assert ref is not None
    wait_until(lambda: seen.batches("m1"), what="first poll")
    ref.tell(Breakdown())
    wait_until(lambda: seen.of(DeviceDown), what="the device down")
    (down,) = seen.of(DeviceDown)
    assert down.device_id == "m1" and "modbus.test stopped: RuntimeError: a bug in the bridge" in down.reason
    assert ctx.health.get("modbus.test").state == Health.DOWN.value  # type: ignore[union-attr]
    last = [b for b in seen.of(SampleBatch) if b.samples and b.samples[0].fault == down.reason]
    assert {s.point_id for b in last for s in b.samples} == {f"m1/{p.key}" for p in profile("power-meter").points}
