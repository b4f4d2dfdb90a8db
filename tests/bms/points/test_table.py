"""PointTable: COV filtering, faults, staleness, flags, lookups and memory."""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from bms.config import PointSpec
from bms.errors import NotFound
from bms.messages import PointValue, Readings, Sample, SampleBatch, StatusChanged, Value
from bms.points import PointTable


@pytest.fixture
def table() -> PointTable:
    points = PointTable()
    points.add("ahu1/sat", "number", cov_increment=0.5, stale_after=60)
    points.add("ahu1/fan", "bool")
    points.add("ahu1/mode", "enum", cov_increment=5.0)  # an increment means nothing for enums
    points.add("ahu1/note", "text")
    points.add("meter1/kw", "number")  # no increment: any change
    return points


def published(table: PointTable, *samples: Sample) -> list[Value]:
    values, _ = table.apply(samples)
    return [v.value for v in values]


@pytest.mark.parametrize(("point", "sequence", "expected"), [
    ("ahu1/sat", [20.0, 20.2, 20.4, 20.5, 20.6, 21.0], [20.0, 20.5, 21.0]),  # against the last published
    ("ahu1/sat", [20.0, 19.6, 19.5, 19.9], [20.0, 19.5]),
    ("ahu1/sat", [20.0, 20.0, 20.0], [20.0]),
    ("ahu1/sat", [20.0, None, None, 20.1], [20.0, None, 20.1]),
    ("ahu1/sat", [20.0, float("nan"), 20.1], [20.0, "nan", 20.1]),
    ("ahu1/fan", [False, False, True, True, False], [False, True, False]),
    ("ahu1/mode", [1, 2, 2, 3], [1, 2, 3]),
    ("ahu1/note", ["a", "a", "b"], ["a", "b"]),
    ("meter1/kw", [1.0, 1.0, 1.001, 1.001], [1.0, 1.001]),
])
def test_cov_filtering(table: PointTable, point: str, sequence: list[Value], expected: list[Value]) -> None:
    out: list[Value] = []
    for ts, value in enumerate(sequence, start=1):
        out += published(table, Sample(point, value, float(ts)))
    shown = ["nan" if isinstance(v, float) and v != v else v for v in out]
    assert shown == expected


def test_the_latest_reading_is_current_even_when_not_published(table: PointTable) -> None:
    table.apply([Sample("ahu1/sat", 20.0, 1.0)])
    assert published(table, Sample("ahu1/sat", 20.3, 2.0)) == []
    assert table.get("ahu1/sat") == PointValue("ahu1/sat", 20.3, 2.0)


def test_a_batch_publishes_in_order(table: PointTable) -> None:
    values, statuses = table.apply([
        Sample("ahu1/sat", 20.0, 1.0), Sample("ahu1/fan", True, 1.0), Sample("ahu1/sat", 20.1, 2.0),
    ])
    assert values == [PointValue("ahu1/sat", 20.0, 1.0), PointValue("ahu1/fan", True, 1.0)]
    assert statuses == []


def test_fault_keeps_the_value_and_a_good_sample_clears_it(table: PointTable) -> None:
    table.apply([Sample("ahu1/sat", 20.0, 1.0)])
    values, statuses = table.apply([Sample("ahu1/sat", None, 2.0, fault="unknown-object")])
    assert values == []
    assert statuses == [StatusChanged("ahu1/sat", ("fault",), 2.0, "unknown-object")]
    assert table.get("ahu1/sat") == PointValue("ahu1/sat", 20.0, 1.0, ("fault",))
    assert table.reason("ahu1/sat") == "unknown-object"
    assert table.apply([Sample("ahu1/sat", None, 3.0, fault="unknown-object")]) == ([], [])  # no repeat
    _, statuses = table.apply([Sample("ahu1/sat", None, 4.0, fault="timeout")])
    assert statuses == [StatusChanged("ahu1/sat", ("fault",), 4.0, "timeout")]  # a new reason is news
    values, statuses = table.apply([Sample("ahu1/sat", 20.1, 5.0)])  # within COV, yet published
    assert values == [PointValue("ahu1/sat", 20.1, 5.0)]
    assert statuses == [StatusChanged("ahu1/sat", (), 5.0, "fault cleared")]
    assert table.reason("ahu1/sat") == ""


