"""WriteGuard: every refusal, with its guard name and a reason a person can act on."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from bms.clock import ManualClock
from bms.config import GuardSpec, PointSpec
from bms.errors import ConfigError, NotFound, WriteRefused
from bms.messages import Sample, Value
from bms.points import PointTable, WriteGuard

INTERLOCK = "ahu1/fan_status == 1 and ahu1/sat < 30"

POINTS: dict[str, PointSpec] = {
    "ahu1/sat": PointSpec(key="sat", name="Supply Air Temp"),
    "ahu1/fan_status": PointSpec(key="fan_status", name="Fan Status", kind="bool"),
    "ahu1/sat_sp": PointSpec(key="sat_sp", name="SAT Setpoint", writable=True,
                             guard=GuardSpec(min=10, max=30, max_writes_per_minute=3)),
    "ahu1/heat_cmd": PointSpec(key="heat_cmd", name="Heating Valve", writable=True, guard=GuardSpec(interlock=INTERLOCK)),
    "ahu1/fan_cmd": PointSpec(key="fan_cmd", name="Fan Command", kind="bool", writable=True),
    "ahu1/mode": PointSpec(key="mode", name="Mode", kind="enum", writable=True, states=["off", "on", "auto"]),
    "ahu1/note": PointSpec(key="note", name="Note", kind="text", writable=True),
    "ahu1/slow": PointSpec(key="slow", name="Slow", writable=True, guard=GuardSpec(max_writes_per_minute=0.5)),
}
GOOD: Mapping[str, Value] = {"ahu1/fan_status": True, "ahu1/sat": 18.0}


@pytest.fixture
def guard() -> WriteGuard:
    return WriteGuard(POINTS)


def refusal(guard: WriteGuard, point: str, value: Value, now: float = 0.0, values: Mapping[str, Value] = GOOD) -> WriteRefused:
    with pytest.raises(WriteRefused) as caught:
        guard.check(point, value, now, values)
    assert caught.value.point_id == point
    return caught.value


def carried_out(guard: WriteGuard, point: str, value: Value, now: float) -> None:
    """A write that passes the guard and is carried out (then it counts toward the rate)."""
    guard.check(point, value, now, {})
    guard.accepted(point, now)


def test_within_limits_is_accepted(guard: WriteGuard) -> None:
    guard.check("ahu1/sat_sp", 18.5, 0.0, {})
    guard.check("ahu1/sat_sp", 10, 1.0, {})  # limits are inclusive
    guard.check("ahu1/sat_sp", 30.0, 2.0, {})


def test_max(guard: WriteGuard) -> None:
    err = refusal(guard, "ahu1/sat_sp", 45)
    assert err.guard == "max"
    assert err.reason == "value 45 above maximum 30 (guard max)"
    assert str(err) == "write to ahu1/sat_sp refused: value 45 above maximum 30 (guard max)"


def test_min(guard: WriteGuard) -> None:
    err = refusal(guard, "ahu1/sat_sp", 9.5)
    assert (err.guard, err.reason) == ("min", "value 9.5 below minimum 10 (guard min)")


def test_rate_within_the_window_then_allowed_after_it(guard: WriteGuard, clock: ManualClock) -> None:
    for _ in range(3):
        carried_out(guard, "ahu1/sat_sp", 20.0, clock.now())
        clock.advance(10)
    err = refusal(guard, "ahu1/sat_sp", 20.0, clock.now())  # 3 writes in the last 30 s
    assert err.guard == "rate"
    assert "next write allowed in 30 s" in err.reason
    clock.advance(29)
    refusal(guard, "ahu1/sat_sp", 20.0, clock.now())
    clock.advance(1)  # the first write leaves the 60 s window
    guard.check("ahu1/sat_sp", 20.0, clock.now(), {})


def test_refusals_do_not_use_the_rate_budget(guard: WriteGuard) -> None:
    for _ in range(10):
        assert refusal(guard, "ahu1/sat_sp", 99.0).guard == "max"
    for t in range(3):
        carried_out(guard, "ahu1/sat_sp", 20.0, float(t))
    assert refusal(guard, "ahu1/sat_sp", 20.0, 3.0).guard == "rate"


def test_a_checked_write_counts_only_once_carried_out(guard: WriteGuard) -> None:
    for t in range(5):
        guard.check("ahu1/sat_sp", 20.0, float(t), {})  # e.g. the override could not be persisted
    carried_out(guard, "ahu1/sat_sp", 20.0, 5.0)


def test_counted_writes_restored_keep_the_window_across_a_restart(clock: ManualClock) -> None:
    first = WriteGuard(POINTS)
    for _ in range(3):
        carried_out(first, "ahu1/sat_sp", 20.0, clock.now())
        clock.advance(1)
    again = WriteGuard(POINTS)  # a restart
    again.restore({"ahu1/sat_sp": [clock.now() - 3, clock.now() - 2, clock.now() - 1], "ahu1/note": [1.0]})
    assert refusal(again, "ahu1/sat_sp", 20.0, clock.now()).guard == "rate"


def test_fractional_rate_widens_the_window(guard: WriteGuard, clock: ManualClock) -> None:
    carried_out(guard, "ahu1/slow", 1.0, clock.now())  # 0.5 per minute: one write per 120 s
    clock.advance(119)
    assert refusal(guard, "ahu1/slow", 1.0, clock.now()).guard == "rate"
    clock.advance(1)
    guard.check("ahu1/slow", 1.0, clock.now(), {})


def test_interlock_true_permits(guard: WriteGuard) -> None:
    guard.check("ahu1/heat_cmd", 50.0, 0.0, GOOD)


@pytest.mark.parametrize("values", [
    {"ahu1/fan_status": False, "ahu1/sat": 18.0},
    {"ahu1/fan_status": True, "ahu1/sat": 31.0},
])
def test_interlock_false_refuses(guard: WriteGuard, values: Mapping[str, Value]) -> None:
    err = refusal(guard, "ahu1/heat_cmd", 50.0, values=values)
    assert err.guard == "interlock"
    assert INTERLOCK in err.reason and "is false" in err.reason


@pytest.mark.parametrize("values", [{"ahu1/fan_status": True}, {"ahu1/fan_status": True, "ahu1/sat": None}])
def test_interlock_with_a_missing_value_refuses(guard: WriteGuard, values: Mapping[str, Value]) -> None:
    err = refusal(guard, "ahu1/heat_cmd", 50.0, values=values)
    assert err.guard == "interlock"
    assert "ahu1/sat, which has no current value" in err.reason


def test_not_writable_and_unknown(guard: WriteGuard) -> None:
    err = refusal(guard, "ahu1/sat", 12.0)
    assert (err.guard, err.reason) == ("not-writable", "the point is read-only (guard not-writable)")
    with pytest.raises(NotFound, match="ahu1/nope"):
        guard.check("ahu1/nope", 1.0, 0.0, {})


@pytest.mark.parametrize(("point", "value"), [
    ("ahu1/sat_sp", "warm"), ("ahu1/sat_sp", True), ("ahu1/sat_sp", float("nan")),
    ("ahu1/fan_cmd", 2), ("ahu1/fan_cmd", "on"),
    ("ahu1/mode", "boost"), ("ahu1/mode", 4), ("ahu1/mode", 1.5), ("ahu1/mode", 0),
    ("ahu1/note", 3.0),
])
def test_wrong_type_is_refused(guard: WriteGuard, point: str, value: Value) -> None:
    err = refusal(guard, point, value)
    assert err.guard == "type" and err.reason.endswith("(guard type)")


@pytest.mark.parametrize(("point", "value"), [
    ("ahu1/fan_cmd", True), ("ahu1/fan_cmd", 0), ("ahu1/mode", "auto"), ("ahu1/mode", 3), ("ahu1/note", "hello"),
])
def test_right_type_is_accepted(guard: WriteGuard, point: str, value: Value) -> None:
    guard.check(point, value, 0.0, {})


def test_relinquish_is_always_allowed_on_a_writable_point(guard: WriteGuard) -> None:
    guard.check("ahu1/heat_cmd", None, 0.0, {})  # interlock would refuse a value
    assert refusal(guard, "ahu1/sat", None).guard == "not-writable"


def test_bad_guards_are_config_errors_collected_and_named() -> None:
    points = {
        **POINTS,
        "x/a": PointSpec(key="a", name="A", writable=True, guard=GuardSpec(interlock="__import__('os').system('x')")),
        "x/b": PointSpec(key="b", name="B", writable=True, guard=GuardSpec(interlock="ahu1/sat < 30 and ahu9/oat > 2")),
        "x/c": PointSpec(key="c", name="C", writable=True, guard=GuardSpec(max_writes_per_minute=0)),
    }
    with pytest.raises(ConfigError) as caught:
        WriteGuard(points)
    problems = caught.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("x/a: guard.interlock: \"__import__('os').system('x')\": Call is not allowed")
    assert problems[1] == "x/b: guard.interlock: 'ahu1/sat < 30 and ahu9/oat > 2': unknown point 'ahu9/oat'"
    assert problems[2] == "x/c: guard.max_writes_per_minute: must be above 0, got 0"


def test_interlock_reads_the_point_table_and_distrusts_faulted_points(guard: WriteGuard) -> None:
    table = PointTable.from_specs(POINTS)
    table.apply([Sample("ahu1/fan_status", True, 1.0), Sample("ahu1/sat", 18.0, 1.0)])
    guard.check("ahu1/heat_cmd", 40.0, 1.0, table.current)
    table.apply([Sample("ahu1/sat", None, 2.0, fault="timeout")])
    err = refusal(guard, "ahu1/heat_cmd", 40.0, values=table.current)
    assert "ahu1/sat, which has no current value" in err.reason
