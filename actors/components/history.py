"""The history store as a component: ``history``, the only writer of ``history.db``.

It subscribes (lossless) to ``ValueChanged`` and records, for every point
whose profile asks for it, each change that passed the point store's COV
filter (``history.cov``) and a sample every ``history.interval`` seconds.
One batch is one transaction; a batch is on disk when its handler returns.
Rollups are kept by the writer in the same transaction; retention runs in
short slices on an hourly tick so that it never holds the writer long.
Readers (the API, the CLI) open their own connections.
"""

from __future__ import annotations

from typing import Any, cast

from actors._base import BmsActor, handles
from actors._registry import merged
from actors._supervisor import ChildSpec
from actors.platform import Platform, component
from bms.config._schema import RetentionSection
from bms.history import HistoryWriter, IntervalLogger
from bms.messages import DeviceAccepted, GetNode, ListNodes, Tick, ValueChanged
from bms.model import Node
from bms.points import point_infos
from bms.supervision import RestartPolicy

NAME = "history"
PRUNE_EVERY = 3600.0
MERGE_MAX = 50_000  # values per transaction when batches queue up behind a slow disk
PRUNE_SLICES = 20  # transactions of up to 10,000 rows per prune tick


class HistoryStore(BmsActor):
    def __init__(self, name: str, ctx: Any, retention: RetentionSection | None = None,
                 interval_tick: float = 1.0) -> None:
        super().__init__(name, ctx)
        self.retention = retention or RetentionSection()
        self.interval_tick = interval_tick
        self.writer: HistoryWriter | None = None
        self.intervals: IntervalLogger | None = None
        self.recorded: frozenset[str] | set[str] = frozenset()  # points recorded on change
        self.stored = 0
        self.transactions = 0

    def setup(self) -> None:
        self.writer = HistoryWriter(self.ctx.data_dir / "history.db", self.retention, self.clock)
        self.intervals = IntervalLogger(self.clock)
        self.recorded = set()
        nodes: list[Node] = []
        nodes_ref = self.ctx.registry.find("nodes")
        if nodes_ref is not None:
            nodes = cast(list[Node], nodes_ref.ask(ListNodes(), timeout=30.0))
        self._track(nodes)
        ref = self.actor_ref
        self.subscribe(ValueChanged, merged(MERGE_MAX))
        self.subscribe(DeviceAccepted)
        self.ctx.ticker.every(self.interval_tick, ref, "interval")
        self.ctx.ticker.every(PRUNE_EVERY, ref, "prune", first_in=60.0)
        self.log.info("history open", path=str(self.writer.path), on_change=len(self.recorded),
                      on_interval=len(self.intervals.intervals()))

    def _track(self, nodes: list[Node]) -> None:
        assert self.intervals is not None
        infos, _problems = point_infos(nodes)
        recorded = set(self.recorded)
        for info in infos:
            spec = info.spec.history
            if spec.cov:
                recorded.add(info.point_id)
            if spec.interval is not None:
                self.intervals.set_interval(info.point_id, spec.interval)
        self.recorded = recorded

    def teardown(self) -> None:
        self.ctx.ticker.cancel_actor(self.actor_ref)
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    @handles(ValueChanged)
    def on_values(self, batch: ValueChanged) -> None:
        assert self.writer is not None and self.intervals is not None
        recorded = self.recorded
        values = [v for v in batch.values if v.point_id in recorded]
        if values:
            self.stored += self.writer.append(values)
            self.transactions += 1
        self.intervals.observe(batch.values)

    @handles(DeviceAccepted)
    def on_accepted(self, event: DeviceAccepted) -> None:
        nodes_ref = self.ctx.registry.get("nodes")
        self._track([cast(Node, nodes_ref.ask(GetNode(node_id=p), timeout=30.0)) for p in event.point_ids])

    @handles(Tick)
    def on_tick(self, tick: Tick) -> None:
        assert self.writer is not None and self.intervals is not None
        if tick.timer == "interval":
            due = self.intervals.due()
            if due:
                self.stored += self.writer.append(due)
        elif tick.timer == "prune":
            report = self.writer.prune(budget=PRUNE_SLICES)
            if report.samples or report.buckets_15m or report.buckets_1h or report.buckets_1d:
                self.log.info("history pruned", samples=report.samples, done=report.done)


@component(20, NAME)
def history_component(platform: Platform) -> list[ChildSpec]:
    return [ChildSpec(NAME, HistoryStore, kwargs={"retention": platform.settings.history.retention},
                      policy=RestartPolicy(), critical=True)]


__all__ = ["NAME", "HistoryStore", "history_component"]