def test_readings_in_columns_are_taken_as_the_same_good_samples() -> None:
    """A bridge's Readings (columns) give exactly what the same values as Samples give: COV, order, fault clearing."""
    def fresh() -> PointTable:
        points = PointTable()
        points.add("ahu1/sat", "number", cov_increment=0.5)
        points.add("ahu1/fan", "bool")
        points.add("meter1/kw", "number")
        return points

    batches = [
        (1.0, {"ahu1/sat": 20.0, "ahu1/fan": False, "meter1/kw": 5.0}),
        (2.0, {"ahu1/sat": 20.2, "ahu1/fan": True, "meter1/kw": 5.0, "ghost/x": 1.0}),  # within COV; unknown
        (1.5, {"meter1/kw": 9.0}),  # older than the current value
        (3.0, {"ahu1/sat": 21.0, "meter1/kw": 6.5}),
    ]
    by_samples, by_columns = fresh(), fresh()
    by_samples.apply([Sample("meter1/kw", None, 0.5, fault="exception 4 (device failure)")])
    by_columns.apply([Sample("meter1/kw", None, 0.5, fault="exception 4 (device failure)")])
    for ts, values in batches:
        want = by_samples.apply([Sample(pid, v, ts) for pid, v in values.items()])
        got = by_columns.apply((), [Readings(tuple(values), tuple(values.values()), ts)])
        assert got == want
    assert (by_columns.ignored_unknown, by_columns.ignored_old) == (by_samples.ignored_unknown, by_samples.ignored_old) == (1, 1)
    assert by_columns.get("meter1/kw") == PointValue("meter1/kw", 6.5, 3.0)  # the fault cleared by a column


def test_a_batch_counts_and_expands_its_columns() -> None:
    batch = SampleBatch("modbus.x", (Sample("m/a", None, 1.0, fault="timeout"),),
                        (Readings(("m/b", "m/c"), (1.5, 7), 1.0),))
    assert batch.size == 3
    assert batch.all_samples() == [Sample("m/b", 1.5, 1.0), Sample("m/c", 7, 1.0), Sample("m/a", None, 1.0, "timeout")]
    assert SampleBatch("bacnet.x", (Sample("b/a", 1.0, 2.0),)).size == 1


def test_fault_before_any_value(table: PointTable) -> None:
    values, statuses = table.apply([Sample("meter1/kw", None, 1.0, fault="illegal data address")])
    assert values == [] and statuses[0].flags == ("fault",)
    assert table.get("meter1/kw") == PointValue("meter1/kw", None, 0.0, ("fault",))


def test_stale_after_silence_and_cleared_by_a_sample(table: PointTable) -> None:
    assert table.mark_stale(1000.0) == []  # never heard from: counts from now
    assert table.mark_stale(1060.0) == []
    statuses = table.mark_stale(1061.0)
    assert [(s.point_id, s.flags) for s in statuses] == [("ahu1/sat", ("stale",))]
    assert "stale after 60 s" in statuses[0].reason
    assert table.mark_stale(2000.0) == []  # reported once
    table.apply([Sample("ahu1/sat", 20.0, 2001.0)])
    assert table.mark_stale(2061.0) == []
    statuses = table.mark_stale(2061.5)
    assert len(statuses) == 1
    values, statuses = table.apply([Sample("ahu1/sat", 20.0, 2100.0)])  # same value, still published
    assert values == [PointValue("ahu1/sat", 20.0, 2100.0)]
    assert statuses == [StatusChanged("ahu1/sat", (), 2100.0, "updated again")]


