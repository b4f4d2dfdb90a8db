"""A long read never stalls the writer and always sees whole batches."""

from __future__ import annotations

import threading
from pathlib import Path

from bms.history import HistoryReader, HistoryWriter
from bms.messages import PointValue
from tests.bms.history.conftest import T0, pv

POINTS = ("p/0", "p/1", "p/2", "p/3")
PER_BATCH = 250  # samples per point per batch, one a second


def batch(i: int) -> list[PointValue]:
    return [pv(p, float(t % 1000), T0 + t) for t in range(i * PER_BATCH, (i + 1) * PER_BATCH) for p in POINTS]


def whole_batches(ts: list[float]) -> bool:
    """A snapshot between commits: one sample a second from T0, a whole number of batches."""
    return len(ts) % PER_BATCH == 0 and ts == [T0 + i for i in range(len(ts))]


def test_writer_appends_while_a_long_query_runs(db: Path) -> None:
    with HistoryWriter(db) as writer:
        for i in range(40):
            writer.append(batch(i))
        errors: list[BaseException] = []
        done = threading.Event()

        def write() -> None:
            try:
                for i in range(40, 120):
                    writer.append(batch(i))
            except BaseException as err:
                errors.append(err)
            finally:
                done.set()

        thread = threading.Thread(target=write)
        with HistoryReader(db) as reader:
            thread.start()
            reads = 0
            while not done.is_set() or reads < 3:
                samples = reader.raw("p/1", 0, 4e9)
                assert whole_batches([s.ts for s in samples])
                buckets = reader.rollup("p/1", 0, 4e9, "15m").buckets
                assert sum(b.count for b in buckets) % PER_BATCH == 0
                reads += 1
            thread.join(timeout=30)
            assert not thread.is_alive() and errors == []
            assert len(reader.raw("p/1", 0, 4e9)) == 120 * PER_BATCH
            assert [p.count for p in reader.points()] == [120 * PER_BATCH] * len(POINTS)


def test_a_query_in_progress_does_not_block_a_commit(db: Path) -> None:
    """The writer commits a batch while the reader is stopped in the middle of a query."""
    with HistoryWriter(db) as writer, HistoryReader(db) as reader:
        for i in range(20):
            writer.append(batch(i))
        paused, written = threading.Event(), threading.Event()
        outcome: list[object] = []
        unblocked: list[bool] = []

        def write_when_paused() -> None:
            try:
                assert paused.wait(timeout=10)
                outcome.append(writer.append(batch(20)))
            except BaseException as err:
                outcome.append(err)
            finally:
                written.set()

        def in_the_middle() -> int:
            if not paused.is_set():
                paused.set()
                unblocked.append(written.wait(timeout=10))  # bounded: a blocked writer fails, never hangs
            return 0

        thread = threading.Thread(target=write_when_paused)
        thread.start()
        reader._conn.set_progress_handler(in_the_middle, 1000)
        try:
            samples = reader.raw("p/2", 0, 4e9)
        finally:
            reader._conn.set_progress_handler(None, 0)
        thread.join(timeout=10)
        assert unblocked == [True]  # the append completed during the query
        assert outcome == [len(POINTS) * PER_BATCH]
        assert len(samples) == 20 * PER_BATCH  # and the query kept its snapshot
        assert len(reader.raw("p/2", 0, 4e9)) == 21 * PER_BATCH
