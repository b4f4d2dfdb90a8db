"""``ExportTarget``: one time-series target (``export:NAME``) -- its outbox, sender and backfills.

It subscribes to ``ValueChanged`` (merged lossless: consecutive batches are
joined when it drains them, nothing is ever dropped) and appends every
sample to the target's outbox (``exports/NAME.db``), then kicks the
:class:`~actors.components.export._sender.Sender`, which writes to the
target on its own thread. The actor never waits on the network: a target
that is down only grows its outbox.

On the ticker it kicks a sender whose backoff is over, reports its
:class:`~bms.export.TargetStatus` to the ``export`` board and its health
(Degraded with the target's reason while writes fail).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, cast

import msgspec

from actors._base import BmsActor, handles
from actors._registry import merged
from actors.components.export._sender import Backfiller, Sender
from actors.components.export._sink import Sink
from bms.errors import ConfigError, Unavailable
from bms.export import (
    BackfillJob,
    BackfillProgress,
    Backoff,
    GetTargetStatus,
    HistoryPages,
    Outbox,
    StartBackfill,
    TagMap,
    TargetStatus,
    state_of,
)
from bms.messages import EntityCreated, EntityDeleted, EntityUpdated, ListNodes, Tick, ValueChanged
from bms.model import Node
from bms.supervision import Health

MERGE_MAX = 50_000
BOARD = "export"


def outbox_path(data_dir: Any, name: str) -> Any:
    return data_dir / "exports" / f"{name}.db"


class ExportTarget(BmsActor):
    def __init__(self, name: str, ctx: Any, target: Any, kind: str, make_sink: Callable[[Any, TagMap], Sink],
                 backoff: Backoff | None = None, tick: float = 1.0, site: str = "") -> None:
        super().__init__(name, ctx)
        self.target = target
        self.kind = kind
        self.make_sink = make_sink
        self.backoff = backoff or Backoff()
        self.tick = tick
        self.tags = TagMap(site=site)
        self.outbox: Outbox | None = None
        self.sender: Sender | None = None
        self.backfiller: Backfiller | None = None
        self.last_job: BackfillJob | None = None
        self.backfill_error = ""
        self._last_report = ""

    # ------------------------------------------------------------- lifecycle
    def setup(self) -> None:
        try:
            self.outbox = Outbox(outbox_path(self.ctx.data_dir, self.target.name))
        except Exception as err:
            raise ConfigError(f"{self.kind} target {self.target.name!r}: {err}") from err
        self._load_tags()
        self.sender = Sender(f"{self.name}:send", self.make_sink(self.target, self.tags), self.outbox,
                             self.target.batch, self.clock, self.backoff)
        self.sender.start()
        self.sender.kick()  # rows buffered before a restart (or a kill) go first
        self.subscribe(ValueChanged, merged(MERGE_MAX))
        for event in (EntityCreated, EntityUpdated, EntityDeleted):
            self.subscribe(event)
        self.ctx.ticker.every(self.tick, self.actor_ref, "export")
        unfinished = [j for j in self.outbox.jobs() if not j.done]
        if unfinished:
            self._backfill(unfinished[-1])  # a backfill the daemon's stop interrupted goes on
        self._report()
        self.log.info("export target ready", kind=self.kind, buffered=self.outbox.size)

    def teardown(self) -> None:
        self.ctx.ticker.cancel_actor(self.actor_ref)
        for loop in (self.sender, self.backfiller):
            if loop is not None:
                if not loop.close():
                    self.log.warning("a write was still running at stop", loop=loop.name)
                loop.sink.close()
        self.sender = self.backfiller = None
        if self.outbox is not None:
            self.outbox.close()
            self.outbox = None

    def _load_tags(self) -> None:
        nodes_ref = self.ctx.registry.find("nodes")
        if nodes_ref is None:
            return
        try:
            nodes = cast(list[Node], nodes_ref.ask(ListNodes(), timeout=30.0))
        except Exception as err:
            self.log.warning("no model: series tagged with their point id only", error=str(err) or repr(err))
            return
        tags = TagMap(nodes, site=self.tags.site)
        self.tags = tags
        for loop in (self.sender, self.backfiller):
            if loop is not None:
                loop.sink.retag(tags)

    # ------------------------------------------------------------ the events
    @handles(ValueChanged)
    def on_values(self, event: ValueChanged) -> None:
        assert self.outbox is not None and self.sender is not None
        self.sender.append(event.values)
        if not self.sender.failures:
            self.sender.kick()

    @handles(EntityCreated, EntityUpdated, EntityDeleted)
    def on_model(self, _event: Any) -> None:
        self._load_tags()

    @handles(Tick)
    def on_tick(self, tick: Tick) -> None:
        now = self.clock.now()
        for loop in (self.sender, self.backfiller):
            if loop is not None and loop.due(now):
                loop.kick()
        if self.backfiller is not None and not self.backfiller.alive:
            self._end_backfill()
        self._report()

    def _end_backfill(self) -> None:
        assert self.backfiller is not None
        self.last_job = self.backfiller.job
        self.backfiller.close()
        self.backfiller.sink.close()
        self.backfiller = None

    # ------------------------------------------------------ queries, command
    @handles(GetTargetStatus)
    def get_status(self, _query: GetTargetStatus) -> TargetStatus:
        return self.status()

    @handles(StartBackfill)
    def start_backfill(self, command: StartBackfill) -> BackfillProgress:
        assert self.outbox is not None
        if command.until <= command.since:
            raise ConfigError("the backfill's start is not before its end")
        if self.backfiller is not None and self.backfiller.alive and not command.restart:
            return msgspec.structs.replace(self._progress(self.backfiller), resumed=True)
        if self.backfiller is not None:
            running = self.backfiller.alive
            if running and not self.backfiller.close():
                raise Unavailable(f"export {self.target.name}: the running backfill did not stop; try again")
            self._end_backfill()
            if running:
                self._abandon(self.last_job)
        unfinished = [j for j in self.outbox.jobs() if not j.done]
        if unfinished and command.restart:
            for old in unfinished:
                self._abandon(old)
            unfinished = []
        job = unfinished[-1] if unfinished else BackfillJob(
            id=f"{command.since:.0f}-{command.until:.0f}-{uuid.uuid4().hex[:8]}", since=command.since,
            until=command.until)
        self._backfill(job)
        assert self.backfiller is not None
        return msgspec.structs.replace(self._progress(self.backfiller), resumed=bool(unfinished))

    def _abandon(self, job: BackfillJob | None) -> None:
        """An unfinished backfill ended by a restart: kept as ended, with what it had sent."""
        if job is None or job.done:
            return
        assert self.outbox is not None
        self.outbox.save_job(msgspec.structs.replace(job, done=True))
        self.log.info("backfill ended unfinished for another range", since=job.since, until=job.until,
                      sent=job.sent, total=job.total)

    def _backfill(self, job: BackfillJob) -> None:
        assert self.outbox is not None
        history = HistoryPages(self.ctx.data_dir / "history.db", job.since, job.until)  # StoreError: refused
        if job.total == 0:
            job = BackfillJob(id=job.id, since=job.since, until=job.until, point=job.point, ts=job.ts,
                              sent=job.sent, total=history.total())
        self.outbox.save_job(job)
        self.backfiller = Backfiller(f"{self.name}:backfill", self.make_sink(self.target, self.tags), self.outbox,
                                     history, job, self.target.batch, self.clock, self.backoff)
        self.backfiller.start()
        self.backfiller.kick()
        self.log.info("backfill started", since=job.since, until=job.until, rows=job.total, resumed_at=job.sent)

    # ---------------------------------------------------------------- status
    def _progress(self, loop: Backfiller) -> BackfillProgress:
        j = loop.job
        return BackfillProgress(id=j.id, since=j.since, until=j.until, sent=j.sent, total=j.total, done=j.done,
                                rate=loop.throughput.rate(self.clock.now()), error=loop.error)

    def status(self) -> TargetStatus:
        assert self.outbox is not None and self.sender is not None
        now = self.clock.now()
        backfill: BackfillProgress | None = None
        if self.backfiller is not None:
            backfill = self._progress(self.backfiller)
        elif self.last_job is not None:
            j = self.last_job
            backfill = BackfillProgress(id=j.id, since=j.since, until=j.until, sent=j.sent, total=j.total,
                                        done=j.done)
        sender = self.sender
        error = sender.error or (self.backfiller.error if self.backfiller is not None else "")
        buffered = self.outbox.size
        oldest = self.outbox.oldest_ts
        state = state_of(error=error, backfilling=self.backfiller is not None and self.backfiller.alive,
                         buffered=buffered, batch=self.target.batch, sent=sender.throughput.total)
        return TargetStatus(name=self.target.name, kind=self.kind, state=state, reason=error, buffered=buffered,
                            oldest_age=max(0.0, now - oldest) if oldest is not None else 0.0,
                            rate=sender.throughput.rate(now), sent=sender.throughput.total,
                            failures=sender.failures, last_sent=sender.last_sent, backfill=backfill)

    def _report(self) -> None:
        status = self.status()
        board = self.ctx.registry.find(BOARD)
        if board is not None:
            board.tell(status)
        summary = status.summary()
        if summary != self._last_report:
            self._last_report = summary
            health = Health.DEGRADED if status.state == "error" else Health.HEALTHY
            self.ctx.supervisor.report(self.name, health, summary)