def test_set_flag_down_overridden_disabled(table: PointTable) -> None:
    change = table.set_flag("ahu1/sat", "down", True, "no answer", ts=5.0)
    assert change == StatusChanged("ahu1/sat", ("down",), 5.0, "no answer")
    assert table.set_flag("ahu1/sat", "down", True, ts=6.0) is None
    table.set_flag("ahu1/sat", "overridden", True, ts=6.0)
    assert table.get("ahu1/sat").flags == ("overridden", "down")  # in STATUS_FLAGS order
    values, _ = table.apply([Sample("ahu1/sat", 20.0, 7.0)])
    assert values[0].flags == ("overridden", "down")  # status flags travel with values
    changes = table.set_flags(table.ids("ahu1/"), "down", False, "recovered", ts=8.0)
    assert [c.point_id for c in changes] == ["ahu1/sat"]
    with pytest.raises(ValueError, match="unknown status flag"):
        table.set_flag("ahu1/sat", "broken", True, ts=9.0)
    with pytest.raises(NotFound):
        table.set_flag("ahu1/nope", "down", True, ts=9.0)


def test_unknown_and_old_samples_are_counted_and_ignored(table: PointTable) -> None:
    values, statuses = table.apply([Sample("ghost/x", 1.0, 1.0), Sample("ahu1/sat", 20.0, 5.0), Sample("ahu1/sat", 25.0, 4.0)])
    assert [v.value for v in values] == [20.0] and statuses == []
    assert (table.ignored_unknown, table.ignored_old) == (1, 1)


def test_lookups(table: PointTable) -> None:
    table.apply([Sample("ahu1/sat", 20.0, 1.0), Sample("meter1/kw", 3.0, 1.0)])
    assert table.ids("ahu1/") == ["ahu1/fan", "ahu1/mode", "ahu1/note", "ahu1/sat"]
    assert [v.point_id for v in table.with_prefix("meter1/")] == ["meter1/kw"]
    assert [v.point_id for v in table.values_of(["meter1/kw", "ghost/x", "ahu1/sat"])] == ["meter1/kw", "ahu1/sat"]
    assert [v.point_id for v in table.snapshot()] == ["ahu1/sat", "ahu1/fan", "ahu1/mode", "ahu1/note", "meter1/kw"]
    with pytest.raises(NotFound, match="ghost/x"):
        table.get("ghost/x")
    table.remove("ahu1/note")
    table.add("ahu1/zz")
    assert table.ids("ahu1/") == ["ahu1/fan", "ahu1/mode", "ahu1/sat", "ahu1/zz"]
    assert len(table) == 5 and "ahu1/zz" in table


def test_current_values_hide_unreliable_points(table: PointTable) -> None:
    table.apply([Sample("ahu1/sat", 20.0, 1.0), Sample("meter1/kw", 3.0, 1.0), Sample("ahu1/fan", True, 1.0)])
    table.apply([Sample("meter1/kw", None, 2.0, fault="timeout")])
    table.set_flag("ahu1/fan", "down", True, ts=2.0)
    current = table.current
    assert current["ahu1/sat"] == 20.0
    assert current["meter1/kw"] is None and current["ahu1/fan"] is None
    assert current.get("ghost/x") is None and len(current) == 5


IN_ALARM = ("in-alarm", "out-of-service")


