"""Commands are re-asserted and checked: a device that forgot, clamped or was outranked is flagged ``mismatch``."""

from __future__ import annotations

import pytest

from bms.clock import ManualClock
from bms.config import BacnetBinding, ModbusBinding, PointSpec
from bms.messages import DeviceWrite, Message, RelinquishPoint, Sample, StatusChanged, Value, WritePoint, WriteResult
from bms.points import CommandCheck, LivePoints, PointInfo, agrees, resolution

T0 = 1_700_000_000.0
SETTLE = 30.0
SP = PointInfo(point_id="ahu1/sat_sp", device="ahu1", protocol="bacnet", spec=PointSpec(
    key="sat_sp", name="SAT setpoint", writable=True, relinquish_default=18.0,
    bacnet=BacnetBinding(object="analog-value,1")))
FAN = PointInfo(point_id="ahu1/fan_cmd", device="ahu1", protocol="bacnet", spec=PointSpec(
    key="fan_cmd", name="Fan command", kind="bool", writable=True, bacnet=BacnetBinding(object="binary-output,1")))
METER_SP = PointInfo(point_id="pm1/limit", device="pm1", protocol="modbus", spec=PointSpec(
    key="limit", name="Demand limit", writable=True, modbus=ModbusBinding(table="holding", address=3, scale=0.1)))
ROOM = PointInfo(point_id="room/sp", device="room", protocol="virtual", spec=PointSpec(
    key="sp", name="Room setpoint", writable=True))


@pytest.mark.parametrize(("commanded", "reported", "step", "same"), [
    (24.0, 24.0, 0.0, True),
    (24.1, 24.100000381469727, 0.0, True),  # the float32 the device holds
    (24.0, 22.0, 0.0, False),  # clamped, or outranked by another client
    (24.0, 24.01, 0.0, False),
    (24.53, 24.5, 0.1, True),  # a register of 0.1 holds 24.5
    (24.53, 24.4, 0.1, False),
    (True, True, 0.0, True),
    (True, 1, 0.0, True),  # a binary point read back as 1
    (True, False, 0.0, False),
    (2, 2, 0.0, True),
    ("occupied", "occupied", 0.0, True),
    ("occupied", "unoccupied", 0.0, False),
    (24.0, None, 0.0, False),
    (24.0, float("nan"), 0.0, False),
])
def test_agrees_within_what_the_device_can_hold(commanded: Value, reported: Value, step: float, same: bool) -> None:
    assert agrees(commanded, reported, step) is same


def test_resolution_is_the_scale_of_an_integer_register_only() -> None:
    assert resolution(METER_SP.spec) == 0.1
    assert resolution(SP.spec) == 0.0
    floats = PointSpec(key="f", name="f", modbus=ModbusBinding(table="holding", address=1, type="float32", scale=0.1))
    assert resolution(floats) == 0.0


def test_a_command_check_is_due_after_the_settling_time() -> None:
    check = CommandCheck(30.0)
    check.sent("a", T0)
    check.sent("b", T0 + 10)
    assert check.due(T0 + 29) == []
    assert check.due(T0 + 30) == [("a", T0)]
    check.forget("a")
    assert check.due(T0 + 100) == [("b", T0 + 10)]
    with pytest.raises(ValueError, match="settle"):
        CommandCheck(0.0)


def points_at(clock: ManualClock) -> LivePoints:
    points = LivePoints(clock, command_settle=SETTLE)
    points.load([SP, FAN, METER_SP, ROOM])
    return points


def statuses(out: list[Message], point_id: str) -> list[StatusChanged]:
    return [m for m in out if isinstance(m, StatusChanged) and m.point_id == point_id]


def report(points: LivePoints, point_id: str, value: Value) -> None:
    points.samples([Sample(point_id, value, points.clock.now())], "bacnet-main")


def test_a_device_that_holds_another_value_after_the_settling_time_is_flagged_and_cleared_when_it_agrees() -> None:
    clock = ManualClock(T0)
    points = points_at(clock)
    report(points, "ahu1/sat_sp", 22.0)
    points.write(WritePoint(point_id="ahu1/sat_sp", value=24.0, priority=12))
    clock.advance(5.0)
    report(points, "ahu1/sat_sp", 22.0)  # the device still runs at 22 (another client holds priority 8 there)
    clock.advance(SETTLE - 6.0)
    assert statuses(points.housekeeping(), "ahu1/sat_sp") == []  # still settling
    clock.advance(1.0)
    flagged = statuses(points.housekeeping(), "ahu1/sat_sp")
    assert [s.flags for s in flagged] == [("overridden", "mismatch")]
    assert flagged[0].reason == "command mismatch: commanded 24, the device reports 22 (30 s after the command)"
    state = points.state("ahu1/sat_sp")
    assert "mismatch" in state.flags and state.reason.startswith("command mismatch")
    clock.advance(1.0)
    assert statuses(points.housekeeping(), "ahu1/sat_sp") == []  # said once
    report(points, "ahu1/sat_sp", 24.0)
    clock.advance(1.0)
    cleared = statuses(points.housekeeping(), "ahu1/sat_sp")
    assert [s.flags for s in cleared] == [("overridden",)]


