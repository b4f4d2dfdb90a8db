"""``Sender``: drains one target's outbox on a thread of its own, in order, with backoff on failure.

The actor appends and kicks; the sender takes the oldest batch, writes it,
acks it, and goes on until the outbox is empty. A failed write leaves the
rows where they are and sets ``retry_at`` (on the injected clock); the
actor's tick kicks the sender again once that time has come. The target
being down costs the actor one SQLite insert per batch, never a wait.

``Backfiller`` is the same loop over a backfill job's history pages,
saving the job's cursor in the outbox after each page.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from actors.components.export._sink import Sink, SinkError
from bms.clock import Clock
from bms.errors import BmsError
from bms.export import BackfillJob, Backoff, HistoryPages, Outbox, Throughput, decode_rows, encode_rows
from bms.logs import get_logger
from bms.messages import PointValue


class _Loop:
    def __init__(self, name: str, sink: Sink, clock: Clock, backoff: Backoff) -> None:
        self.name = name
        self.sink = sink
        self.clock = clock
        self.backoff = backoff
        self.log = get_logger(name)
        self.throughput = Throughput()
        self.failures = 0
        self.error = ""
        self.retry_at = 0.0
        self.last_sent: float | None = None
        self._kick = threading.Event()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def kick(self) -> None:
        self._kick.set()

    def due(self, now: float) -> bool:
        return bool(self.failures) and now >= self.retry_at

    def close(self, timeout: float = 5.0) -> bool:
        self._closing.set()
        self._kick.set()
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._closing.is_set():
            self._kick.wait()
            self._kick.clear()
            if self.failures and self.clock.now() < self.retry_at:
                continue
            while not self._closing.is_set():
                try:
                    more = self._step()
                except (SinkError, BmsError) as err:
                    self._failed(str(err))
                    break
                except Exception as err:  # a bug or a library surprise: still only a failed attempt
                    self._failed(f"{type(err).__name__}: {err}")
                    break
                if not more:
                    break

    def _succeeded(self, n: int) -> None:
        now = self.clock.now()
        if self.failures:
            self.log.info("target answering again", after_failures=self.failures)
        self.failures, self.error = 0, ""
        self.throughput.add(now, n)
        self.last_sent = now

    def _failed(self, why: str) -> None:
        self.failures += 1
        delay = self.backoff.delay(self.failures)
        self.retry_at = self.clock.now() + delay
        if self.failures == 1 or why != self.error:
            self.log.warning("target not written; rows kept", error=why, retry_in=delay)
        self.error = why

    def _step(self) -> bool:
        raise NotImplementedError


class Sender(_Loop):
    """The live path: outbox -> target, oldest first.

    The batches the actor buffers are also handed over in memory
    (:meth:`offer`), so the live path writes them without reading them
    back; the outbox's chunks are read only for what memory does not hold
    (rows buffered before a restart, or an outage longer than ``memory``
    rows). Either way a chunk is acked only once the target took it.
    """

    def __init__(self, name: str, sink: Sink, outbox: Outbox, batch: int, clock: Clock, backoff: Backoff,
                 memory: int = 200_000) -> None:
        super().__init__(name, sink, clock, backoff)
        self.outbox = outbox
        self.batch = batch
        self.memory = memory
        self._held: deque[tuple[int, Sequence[PointValue]]] = deque()
        self._held_rows = 0
        self._coherent = outbox.size == 0  # memory holds every buffered chunk, in order
        self._lock = threading.Lock()

    def append(self, values: Sequence[PointValue]) -> None:
        """Buffer a live batch (on the actor's thread) and hand it over."""
        if not values:
            return
        body = encode_rows([(v.point_id, v.ts, v.value) for v in values])
        with self._lock:
            seq = self.outbox.append_chunk(len(values), values[0].ts, body)
            if self._coherent:
                self._held.append((seq, values))
                self._held_rows += len(values)
                if self._held_rows > self.memory:  # a long outage: the outbox alone holds them
                    self._held.clear()
                    self._held_rows = 0
                    self._coherent = False

    def _take(self) -> tuple[list[Any], int, int]:
        with self._lock:
            if not self._coherent:
                bodies, n, upto = self.outbox.chunks(self.batch)
                if not bodies:
                    self._coherent = True  # caught up: from now on memory holds what is buffered
                    return [], 0, 0
                rows: list[Any] = []
                for body in bodies:
                    rows += decode_rows(body, self.outbox.path)
                return rows, n, upto
            rows, upto = [], 0
            for seq, values in self._held:
                if rows and len(rows) + len(values) > self.batch:
                    break
                rows += values
                upto = seq
            return rows, len(rows), upto

    def _step(self) -> bool:
        rows, n, upto = self._take()
        if not rows:
            return False
        self.sink.write(rows)
        with self._lock:
            self.outbox.ack(upto)
            while self._held and self._held[0][0] <= upto:
                self._held_rows -= len(self._held.popleft()[1])
        self._succeeded(n)
        return True


class Backfiller(_Loop):
    """One backfill job: history pages -> target, the cursor saved after each page."""

    def __init__(self, name: str, sink: Sink, outbox: Outbox, history: HistoryPages, job: BackfillJob, batch: int,
                 clock: Clock, backoff: Backoff, on_done: Callable[[BackfillJob], None] | None = None) -> None:
        super().__init__(name, sink, clock, backoff)
        self.outbox = outbox
        self.history = history
        self.job = job
        self.batch = batch
        self.on_done = on_done

    def _step(self) -> bool:
        job = self.job
        rows, point, ts = self.history.page(job.point, job.ts, self.batch)
        if not rows:
            self.job = BackfillJob(id=job.id, since=job.since, until=job.until, point=job.point, ts=job.ts,
                                   sent=job.sent, total=job.total, done=True)
            self.outbox.save_job(self.job)
            self.log.info("backfill done", rows=self.job.sent)
            if self.on_done is not None:
                self.on_done(self.job)
            self._closing.set()
            return False
        self.sink.backfill(rows)
        self.job = BackfillJob(id=job.id, since=job.since, until=job.until, point=point, ts=ts,
                               sent=job.sent + len(rows), total=max(job.total, job.sent + len(rows)), done=False)
        self.outbox.save_job(self.job)
        self._succeeded(len(rows))
        return True

    def close(self, timeout: float = 5.0) -> bool:
        ended = super().close(timeout)
        self.history.close()
        return ended