def test_device_status_flags_are_kept_apart_from_ours(table: PointTable) -> None:
    """A device's in-alarm is not our alarm: the point shows it beside its own flags, and says when it changes."""
    values, statuses = table.apply([Sample("ahu1/sat", 12.0, 1.0, device_flags=IN_ALARM)])
    assert values == [PointValue("ahu1/sat", 12.0, 1.0)]  # our flags: none
    assert statuses == [StatusChanged("ahu1/sat", (), 1.0, "device flags: in-alarm, out-of-service", IN_ALARM)]
    assert (table.get("ahu1/sat").flags, table.device_flags("ahu1/sat")) == ((), IN_ALARM)
    assert table.apply([Sample("ahu1/sat", 12.1, 2.0, device_flags=IN_ALARM)]) == ([], [])  # no news
    _, statuses = table.apply([Sample("ahu1/sat", None, 3.0, fault="no answer")])  # a failed read says nothing of them
    assert statuses == [StatusChanged("ahu1/sat", ("fault",), 3.0, "no answer", IN_ALARM)]
    assert table.device_flags("ahu1/sat") == IN_ALARM
    values, statuses = table.apply([Sample("ahu1/sat", 15.0, 4.0)])  # good again, flags cleared on the device
    assert [v.value for v in values] == [15.0]
    assert statuses == [StatusChanged("ahu1/sat", (), 4.0, "fault cleared", IN_ALARM),
                        StatusChanged("ahu1/sat", (), 4.0, "device flags: none")]
    assert table.device_flags("ahu1/sat") == ()
    change = table.set_flag("ahu1/sat", "down", True, "no answer", ts=5.0)
    assert change == StatusChanged("ahu1/sat", ("down",), 5.0, "no answer")
    table.apply([Sample("ahu1/fan", True, 6.0, device_flags=("overridden",))])
    assert table.set_flag("ahu1/fan", "alarm", True, "high", ts=7.0) == StatusChanged(
        "ahu1/fan", ("alarm",), 7.0, "high", ("overridden",))  # every status change carries the device's flags


def test_readings_carry_no_device_flags_and_leave_them_as_they_are(table: PointTable) -> None:
    table.apply([Sample("meter1/kw", 1.0, 1.0, device_flags=("fault",))])
    values, statuses = table.apply([], [Readings(("meter1/kw",), (2.0,), 2.0)])
    assert [v.value for v in values] == [2.0] and statuses == []
    assert table.device_flags("meter1/kw") == ("fault",)


def test_readings_with_a_flags_column_set_the_device_flags_as_samples_do(table: PointTable) -> None:
    """A BACnet poll's columns: values, and beside them the device's flags of each point."""
    values, statuses = table.apply([], [Readings(("ahu1/sat", "ahu1/fan"), (12.0, True), 1.0, (IN_ALARM, ()))])
    assert [(v.point_id, v.value, v.flags) for v in values] == [("ahu1/sat", 12.0, ()), ("ahu1/fan", True, ())]
    assert statuses == [StatusChanged("ahu1/sat", (), 1.0, "device flags: in-alarm, out-of-service", IN_ALARM)]
    assert table.apply([], [Readings(("ahu1/sat", "ahu1/fan"), (12.0, True), 2.0, (IN_ALARM, ()))]) == ([], [])
    _, statuses = table.apply([], [Readings(("ahu1/sat",), (12.0,), 3.0, ((),))])  # cleared on the device
    assert statuses == [StatusChanged("ahu1/sat", (), 3.0, "device flags: none")]
    assert table.device_flags("ahu1/sat") == () and table.device_flags("ahu1/fan") == ()
    batch = SampleBatch("bacnet.lan", readings=(Readings(("ahu1/sat",), (13.0,), 4.0, (IN_ALARM,)),))
    assert batch.all_samples() == [Sample("ahu1/sat", 13.0, 4.0, device_flags=IN_ALARM)]


def test_from_specs_and_re_adding_keeps_the_value() -> None:
    table = PointTable.from_specs({"d/t": PointSpec(key="t", name="T", cov_increment=1.0, stale_after=30)})
    table.apply([Sample("d/t", 20.0, 1.0)])
    assert published(table, Sample("d/t", 20.5, 2.0)) == []
    table.add("d/t", "number", cov_increment=0.1, stale_after=None)
    assert published(table, Sample("d/t", 20.6, 3.0)) == [20.6]
    assert table.mark_stale(1e9) == []  # no longer watched


def test_100k_points_stay_small() -> None:
    """A sanity bound on memory, not a benchmark (see bench/ for figures)."""
    gc.collect()
    tracemalloc.start()
    try:
        table = PointTable()
        for i in range(100_000):
            table.add(f"dev{i // 50}/point{i % 50}", "number", 0.1, 300.0)
        table.apply([Sample(f"dev{i // 50}/point{i % 50}", float(i), 1.0) for i in range(0, 100_000, 7)])
        used, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(table) == 100_000
    assert used < 60_000_000, f"{used / 1e6:.1f} MB for 100k points"
