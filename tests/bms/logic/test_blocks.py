"""Each block's behaviour as a table: values over clock steps -> outputs."""

from __future__ import annotations

import pytest

from bms.clock import ManualClock
from bms.logic import BLOCK_TYPES, Block, Program, Sandbox, compile_program
from tests.bms.logic.harness import outs, run_table


@pytest.mark.parametrize(
    ("op", "a", "b", "expected"),
    [
        ("add", 2.0, 3.0, 5.0),
        ("sub", 2.0, 3.0, -1.0),
        ("mul", 2.0, 3.0, 6.0),
        ("div", 3.0, 2.0, 1.5),
        ("min", 2.0, 3.0, 2.0),
        ("max", 2.0, 3.0, 3.0),
    ],
)
def test_math_binary(op: str, a: float, b: float, expected: float) -> None:
    assert outs(run_table("Math", {"op": op}, [(1, {"a": a, "b": b})])) == [expected]


def test_math_div_by_zero_holds_the_last_quotient_abs_and_clamp() -> None:
    assert outs(run_table("Math", {"op": "div"}, [(1, {"a": 6.0, "b": 3.0}), (1, {"b": 0.0}), (1, {"b": 1.0})])) == [
        2.0,
        2.0,
        6.0,
    ]
    assert outs(run_table("Math", {"op": "abs"}, [(1, {"a": -4.5}), (1, {"a": 3.0})])) == [4.5, 3.0]
    rows = run_table("Math", {"op": "clamp", "low": 0.0, "high": 10.0}, [(1, {"a": -1.0}), (1, {"a": 5.0}), (1, {"a": 11.0})])
    assert outs(rows) == [0.0, 5.0, 10.0]


def test_scale_maps_and_clamps_reversed_ranges() -> None:
    params = {"in_low": 10.0, "in_high": 25.0, "out_low": 16.0, "out_high": 12.0}
    rows = run_table("Scale", params, [(1, {"in": v}) for v in (5.0, 10.0, 17.5, 25.0, 30.0)])
    assert outs(rows) == [16.0, 16.0, 14.0, 12.0, 12.0]
    rows = run_table("Scale", {**params, "clamp": False}, [(1, {"in": 30.0})])
    assert outs(rows) == pytest.approx([10.666666])


def test_ramp_limit_is_per_second_of_clock_time_not_per_run() -> None:
    params = {"rate_up": 0.5, "rate_down": 1.0}
    # the same 10 s in one run or in ten: the same 5 units up
    one = run_table("RampLimit", params, [(1, {"in": 0.0}), (10, {"in": 100.0})])
    ten = run_table("RampLimit", params, [(1, {"in": 0.0})] + [(1, {"in": 100.0})] * 10)
    assert outs(one)[-1] == outs(ten)[-1] == 5.0
    down = run_table("RampLimit", params, [(1, {"in": 10.0}), (2, {"in": 0.0}), (100, {"in": 0.0})])
    assert outs(down) == [10.0, 8.0, 0.0]


@pytest.mark.parametrize(
    ("op", "table"),
    [
        ("and", [(False, False, False), (True, False, False), (True, True, True)]),
        ("or", [(False, False, False), (True, False, True), (False, True, True)]),
        ("xor", [(False, False, False), (True, False, True), (True, True, False)]),
    ],
)
def test_logic(op: str, table: list[tuple[bool, bool, bool]]) -> None:
    rows = run_table("Logic", {"op": op}, [(1, {"a": a, "b": b}) for a, b, _ in table])
    assert outs(rows) == [q for _, _, q in table]
    assert outs(run_table("Logic", {"op": "not"}, [(1, {"a": True}), (1, {"a": False})])) == [False, True]


@pytest.mark.parametrize(
    ("op", "values", "expected"),
    [
        # b = 20, hysteresis 2: gt turns on above 20 and stays on down to 18
        ("gt", [19.0, 21.0, 19.0, 18.5, 17.9, 19.0, 20.5], [False, True, True, True, False, False, True]),
        ("lt", [21.0, 19.0, 21.0, 22.5, 21.0], [False, True, True, False, False]),
        ("gte", [20.0, 18.0, 17.9], [True, True, False]),
        ("lte", [20.0, 22.0, 22.1], [True, True, False]),
        ("eq", [21.0, 22.0, 22.1, 18.0], [True, True, False, True]),
        ("neq", [21.0, 22.1, 17.0], [False, True, True]),
    ],
)
def test_compare_with_hysteresis(op: str, values: list[float], expected: list[bool]) -> None:
    rows = run_table("Compare", {"op": op, "hysteresis": 2.0, "setpoint": 20.0}, [(1, {"a": v}) for v in values])
    assert outs(rows) == expected


