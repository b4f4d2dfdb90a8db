"""A command is applied only once it is durable: a refused one changes nothing, and rate windows survive restarts.

Real overrides.db files on a real file system (a small tmpfs) that the test
fills as a backup or a log would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bms.clock import ManualClock
from bms.config import GuardSpec, ModbusBinding, PointSpec
from bms.errors import StoreError, WriteRefused
from bms.messages import DeviceWrite, RelinquishPoint, WritePoint
from bms.points import LivePoints, OverrideStore, PointInfo
from tests.conftest import fill

T0 = 1_700_000_000.0
SP = PointInfo(point_id="ahu1/sat_sp", device="ahu1", protocol="modbus", spec=PointSpec(
    key="sat_sp", name="SAT setpoint", writable=True, relinquish_default=18.0,
    guard=GuardSpec(max_writes_per_minute=3), modbus=ModbusBinding(table="holding", address=1)))


class Disk:
    """overrides.db on a small file system of its own that can be filled and freed again."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store = OverrideStore(root / "overrides.db")

    def full(self, full: bool) -> None:
        if full:
            fill(self.root / "backup.tar")
        else:
            (self.root / "backup.tar").unlink()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def disk(small_fs: Path) -> Iterator[Disk]:
    made = Disk(small_fs)
    try:
        yield made
    finally:
        made.store.close()


def live(clock: ManualClock, disk: Disk) -> LivePoints:
    points = LivePoints(clock, disk.store)
    points.load([SP])
    return points


def device_values(out: list[Any]) -> list[object]:
    return [m.value for m in out if isinstance(m, DeviceWrite)]


def test_a_write_refused_by_a_full_disk_changes_nothing_then_or_later(clock: ManualClock, disk: Disk) -> None:
    points = live(clock, disk)
    points.write(WritePoint(point_id="ahu1/sat_sp", value=40.0, priority=9))
    disk.full(True)
    with pytest.raises(StoreError, match="full"):
        points.write(WritePoint(point_id="ahu1/sat_sp", value=42.0, priority=8))
    assert points.priority_array("ahu1/sat_sp").active_priority == 9  # memory untouched
    disk.full(False)
    points.write(WritePoint(point_id="ahu1/sat_sp", value=50.0, priority=7))
    _, out = points.relinquish(RelinquishPoint(point_id="ahu1/sat_sp", priority=7))
    assert device_values(out) == [40.0]  # the refused 42 never becomes effective
    again = live(clock, disk)  # a restart agrees with what ran before it
    assert again.priority_array("ahu1/sat_sp").active_priority == 9
    assert again.commands.effective("ahu1/sat_sp") == 40.0


def test_a_relinquish_and_an_expiry_wait_for_the_disk(clock: ManualClock, disk: Disk) -> None:
    points = live(clock, disk)
    points.write(WritePoint(point_id="ahu1/sat_sp", value=21.0, priority=8))
    points.write(WritePoint(point_id="ahu1/sat_sp", value=25.0, priority=5, duration=60))
    disk.full(True)
    with pytest.raises(StoreError):
        points.relinquish(RelinquishPoint(point_id="ahu1/sat_sp", priority=8))
    clock.advance(61)
    out = points.housekeeping()
    assert device_values(out) == [] and points.problem is not None and "full" in points.problem
    assert points.commands.effective("ahu1/sat_sp") == 25.0  # the expiry waits: memory and disk agree
    disk.full(False)
    out = points.housekeeping()
    assert device_values(out) == [21.0] and points.problem is None


def test_a_refused_write_does_not_use_the_rate_budget(clock: ManualClock, disk: Disk) -> None:
    points = live(clock, disk)
    disk.full(True)
    for _ in range(5):
        with pytest.raises(StoreError):
            points.write(WritePoint(point_id="ahu1/sat_sp", value=20.0, priority=8))
    disk.full(False)
    for _ in range(3):
        points.write(WritePoint(point_id="ahu1/sat_sp", value=20.0, priority=8))


def test_the_write_rate_window_survives_a_restart(clock: ManualClock, disk: Disk) -> None:
    points = live(clock, disk)
    for value in (20.0, 21.0, 22.0):
        points.write(WritePoint(point_id="ahu1/sat_sp", value=value, priority=8))
        clock.advance(1)
    restarted = live(clock, disk)  # e.g. after kill -9: the window comes back from overrides.db
    with pytest.raises(WriteRefused, match="guard rate"):
        restarted.write(WritePoint(point_id="ahu1/sat_sp", value=23.0, priority=8))
    clock.advance(60)
    restarted.write(WritePoint(point_id="ahu1/sat_sp", value=23.0, priority=8))


def test_the_device_write_carries_the_commands_own_id_and_our_own_writes_unique_ones(
        clock: ManualClock, disk: Disk) -> None:
    points = live(clock, disk)
    accepted, out = points.write(WritePoint(point_id="ahu1/sat_sp", value=20.0, priority=8, request_id="cli-7f3a"))
    assert accepted.request_id == "cli-7f3a"
    assert [m.request_id for m in out if isinstance(m, DeviceWrite)] == ["cli-7f3a"]
    again = live(clock, disk)  # a restart re-asserts the command: an id of its own, never one reused
    reasserted = [m.request_id for m in again.load([SP]) if isinstance(m, DeviceWrite)]
    assert len(reasserted) == 1 and reasserted[0] not in ("", "cli-7f3a", "1")


def test_a_device_back_up_is_sent_its_commands_again(clock: ManualClock, disk: Disk) -> None:
    points = live(clock, disk)
    points.write(WritePoint(point_id="ahu1/sat_sp", value=19.0, priority=8))
    assert device_values(points.device_down("ahu1", True, "no answer")) == []
    back = points.device_down("ahu1", False)
    assert device_values(back) == [19.0]  # re-asserted: the device may have restarted and forgotten it
    assert device_values(points.device_down("ahu1", False)) == []  # only on the way back up
