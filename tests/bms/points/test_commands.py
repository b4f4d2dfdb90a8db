"""CommandTable: writes, timed overrides expiring on a manual clock, snapshot/restore."""

from __future__ import annotations

import pytest

from bms.clock import ManualClock
from bms.errors import NotFound, WriteRefused
from bms.points import CommandTable, Override


@pytest.fixture
def table(clock: ManualClock) -> CommandTable:
    commands = CommandTable(clock)
    commands.add("ahu1/sat_sp", relinquish_default=13.0)
    commands.add("ahu1/fan_cmd", relinquish_default=False)
    return commands


def test_write_reports_whether_the_effective_value_changed(table: CommandTable, clock: ManualClock) -> None:
    first = table.write("ahu1/sat_sp", 14.0, priority=8, user="ops")
    assert (first.effective, first.active_priority, first.changed) == (14.0, 8, True)
    assert first.override == Override(point_id="ahu1/sat_sp", priority=8, value=14.0, user="ops", written_at=clock.now())
    lower = table.write("ahu1/sat_sp", 16.0, priority=16)
    assert (lower.effective, lower.active_priority, lower.changed) == (14.0, 8, False)
    same = table.write("ahu1/sat_sp", 14.0, priority=8)
    assert not same.changed
    gone = table.relinquish("ahu1/sat_sp", 8)
    assert (gone.effective, gone.active_priority, gone.changed, gone.override) == (16.0, 16, True, None)


def test_timed_override_expires_and_the_next_level_takes_over(table: CommandTable, clock: ManualClock) -> None:
    table.write("ahu1/sat_sp", 15.0, priority=10)
    start = clock.now()
    done = table.write("ahu1/sat_sp", 18.0, priority=8, duration=900, user="ops")
    assert done.expires_at == start + 900
    assert table.next_expiry() == start + 900
    clock.advance(899)
    assert table.expire() == []
    assert table.effective("ahu1/sat_sp") == 18.0
    clock.advance(1)
    assert table.expire() == ["ahu1/sat_sp"]
    assert table.effective("ahu1/sat_sp") == 15.0
    assert table.active_priority("ahu1/sat_sp") == 10
    assert table.next_expiry() is None
    view = table.view("ahu1/sat_sp")
    assert view.levels[7] is None and view.expires[7] is None and view.users[7] == ""


def test_expiry_masked_by_a_higher_level_reports_no_change(table: CommandTable, clock: ManualClock) -> None:
    table.write("ahu1/sat_sp", 12.0, priority=3)
    table.write("ahu1/sat_sp", 18.0, priority=8, duration=60)
    clock.advance(60)
    assert table.expire() == []
    assert table.array("ahu1/sat_sp").value_at(8) is None
    assert table.effective("ahu1/sat_sp") == 12.0


def test_rewrite_or_relinquish_cancels_the_pending_expiry(table: CommandTable, clock: ManualClock) -> None:
    table.write("ahu1/fan_cmd", True, priority=8, duration=60)
    table.write("ahu1/fan_cmd", True, priority=8)  # now permanent
    table.write("ahu1/sat_sp", 20.0, priority=8, duration=30)
    table.relinquish("ahu1/sat_sp", 8)
    assert table.next_expiry() is None
    clock.advance(120)
    assert table.expire() == []
    assert table.effective("ahu1/fan_cmd") is True


def test_several_points_expire_in_one_call(table: CommandTable, clock: ManualClock) -> None:
    table.write("ahu1/sat_sp", 18.0, duration=10)
    table.write("ahu1/fan_cmd", True, duration=20)
    assert table.next_expiry() == clock.now() + 10
    clock.advance(25)
    assert sorted(table.expire()) == ["ahu1/fan_cmd", "ahu1/sat_sp"]
    assert table.effective("ahu1/fan_cmd") is False


@pytest.mark.parametrize(("point", "priority", "duration", "guard"), [
    ("ahu1/sat", 8, None, "not-writable"),
    ("ahu1/sat_sp", 0, None, "priority"),
    ("ahu1/sat_sp", 17, None, "priority"),
    ("ahu1/sat_sp", 8, 0.0, "duration"),
    ("ahu1/sat_sp", 8, -5.0, "duration"),
    ("ahu1/sat_sp", 8, float("inf"), "duration"),
])
def test_bad_writes_are_refused_and_change_nothing(
    table: CommandTable, point: str, priority: int, duration: float | None, guard: str
) -> None:
    with pytest.raises(WriteRefused) as caught:
        table.write(point, 20.0, priority=priority, duration=duration)
    assert caught.value.guard == guard
    assert table.snapshot() == []


def test_view_shows_levels_expiry_and_users(table: CommandTable, clock: ManualClock) -> None:
    table.write("ahu1/sat_sp", 17.0, priority=8, duration=60, user="ann")
    view = table.view("ahu1/sat_sp")
    assert view.effective == 17.0 and view.active_priority == 8 and view.relinquish_default == 13.0
    assert view.expires[7] == clock.now() + 60 and view.users[7] == "ann"
    with pytest.raises(NotFound):
        table.view("ahu1/unknown")


def test_snapshot_and_restore_round_trip(table: CommandTable, clock: ManualClock) -> None:
    table.write("ahu1/sat_sp", 17.0, priority=8, duration=60, user="ann")
    table.write("ahu1/sat_sp", 19.0, priority=12)
    table.write("ahu1/fan_cmd", True, priority=1, user="bob")
    state = table.snapshot()
    assert [(o.point_id, o.priority) for o in state] == [("ahu1/sat_sp", 8), ("ahu1/sat_sp", 12), ("ahu1/fan_cmd", 1)]

    other = CommandTable(clock)
    other.add("ahu1/sat_sp", 13.0)
    other.add("ahu1/fan_cmd", False)
    stranger = Override(point_id="gone/x", priority=8, value=1.0)
    expired = Override(point_id="ahu1/sat_sp", priority=5, value=1.0, expires_at=clock.now() - 1)
    assert other.restore([*state, stranger, expired]) == [stranger, expired]
    assert other.snapshot() == state
    assert other.effective("ahu1/fan_cmd") is True
    clock.advance(60)
    assert other.expire() == ["ahu1/sat_sp"]
    assert other.effective("ahu1/sat_sp") == 19.0


def test_add_again_keeps_levels_and_remove_forgets(table: CommandTable) -> None:
    table.write("ahu1/sat_sp", 17.0)
    table.add("ahu1/sat_sp", relinquish_default=12.0)
    assert table.effective("ahu1/sat_sp") == 17.0
    assert table.array("ahu1/sat_sp").relinquish_default == 12.0
    table.remove("ahu1/sat_sp")
    assert "ahu1/sat_sp" not in table and len(table) == 1
