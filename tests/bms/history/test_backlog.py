"""The history backlog: order kept, bounded, losses counted with their span."""

from __future__ import annotations

import pytest

from bms.history import Backlog
from bms.messages import PointValue


def values(start: int, n: int) -> list[PointValue]:
    return [PointValue(f"p{i % 3}", float(i), float(i)) for i in range(start, start + n)]


def ts(found: list[PointValue]) -> list[float]:
    return [v.ts for v in found]


def test_values_come_back_oldest_first_across_batches_and_leave_once_written() -> None:
    backlog = Backlog(100)
    backlog.hold(values(0, 3))
    backlog.hold(values(3, 4))
    assert backlog.held == 7 and backlog
    assert ts(backlog.oldest(5)) == [0, 1, 2, 3, 4]
    backlog.written(2)
    assert ts(backlog.oldest(10)) == [2, 3, 4, 5, 6]
    backlog.written(5)
    assert not backlog and backlog.oldest(10) == [] and backlog.lost == 0


@pytest.mark.parametrize(("bound", "batches", "kept", "lost"), [
    (5, [3, 3], [1, 2, 3, 4, 5], 1),  # a part of the oldest batch goes
    (3, [3, 3], [3, 4, 5], 3),  # the whole oldest batch goes
    (4, [2, 2, 2, 2], [4, 5, 6, 7], 4),
    (2, [7], [5, 6], 5),  # one batch larger than the bound keeps its newest
])
def test_past_the_bound_the_oldest_are_dropped_and_counted(bound: int, batches: list[int], kept: list[int],
                                                           lost: int) -> None:
    backlog = Backlog(bound)
    start = dropped = 0
    for n in batches:
        dropped += backlog.hold(values(start, n))
        start += n
    assert ts(backlog.oldest(100)) == kept
    assert backlog.held == len(kept)
    assert dropped == backlog.lost == lost
    assert (backlog.lost_from, backlog.lost_to) == (0.0, float(lost - 1))


def test_writing_more_than_held_is_a_bug_said_at_once() -> None:
    backlog = Backlog(10)
    backlog.hold(values(0, 2))
    with pytest.raises(ValueError, match="3 values written but only 2 held"):
        backlog.written(3)