def test_no_verdict_before_the_device_reported_after_the_command_or_while_its_value_is_unreliable() -> None:
    clock = ManualClock(T0)
    points = points_at(clock)
    report(points, "ahu1/sat_sp", 22.0)
    clock.advance(1.0)
    points.write(WritePoint(point_id="ahu1/sat_sp", value=24.0, priority=12))
    clock.advance(SETTLE * 3)
    assert statuses(points.housekeeping(), "ahu1/sat_sp") == []  # 22 was read before the command: no verdict
    points.device_down("ahu1", True, "no answer")
    report(points, "ahu1/sat_sp", 21.0)
    clock.advance(1.0)
    assert "mismatch" not in points.state("ahu1/sat_sp").flags  # down: nothing is known of it
    points.samples([Sample("ahu1/sat_sp", None, clock.now(), fault="unknown-object")], "bacnet-main")
    points.housekeeping()
    assert "mismatch" not in points.state("ahu1/sat_sp").flags


def test_the_readback_of_a_write_is_the_reported_value() -> None:
    clock = ManualClock(T0)
    points = points_at(clock)
    _, out = points.write(WritePoint(point_id="ahu1/fan_cmd", value=True, priority=8))
    write = next(m for m in out if isinstance(m, DeviceWrite))
    points.write_result(WriteResult(point_id="ahu1/fan_cmd", ok=True, readback=False, request_id=write.request_id))
    clock.advance(SETTLE)
    assert [s.flags for s in statuses(points.housekeeping(), "ahu1/fan_cmd")] == [("overridden", "mismatch")]


def test_a_register_of_a_tenth_holds_its_command_rounded() -> None:
    clock = ManualClock(T0)
    points = points_at(clock)
    points.write(WritePoint(point_id="pm1/limit", value=24.53, priority=8))
    report(points, "pm1/limit", 24.5)
    clock.advance(SETTLE)
    assert statuses(points.housekeeping(), "pm1/limit") == []


def test_released_points_are_no_longer_checked_and_lose_the_flag() -> None:
    clock = ManualClock(T0)
    points = points_at(clock)
    points.write(WritePoint(point_id="ahu1/sat_sp", value=24.0, priority=12))
    report(points, "ahu1/sat_sp", 22.0)
    clock.advance(SETTLE)
    points.housekeeping()
    assert "mismatch" in points.state("ahu1/sat_sp").flags
    _, out = points.relinquish(RelinquishPoint(point_id="ahu1/sat_sp", priority=12))
    assert [s.flags for s in statuses(out, "ahu1/sat_sp")][-1] == ()
    assert "ahu1/sat_sp" not in points.checks
    clock.advance(SETTLE)
    assert statuses(points.housekeeping(), "ahu1/sat_sp") == []


def test_virtual_points_are_never_checked() -> None:
    clock = ManualClock(T0)
    points = points_at(clock)
    points.write(WritePoint(point_id="room/sp", value=21.0, priority=8))
    assert "room/sp" not in points.checks


def test_reassert_sends_each_commanded_point_of_the_device_again_and_restarts_its_check() -> None:
    clock = ManualClock(T0)
    points = points_at(clock)
    points.write(WritePoint(point_id="ahu1/sat_sp", value=24.0, priority=12))
    points.write(WritePoint(point_id="pm1/limit", value=50.0, priority=8))
    clock.advance(100.0)
    out = points.reassert("ahu1")
    writes = [m for m in out if isinstance(m, DeviceWrite)]
    assert [(w.point_id, w.value, w.priority) for w in writes] == [("ahu1/sat_sp", 24.0, 8)]  # its command priority
    assert writes[0].request_id  # an id of its own
    assert points.checks.sent_at("ahu1/sat_sp") == clock.now()
    assert points.reassert("nothing") == []
    report(points, "ahu1/sat_sp", 22.0)  # the device forgot it before the re-send: not yet a verdict
    clock.advance(SETTLE - 1)
    assert statuses(points.housekeeping(), "ahu1/sat_sp") == []
