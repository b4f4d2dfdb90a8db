"""The history store as a component: ``history``, the only writer of ``history.db``.

It subscribes (lossless) to ``ValueChanged`` and records, for every point
whose profile asks for it, each change that passed the point store's COV
filter (``history.cov``) and a sample every ``history.interval`` seconds.
One batch is one transaction; a batch is on disk when its handler returns.
Rollups are kept by the writer in the same transaction; retention runs in
short slices on an hourly tick so that it never holds the writer long.
Readers (the API, the CLI) open their own connections.

When history.db cannot be written (disk full, locked, corrupt, deleted) the
values are held by a :class:`~bms.history.Recorder` (bounded by
``[history] backlog_max_values``), the component is Degraded with the
reason, and every ``interval`` tick retries: once the database takes writes
again the held values are written oldest first and the component is
Healthy again. Values the bound forced out are counted in its health
(``lost``) and logged.
"""

from __future__ import annotations

from typing import Any, cast

from actors._base import BmsActor, handles
from actors._registry import merged
from actors._supervisor import ChildSpec
from actors.platform import Platform
from bms.config._schema import HistorySection, RetentionSection
from bms.history import Backlog, HistoryWriter, IntervalLogger, Recorder
from bms.messages import DeviceAccepted, DeviceRemoved, ListNodes, PointValue, Tick, ValueChanged
from bms.model import Node
from bms.points import point_infos
from bms.supervision import Health, RestartPolicy

NAME = "history"
PRUNE_EVERY = 3600.0
MERGE_MAX = 50_000  # values per transaction when batches queue up behind a slow disk
PRUNE_SLICES = 20  # transactions of up to 10,000 rows per prune tick


class HistoryStore(BmsActor):
    def __init__(self, name: str, ctx: Any, retention: RetentionSection | None = None,
                 interval_tick: float = 1.0, backlog_max_values: int = HistorySection().backlog_max_values) -> None:
        super().__init__(name, ctx)
        self.retention = retention or RetentionSection()
        self.interval_tick = interval_tick
        self.backlog = Backlog(backlog_max_values)  # outlives restarts: what is held is not lost with one
        self.recorder: Recorder | None = None
        self.intervals: IntervalLogger | None = None
        self.recorded: frozenset[str] | set[str] = frozenset()  # points recorded on change
        self.transactions = 0

    @property
    def writer(self) -> HistoryWriter | None:
        return self.recorder.writer if self.recorder is not None else None

    @property
    def stored(self) -> int:
        return self.recorder.stored if self.recorder is not None else 0

    def setup(self) -> None:
        path = self.ctx.data_dir / "history.db"
        self.recorder = Recorder(lambda: HistoryWriter(path, self.retention, self.clock), self.backlog, self.clock)
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
        self.subscribe(DeviceRemoved)
        self.ctx.ticker.every(self.interval_tick, ref, "interval")
        self.ctx.ticker.every(PRUNE_EVERY, ref, "prune", first_in=60.0)
        self.log.info("history open", path=str(path), on_change=len(self.recorded),
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
        if self.recorder is not None:
            self.recorder.close()
            self.recorder = None
        if self.backlog:
            self.log.error("history stopped with values not written", held=self.backlog.held)

    @handles(ValueChanged)
    def on_values(self, batch: ValueChanged) -> None:
        assert self.intervals is not None
        recorded = self.recorded
        values = [v for v in batch.values if v.point_id in recorded]
        if values:
            self._record(values)
            self.transactions += 1
        self.intervals.observe(batch.values)

    def _record(self, values: list[PointValue]) -> None:
        assert self.recorder is not None
        was = self.recorder.outage
        dropped = self.recorder.record(values)
        outage = self.recorder.outage
        if outage is not None and was is None:
            self.log.error("history cannot be written; holding values until it can", reason=outage.reason)
        if outage is not None:
            self._degraded()
        if dropped:
            self._lost(dropped, "backlog full")

    def _degraded(self) -> None:
        recorder = self.recorder
        assert recorder is not None and recorder.outage is not None
        lost = f", {recorder.lost} lost" if recorder.lost else ""
        self.ctx.supervisor.report(self.name, Health.DEGRADED,
                                   f"{recorder.outage.reason}; holding {self.backlog.held} values{lost}")

    def _lost(self, count: int, why: str) -> None:
        self.ctx.health.lost(self.name, count)
        self.log.error("history values lost", lost=count, why=why, total_lost=self.backlog.lost,
                       from_ts=self.backlog.lost_from, to_ts=self.backlog.lost_to)

    def _retry(self) -> None:
        recorder = self.recorder
        assert recorder is not None
        problem = recorder.check_file()
        if problem is not None:
            why, gone = problem
            self.log.error("history file lost while open; a new one is started", reason=why, lost=gone)
            if gone:
                self._lost(gone, why)
        if recorder.outage is None and not self.backlog:
            if problem is not None:
                self.ctx.supervisor.report(self.name, Health.DEGRADED, f"{why}; a new history.db was started")
            return
        recovered = recorder.retry()
        if recovered is None:
            self._degraded()
            return
        self.log.info("history caught up", written=recovered.written, outage_seconds=round(recovered.seconds, 1),
                      lost=recorder.lost)
        losses = f"; {recorder.lost} values lost" if recorder.lost else ""
        self.ctx.supervisor.report(self.name, Health.HEALTHY,
                                   f"caught up: {recovered.written} values held during a {recovered.seconds:.0f} s "
                                   f"outage written{losses}")

    @handles(DeviceAccepted)
    def on_accepted(self, event: DeviceAccepted) -> None:
        self._track(list(event.points))  # the points come with the event: no ask per point

    @handles(DeviceRemoved)
    def on_removed(self, event: DeviceRemoved) -> None:
        """No more recording for a removed device's points; what was recorded stays."""
        assert self.intervals is not None
        self.recorded = self.recorded - set(event.node_ids)
        for point_id in event.node_ids:
            self.intervals.set_interval(point_id, None)

    @handles(Tick)
    def on_tick(self, tick: Tick) -> None:
        assert self.intervals is not None
        if tick.timer == "interval":
            self._retry()
            due = self.intervals.due()
            if due:
                self._record(due)
        elif tick.timer == "prune":
            if self.writer is None or self.recorder is None or self.recorder.outage is not None:
                return  # nothing to prune into while the database is out
            report = self.writer.prune(budget=PRUNE_SLICES)
            if report.samples or report.buckets_15m or report.buckets_1h or report.buckets_1d:
                self.log.info("history pruned", samples=report.samples, done=report.done)


def history_component(platform: Platform) -> list[ChildSpec]:
    section: HistorySection = platform.section("history")
    return [ChildSpec(NAME, HistoryStore, kwargs={"retention": section.retention,
                                                  "backlog_max_values": section.backlog_max_values},
                      policy=RestartPolicy(), critical=True)]


__all__ = ["NAME", "HistoryStore", "history_component"]
