"""Stores on a real full file system: Degraded with the reason, nothing accepted lost, back when space returns.

The data directory is a 4 MiB tmpfs mounted for the test; a filler file
takes the rest of it, as a log or a backup would on an edge box.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from actors import ChildSpec, Context, make_context
from actors.components.history import HistoryStore
from actors.components.nodes import ModelStore
from actors.components.points import PointStore
from bms.clock import ManualClock
from bms.config import load_scenario
from bms.errors import Unavailable
from bms.history import HistoryReader
from bms.messages import GetPoint, PointValue, ValueChanged, WritePoint
from tests.conftest import ROOT, fill, wait_until

T0 = 1_700_000_000.0
SITE = ROOT / "tests/data/site.toml"


@pytest.fixture
def outage_ctx(small_fs: Path) -> Iterator[tuple[Context, ManualClock, Path]]:
    clock = ManualClock(T0)
    ctx = make_context(clock, small_fs)
    try:
        yield ctx, clock, small_fs
    finally:
        ctx.supervisor.stop_all(timeout=5)


def state(ctx: Context) -> tuple[str, str]:
    found = ctx.health.get("history")
    assert found is not None
    return found.state, found.reason


def test_a_full_disk_degrades_history_holds_values_and_it_catches_up_with_no_gap(
        outage_ctx: tuple[Context, ManualClock, Path]) -> None:
    ctx, clock, data = outage_ctx
    assert ctx.supervisor.start_child(ChildSpec("nodes", ModelStore, {"site": load_scenario(SITE)})) is not None
    assert ctx.supervisor.start_child(ChildSpec("history", HistoryStore, {"backlog_max_values": 100_000})) is not None
    history = ctx.registry.get("history").proxy()

    def publish(start: int, n: int) -> None:
        ctx.registry.publish(ValueChanged(values=tuple(
            PointValue("room1/temp", 20.0 + i / 1000, T0 + i) for i in range(start, start + n))))

    publish(0, 100)
    wait_until(lambda: history.stored.get() == 100, what="the first values stored")
    fill(data / "backup.tar")
    for start in range(100, 20_100, 1_000):  # 20,000 values while the disk is full
        publish(start, 1_000)
    wait_until(lambda: state(ctx)[0] == "Degraded", what="history Degraded")
    assert "full" in state(ctx)[1] and "holding" in state(ctx)[1]
    clock.advance(5.0)  # retries on its ticks; still full
    wait_until(lambda: "holding 20000 values" in state(ctx)[1], what="all 20,000 values held")

    (data / "backup.tar").unlink()  # the operator frees space
    clock.advance(1.0)
    wait_until(lambda: state(ctx)[0] == "Healthy", what="history Healthy again")
    assert state(ctx)[1].startswith("caught up: 20000 values held during a")
    health = ctx.health.get("history")
    assert health is not None and health.lost == 0
    with HistoryReader(data / "history.db") as reader:
        got = reader.raw("room1/temp", T0, T0 + 30_000)
    assert [round((s.value - 20.0) * 1000) for s in got] == list(range(20_100))  # no gap, in order


def test_a_full_disk_refuses_commands_with_503_changes_nothing_and_points_stays_up(
        outage_ctx: tuple[Context, ManualClock, Path]) -> None:
    ctx, clock, data = outage_ctx
    assert ctx.supervisor.start_child(ChildSpec("nodes", ModelStore, {"site": load_scenario(SITE)})) is not None
    points = ctx.supervisor.start_child(ChildSpec("points", PointStore))
    assert points is not None
    points.ask(WritePoint(point_id="room1/sp", value=22.0, priority=8), timeout=5)
    fill(data / "backup.tar")
    with pytest.raises(Unavailable, match=r"nothing changed: .*full"):
        points.ask(WritePoint(point_id="room1/sp", value=26.0, priority=7), timeout=5)
    health = ctx.health.get("points")
    assert health is not None and health.state == "Degraded" and "full" in health.reason and health.restarts == 0
    assert points.ask(GetPoint(point_id="room1/sp"), timeout=5).value == 22.0
    (data / "backup.tar").unlink()
    points.ask(WritePoint(point_id="room1/sp", value=24.0, priority=7), timeout=5)
    assert points.ask(GetPoint(point_id="room1/sp"), timeout=5).value == 24.0
    health = ctx.health.get("points")
    assert health is not None and health.state == "Healthy"
