"""PriorityArray: BACnet priority semantics as a table of write/relinquish sequences."""

from __future__ import annotations

import pytest

from bms.errors import WriteRefused
from bms.messages import Value
from bms.points import PriorityArray

# (relinquish default, [(priority, value) ...; value None relinquishes], effective, active priority)
CASES: list[tuple[Value, list[tuple[int, Value]], Value, int | None]] = [
    (20.0, [], 20.0, None),  # nothing written: the relinquish default
    (None, [], None, None),  # no default either
    (20.0, [(8, 22.0)], 22.0, 8),
    (20.0, [(8, 22.0), (16, 18.0)], 22.0, 8),  # a lower level does not take over
    (20.0, [(8, 22.0), (1, 30.0)], 30.0, 1),  # a higher level does
    (20.0, [(8, 22.0), (8, 23.0)], 23.0, 8),  # same level: last write wins
    (20.0, [(8, 22.0), (1, 30.0), (1, None)], 22.0, 8),  # relinquish the top: next level in control
    (20.0, [(8, 22.0), (8, None)], 20.0, None),  # relinquish the only level: the default
    (20.0, [(5, None)], 20.0, None),  # relinquishing an empty level is harmless
    (20.0, [(16, 18.0), (3, 25.0), (3, None), (16, None)], 20.0, None),
    (False, [(8, True)], True, 8),  # booleans
    (False, [(8, False)], False, 8),  # a False level is still a level (not null)
    ("auto", [(10, "occupied"), (12, "unoccupied")], "occupied", 10),  # multi-state names
    (0.0, [(8, 0.0), (16, 5.0)], 0.0, 8),  # zero is a value, not a relinquish
]


@pytest.mark.parametrize(("default", "writes", "effective", "active"), CASES)
def test_effective_value(default: Value, writes: list[tuple[int, Value]], effective: Value, active: int | None) -> None:
    array = PriorityArray("ahu1/sat_sp", default)
    for priority, value in writes:
        array.write(priority, value)
    assert array.effective == effective
    assert type(array.effective) is type(effective)
    assert array.active_priority == active


def test_write_returns_the_effective_value_and_levels_are_sixteen() -> None:
    array = PriorityArray("p/x", 1.0)
    assert array.write(9, 5.0) == 5.0
    assert array.write(12, 7.0) == 5.0
    assert array.relinquish(9) == 7.0
    levels = array.levels()
    assert len(levels) == 16 and levels[11] == 7.0 and levels.count(None) == 15
    assert array.value_at(12) == 7.0


@pytest.mark.parametrize("priority", [0, 17, -1, True, 8.0, "8"])
def test_priority_outside_1_to_16_is_refused(priority: object) -> None:
    array = PriorityArray("ahu1/fan_cmd")
    with pytest.raises(WriteRefused) as caught:
        array.write(priority, 1.0)  # type: ignore[arg-type]
    assert caught.value.point_id == "ahu1/fan_cmd"
    assert caught.value.guard == "priority"
    assert "1..16" in str(caught.value)
    assert array.active_priority is None