def test_compare_takes_b_from_its_input_when_wired() -> None:
    rows = run_table("Compare", {"op": "gt"}, [(1, {"a": 5.0, "b": 4.0}), (1, {"b": 6.0})])
    assert outs(rows) == [True, False]


def test_select_latch_one_shot() -> None:
    rows = run_table("Select", {}, [(1, {"sel": True, "if_true": 1.0, "if_false": 2.0}), (1, {"sel": False})])
    assert outs(rows) == [1.0, 2.0]
    steps = [
        (1, {"set": False, "reset": False}),
        (1, {"set": True}),
        (1, {"set": False}),
        (1, {"reset": True}),
        (1, {"set": True}),
    ]
    assert outs(run_table("Latch", {}, steps)) == [False, True, True, False, False]
    # a 10 s pulse on the rising edge, measured on the clock, not retriggered while on
    steps = [(1, {"in": False}), (1, {"in": True}), (4, {"in": False}), (1, {"in": True}), (4, {"in": True}), (1, {"in": True})]
    assert outs(run_table("OneShot", {"duration": 10.0}, steps)) == [False, True, True, True, True, False]


def test_delay_on_and_delay_off_really_wait_on_the_clock() -> None:
    steps = [(1, {"in": True}), (29, {"in": True}), (1, {"in": True}), (1, {"in": False}), (1, {"in": True})]
    assert outs(run_table("Timing", {"mode": "delay_on", "seconds": 30.0}, steps)) == [False, False, True, False, False]
    steps = [(1, {"in": False}), (1, {"in": True}), (1, {"in": False}), (59, {"in": False}), (1, {"in": False})]
    assert outs(run_table("Timing", {"mode": "delay_off", "seconds": 60.0}, steps)) == [False, True, True, True, False]


def test_moving_average_over_a_window_and_rate_of_change() -> None:
    steps = [(10, {"in": v}) for v in (1.0, 2.0, 3.0, 4.0, 5.0)]
    # a 25 s window holds the last three samples 10 s apart
    assert outs(run_table("Timing", {"mode": "average", "seconds": 25.0}, steps)) == [1.0, 1.5, 2.0, 3.0, 4.0]
    many = run_table("Timing", {"mode": "average", "seconds": 25.0}, [(10, {"in": float(i)}) for i in range(200)])
    assert outs(many)[-1] == 198.0  # the window's compaction keeps it right
    steps = [(1, {"in": 10.0}), (10, {"in": 15.0}), (5, {"in": 15.0})]
    assert outs(run_table("Timing", {"mode": "rate"}, steps)) == [0, 0.5, 0.0]


PID = {"kp": 2.0, "ki": 0.1, "sample_time": 5.0, "out_min": 0.0, "out_max": 100.0}


def test_pid_samples_at_its_sample_time() -> None:
    steps = [(1, {"pv": 22.0, "sp": 20.0})] + [(1, {})] * 5
    rows = outs(run_table("PID", PID, steps))
    # enabled from 0 (bumpless start), holds until 5 s have passed, then p + i = 4 + 0.1*2*5 + (0 - 4)
    assert rows == [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]


def test_pid_anti_windup_leaves_saturation_as_soon_as_the_error_reverses() -> None:
    steps = [(1, {"pv": 40.0, "sp": 20.0})] + [(5, {})] * 100 + [(5, {"pv": 19.0})]
    rows = outs(run_table("PID", PID, steps))
    assert rows[-2] == 100.0
    assert rows[-1] < 100.0  # no integral wound up behind the limit


def test_pid_bumpless_transfer_on_enable_and_reverse_action() -> None:
    steps = [(1, {"pv": 22.0, "sp": 20.0, "enable": False, "track": 37.0}), (5, {"enable": True}), (5, {})]
    rows = outs(run_table("PID", PID, steps))
    assert rows[0] == 37.0 and rows[1] == 37.0  # the first enabled output is the one before
    assert rows[2] == pytest.approx(37.0 + 0.1 * 2 * 5)
    heat = outs(run_table("PID", {**PID, "action": "reverse"}, [(1, {"pv": 18.0, "sp": 20.0}), (5, {})]))
    assert heat[1] > heat[0]


