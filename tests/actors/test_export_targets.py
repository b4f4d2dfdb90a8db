"""The export targets as actors against real servers on loopback: VictoriaMetrics and PostgreSQL.

Values are published through the registry as the point store publishes them;
retries move on a manual clock. A target that is down buffers on disk, says
so in its status and health, and catches up in order when it returns.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actors import ChildSpec, Context
from actors.components.export._board import ExportBoard
from actors.components.export._target import ExportTarget
from actors.components.export._targets import make_sink
from actors.components.nodes._store import ModelStore
from bms.clock import ManualClock
from bms.config import load_scenario
from bms.export import (
    Backoff,
    GetTargetStatus,
    InfluxTarget,
    ListTargets,
    PostgresTarget,
    StartBackfill,
    TagMap,
    TargetStatus,
)
from bms.export._rows import ExportRow
from bms.history import HistoryWriter
from bms.messages import PointValue, ValueChanged
from bms.supervision import Health
from tests.conftest import ROOT, wait_until
from tests.export_servers import PG_DSN, Victoria, need_victoria, pg_rows, pg_schema, victoria
from tests.notify_servers import free_port

SITE = ROOT / "tests/data/site.toml"
T0 = 1_700_000_000.0


def start(ctx: Context, target: Any, kind: str, model: bool = True) -> None:
    if model:
        assert ctx.supervisor.start_child(ChildSpec("nodes", ModelStore, kwargs={"site": load_scenario(SITE)}))
    assert ctx.supervisor.start_child(ChildSpec("export", ExportBoard))
    spec = ChildSpec(f"export:{target.name}", ExportTarget,
                     kwargs={"target": target, "kind": kind, "site": "test",
                             "make_sink": lambda t, tags: make_sink(kind, t, tags),
                             "backoff": Backoff(initial=1.0, factor=2.0, max_delay=4.0), "tick": 1.0})
    assert ctx.supervisor.start_child(spec) is not None


def status(ctx: Context, name: str) -> TargetStatus:
    found: TargetStatus = ctx.registry.get(f"export:{name}").ask(GetTargetStatus())
    return found


def publish(ctx: Context, n: int, start: int = 0, points: tuple[str, ...] = ("room1/temp", "room1/sp")) -> int:
    """``n`` batches of one value per point, one second apart; the number of samples."""
    for i in range(start, start + n):
        ctx.registry.publish(ValueChanged(values=tuple(
            PointValue(point_id=p, value=20.0 + i / 10, ts=T0 + i) for p in points)))
    return n * len(points)


def tick(ctx: Context, clock: ManualClock, seconds: float) -> None:
    assert clock.wait_for_waiters(1)
    clock.advance(seconds)


@pytest.fixture
def vm(tmp_path: Path) -> Iterator[Victoria]:
    with victoria(tmp_path / "vm") as server:
        yield server


def test_values_reach_victoriametrics_with_the_models_tags(ctx: Context, vm: Victoria) -> None:
    start(ctx, InfluxTarget(name="vm", url=vm.url), "influx")
    sent = publish(ctx, 20)
    found = vm.wait_samples(sent)
    assert found["room1/temp"] == [(T0 + i, pytest.approx(20.0 + i / 10)) for i in range(20)]
    (series,) = [s for s in vm.export() if s["metric"]["point"] == "room1/temp"]
    assert series["metric"] == {"__name__": "bms_value", "point": "room1/temp", "site": "test", "equip": "room1",
                                "name": "Room Temp", "unit": "°C", "markers": series["metric"]["markers"]}
    wait_until(lambda: status(ctx, "vm").sent == sent, what="the target to count what it sent")
    now = status(ctx, "vm")
    assert (now.state, now.buffered, now.reason) == ("live", 0, "")


def test_a_target_that_is_down_buffers_on_disk_and_catches_up_in_order_when_it_returns(
        ctx: Context, clock: ManualClock, tmp_path: Path) -> None:
    need_victoria()
    port = free_port()
    start(ctx, InfluxTarget(name="vm", url=f"http://127.0.0.1:{port}", batch=7), "influx", model=False)
    sent = publish(ctx, 30)
    wait_until(lambda: status(ctx, "vm").state == "error", what="the target to be in error")
    down = status(ctx, "vm")
    assert down.reason == "connection refused" and down.buffered == sent
    ctx.registry.get("export:vm").ask(GetTargetStatus())
    tick(ctx, clock, 1.0)  # the status is reported on the tick
    wait_until(lambda: (h := ctx.health.get("export:vm")) is not None and h.state == Health.DEGRADED.value,
               what="the target's health to say it is degraded")
    assert "connection refused" in ctx.health.get("export:vm").reason  # type: ignore[union-attr]
    sent += publish(ctx, 10, start=30)  # more while it is down: buffered, never dropped
    wait_until(lambda: status(ctx, "vm").buffered == sent, what="the new rows to be buffered")
    assert (tmp_path / "exports" / "vm.db").exists()

    server = Victoria(tmp_path / "vm", port=port)
    server.start()
    try:
        for _ in range(10):  # the retry comes when the backoff is over, on the clock
            if status(ctx, "vm").buffered == 0:
                break
            tick(ctx, clock, 4.0)
            wait_until(lambda: status(ctx, "vm").failures == 0 or status(ctx, "vm").buffered == 0, timeout=10,
                       what="the retry to happen")
        found = server.wait_samples(sent)
        assert found["room1/temp"] == [(T0 + i, pytest.approx(20.0 + i / 10)) for i in range(40)]
        assert found["room1/sp"] == [(T0 + i, pytest.approx(20.0 + i / 10)) for i in range(40)]
        wait_until(lambda: status(ctx, "vm").buffered == 0, what="the outbox to drain")
        assert status(ctx, "vm").state == "live"
    finally:
        server.stop()


def test_the_board_lists_every_target_with_its_state(ctx: Context, clock: ManualClock) -> None:
    start(ctx, InfluxTarget(name="nowhere", url=f"http://127.0.0.1:{free_port()}"), "influx", model=False)
    publish(ctx, 1)
    wait_until(lambda: status(ctx, "nowhere").state == "error", what="the error")
    tick(ctx, clock, 1.0)
    wait_until(lambda: [s.state for s in ctx.registry.get("export").ask(ListTargets())] == ["error"],
               what="the board to hear of it")


def history(data: Path, points: dict[str, int]) -> int:
    with HistoryWriter(data / "history.db") as writer:
        for p, n in points.items():
            writer.append(PointValue(point_id=p, value=float(i), ts=T0 - 86_400 + 60 * i) for i in range(n))
    return sum(points.values())


@pytest.fixture
def schema() -> Iterator[str]:
    with pg_schema() as name:
        yield name


def test_postgres_gets_live_rows_by_copy_and_a_batch_sent_twice_is_not_duplicated(schema: str, ctx: Context) -> None:
    if True:
        target = PostgresTarget(name="pg", dsn=PG_DSN, schema=schema, batch=50)
        start(ctx, target, "postgres")
        sent = publish(ctx, 30)
        wait_until(lambda: status(ctx, "pg").sent == sent, timeout=20, what="the rows to be written")
        rows = pg_rows(schema)
        assert len(rows) == sent
        assert rows[0] == ("room1/sp", T0, 20.0, None)

    # the daemon killed between a write and the outbox's ack sends that batch again: the table keeps one of each
    sink = make_sink("postgres", target, TagMap())
    try:
        again = [ExportRow("room1/temp", T0 + i, 20.0 + i / 10) for i in range(30)]
        sink.write([*again, ExportRow("room1/mode", T0, "occupied"), ExportRow("room1/on", T0, True)])
    finally:
        sink.close()
    rows = pg_rows(schema)
    assert len(rows) == sent + 2
    assert ("room1/mode", T0, None, "occupied") in rows and ("room1/on", T0, 1.0, None) in rows


def test_a_backfill_sends_history_once_and_never_duplicates(schema: str, ctx: Context) -> None:
    if True:
        total = history(ctx.data_dir, {"room1/temp": 700, "room1/sp": 300})
        start(ctx, PostgresTarget(name="pg", dsn=PG_DSN, schema=schema, batch=128), "postgres")
        progress = ctx.registry.get("export:pg").ask(StartBackfill(since=T0 - 2 * 86_400, until=T0))
        assert progress.total == total
        wait_until(lambda: (s := status(ctx, "pg")).backfill is not None and s.backfill.done, timeout=30,
                   what="the backfill to end")
        rows = pg_rows(schema)
        assert len(rows) == total
        assert [r[1] for r in rows if r[0] == "room1/sp"] == [T0 - 86_400 + 60 * i for i in range(300)]
        again = ctx.registry.get("export:pg").ask(StartBackfill(since=T0 - 2 * 86_400, until=T0))
        assert again.total == total
        wait_until(lambda: (s := status(ctx, "pg")).backfill is not None and s.backfill.done
                   and s.backfill.id == again.id, timeout=30, what="the second backfill to end")
        assert len(pg_rows(schema)) == total  # the target had them all: nothing doubled


def test_a_backfill_under_way_goes_on_for_a_new_range_unless_restarted(ctx: Context) -> None:
    """The target is down, so the first backfill stays under way (retrying): a request for another range
    gets it back, marked resumed; a restart ends it (kept, ended, in the outbox) and sends the new range."""
    from bms.export import Outbox

    history(ctx.data_dir, {"room1/temp": 100})
    down = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    start(ctx, PostgresTarget(name="pg", dsn=down, schema="public", batch=10), "postgres")
    target = ctx.registry.get("export:pg")
    first = target.ask(StartBackfill(since=T0 - 2 * 86_400, until=T0))
    assert not first.resumed and first.total == 100
    again = target.ask(StartBackfill(since=T0 - 3_600, until=T0))
    assert again.resumed and again.id == first.id and again.since == T0 - 2 * 86_400
    fresh = target.ask(StartBackfill(since=T0 - 86_400 + 60 * 50, until=T0, restart=True))
    assert not fresh.resumed and fresh.id != first.id and fresh.total == 50
    status_now = status(ctx, "pg")
    assert status_now.backfill is not None and status_now.backfill.id == fresh.id
    box = Outbox(ctx.data_dir / "exports" / "pg.db")
    try:
        assert {j.id: j.done for j in box.jobs()} == {first.id: True, fresh.id: False}
    finally:
        box.close()
