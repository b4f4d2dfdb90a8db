"""IntervalLogger: a sample per point per interval boundary, on a manual clock."""

from __future__ import annotations

import pytest

from bms.clock import ManualClock
from bms.errors import ConfigError
from bms.history import IntervalLogger
from bms.messages import PointValue

START = 1_700_006_400.0 + 30.5  # half a minute past a whole minute


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def test_a_sample_at_each_boundary(clock: ManualClock) -> None:
    log = IntervalLogger(clock, {"ahu1/sat": 60.0})
    log.observe([PointValue("ahu1/sat", 13.5, START, ("overridden",)), PointValue("other/x", 1.0, START)])
    first = START - 30.5 + 60
    assert log.due(first - 0.001) == []
    assert log.due(first) == [PointValue("ahu1/sat", 13.5, first, ("overridden",))]
    assert log.due(first + 1) == []  # once per boundary
    log.observe([PointValue("ahu1/sat", 14.0, first + 10)])
    clock.set(first + 60.2)
    assert log.due() == [PointValue("ahu1/sat", 14.0, first + 60)]  # the clock's now


def test_late_ticks_record_only_the_latest_boundary(clock: ManualClock) -> None:
    log = IntervalLogger(clock, {"p/a": 60.0})
    log.observe([PointValue("p/a", 1.0, START)])
    assert [v.ts for v in log.due(START + 300)] == [START - 30.5 + 300]


def test_the_value_in_force_at_the_boundary_is_recorded(clock: ManualClock) -> None:
    log = IntervalLogger(clock, {"p/a": 60.0})
    boundary = START - 30.5 + 60
    log.observe([PointValue("p/a", 1.0, START), PointValue("p/a", 2.0, boundary + 0.5)])  # changed just after
    assert log.due(boundary + 1) == [PointValue("p/a", 1.0, boundary)]
    log.observe([PointValue("p/a", 0.5, START)])  # older than what is known: ignored
    assert log.due(boundary + 60) == [PointValue("p/a", 2.0, boundary + 60)]


def test_a_point_without_a_value_at_the_boundary_is_skipped(clock: ManualClock) -> None:
    log = IntervalLogger(clock, {"p/a": 60.0, "p/b": 60.0})
    boundary = START - 30.5 + 60
    log.observe([PointValue("p/b", "on", boundary + 2)])  # first value after the boundary
    assert log.due(boundary + 3) == []
    assert log.due(boundary + 60) == [PointValue("p/b", "on", boundary + 60)]


def test_intervals_can_change(clock: ManualClock) -> None:
    log = IntervalLogger(clock)
    log.set_interval("p/a", 900.0)
    log.observe([PointValue("p/a", 1.0, START)])
    log.set_interval("p/a", 300.0)  # keeps the known value
    assert log.intervals() == {"p/a": 300.0}
    assert log.due(START - 30.5 + 300) == [PointValue("p/a", 1.0, START - 30.5 + 300)]
    log.set_interval("p/a", None)
    assert log.intervals() == {} and log.due(START + 3600) == []


@pytest.mark.parametrize("bad", [0.0, -60.0, float("inf"), float("nan")])
def test_an_interval_must_be_positive(clock: ManualClock, bad: float) -> None:
    with pytest.raises(ConfigError, match=r"ahu1/sat: history\.interval must be a positive number"):
        IntervalLogger(clock, {"ahu1/sat": bad})