def test_sequence_stages_one_at_a_time_with_minimum_on_and_off_times() -> None:
    params = {"stages": 3, "min_on": 60.0, "min_off": 30.0}
    steps = [(1, {"demand": 100.0}), (1, {}), (1, {}), (10, {"demand": 0.0}), (60, {}), (1, {}), (1, {}), (10, {"demand": 40.0})]
    rows = run_table("Sequence", params, steps)
    assert outs(rows, "count") == [1, 2, 3, 3, 2, 1, 0, 0]
    assert [(r["out1"], r["out2"], r["out3"]) for r in rows][2] == (True, True, True)
    # stage 1 went off at the 7th run: it may come back only 30 s later
    later = run_table("Sequence", params, [*steps, (25, {}), (5, {})])
    assert outs(later, "count")[-2:] == [1, 2]


def test_sequence_respects_min_off_before_restaging() -> None:
    params = {"stages": 1, "min_on": 0.0, "min_off": 30.0}
    steps = [(1, {"demand": 100.0}), (1, {"demand": 0.0}), (1, {"demand": 100.0}), (28, {}), (1, {})]
    assert outs(run_table("Sequence", params, steps), "count") == [1, 0, 0, 0, 1]


def _program(blocks: list[Block], **kw: object) -> Program:
    return Program(name="p", interval=1.0, blocks=tuple(blocks), **kw)  # type: ignore[arg-type]


def test_point_io_constant_schedule_alarm_log_and_custom_script() -> None:
    text_blocks = [
        Block("sp", "ScheduleRead", {"schedule": "occupancy", "kind": "bool"}),
        Block("k", "Constant", {"value": 21.5}),
        Block("t", "PointRead", {"point": "z/temp"}),
        Block("hot", "Compare", {"op": "gt", "setpoint": 25.0}),
        Block("al", "AlarmTrigger", {"alarm": "z-hot", "severity": "high", "message": "zone too hot"}),
        Block("lg", "Log", {"message": "hot now"}),
        Block(
            "cs",
            "CustomScript",
            {
                "code": "y = x * 2\nstate.n = (state.n or 0) + 1\nn = state.n",
                "inputs": {"x": "number"},
                "outputs": {"y": "number", "n": "number"},
            },
        ),
        Block("w", "PointWrite", {"point": "z/sp", "priority": 9}),
        Block("vp", "VirtualPoint", {"point": "z/virtual"}),
    ]
    from bms.logic import Wire

    wires = (
        Wire("t.out", "hot.a"),
        Wire("hot.out", "al.in"),
        Wire("hot.out", "lg.in"),
        Wire("t.out", "cs.x"),
        Wire("k.out", "w.in"),
        Wire("sp.out", "w.enable"),
        Wire("cs.y", "vp.in"),
    )
    compiled = compile_program(_program(text_blocks, wires=wires))
    clock = ManualClock(0.0)
    box = Sandbox(compiled, clock)
    first = box.run({"z/temp": 26.0}, {"occupancy": True})
    assert first.ok, first.error
    assert [(w.point, w.value, w.priority) for w in first.writes] == [("z/sp", 21.5, 9), ("z/virtual", 52.0, 10)]
    assert [(a.alarm, a.active, a.severity) for a in first.alarms] == [("z-hot", True, "high")]
    assert [(lg.level, lg.text) for lg in first.logs] == [("info", "hot now true")]
    assert first.trace.outputs["cs.n"] == 1
    second = box.run({"z/temp": 20.0}, {"occupancy": False})
    assert [w.point for w in second.writes] == ["z/virtual"]  # the PointWrite is disabled by the schedule
    assert [(a.alarm, a.active) for a in second.alarms] == [("z-hot", False)]
    assert second.trace.outputs["cs.n"] == 2


def test_every_block_type_of_the_issue_is_in_the_library() -> None:
    assert set(BLOCK_TYPES) >= {
        "PointRead", "PointWrite", "VirtualPoint", "Constant", "Math", "Scale", "RampLimit", "Logic", "Compare", "Select",
        "Latch", "OneShot", "Timing", "PID", "Sequence", "ScheduleRead", "AlarmTrigger", "Log", "CustomScript",
    }  # fmt: skip
