"""The Recorder: history that holds what it cannot write and catches up, on real SQLite files."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bms.clock import ManualClock
from bms.history import Backlog, HistoryReader, HistoryWriter, Recorder
from bms.messages import PointValue
from tests.bms.history.conftest import T0


def batch(start: int, n: int, point: str = "ahu1/sat") -> list[PointValue]:
    return [PointValue(point, float(i), T0 + i) for i in range(start, start + n)]


def recorded(db: Path, point: str = "ahu1/sat") -> list[float]:
    with HistoryReader(db) as reader:
        return [s.value for s in reader.raw(point, T0 - 1, T0 + 1e6)]  # type: ignore[misc]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


class Capped:
    """Opens the writer with SQLite's max_page_count: a real SQLITE_FULL once the pages run out."""

    def __init__(self, db: Path, clock: ManualClock) -> None:
        self.db, self.clock, self.pages = db, clock, 0

    def __call__(self) -> HistoryWriter:
        writer = HistoryWriter(self.db, clock=self.clock)
        if self.pages:
            writer._conn.execute(f"PRAGMA max_page_count={self.pages}")
        return writer


@pytest.fixture
def capped(tmp_path: Path, clock: ManualClock) -> Iterator[tuple[Recorder, Capped]]:
    opener = Capped(tmp_path / "history.db", clock)
    recorder = Recorder(opener, Backlog(100_000), clock)
    try:
        yield recorder, opener
    finally:
        recorder.close()


def test_a_full_database_holds_the_values_and_catches_up_with_no_gap(capped: tuple[Recorder, Capped],
                                                                    clock: ManualClock) -> None:
    recorder, opener = capped
    recorder.record(batch(0, 10))
    assert recorder.writer is not None
    used = recorder.writer._conn.execute("PRAGMA page_count").fetchone()[0]
    recorder.writer._conn.execute(f"PRAGMA max_page_count={used}")
    for start in range(10, 5_010, 500):
        assert recorder.record(batch(start, 500)) == 0  # held, nothing dropped
    assert recorder.outage is not None and "full" in recorder.outage.reason
    assert recorder.backlog.held > 0
    clock.advance(30)
    assert recorder.retry() is None  # still full
    recorder.writer._conn.execute("PRAGMA max_page_count=1000000")
    done = recorder.retry()
    assert done is not None and done.seconds == 30
    assert recorder.outage is None and not recorder.backlog and recorder.lost == 0
    assert recorded(opener.db) == [float(i) for i in range(5_010)]  # every value, in order, no gap


def test_past_the_bound_the_oldest_held_are_lost_and_counted(tmp_path: Path, clock: ManualClock) -> None:
    opener = Capped(tmp_path / "history.db", clock)
    recorder = Recorder(opener, Backlog(1_000), clock)
    try:
        assert recorder.writer is not None
        used = recorder.writer._conn.execute("PRAGMA page_count").fetchone()[0]
        recorder.writer._conn.execute(f"PRAGMA max_page_count={used}")
        dropped = sum(recorder.record(batch(start, 400)) for start in range(0, 2_000, 400))
        assert dropped == recorder.lost == 1_000
        assert (recorder.backlog.lost_from, recorder.backlog.lost_to) == (T0, T0 + 999)
        recorder.writer._conn.execute("PRAGMA max_page_count=1000000")
        assert recorder.retry() is not None
        assert recorded(opener.db) == [float(i) for i in range(1_000, 2_000)]  # the newest thousand
    finally:
        recorder.close()


def test_a_database_locked_by_another_process_holds_values_until_the_lock_goes(tmp_path: Path,
                                                                              clock: ManualClock) -> None:
    db = tmp_path / "history.db"
    recorder = Recorder(lambda: HistoryWriter(db, clock=clock), Backlog(10_000), clock)
    other = sqlite3.connect(db, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")  # another process's lock (the writer waits its busy timeout)
        recorder.record(batch(0, 5))
        assert recorder.outage is not None and "locked" in recorder.outage.reason
        other.execute("COMMIT")
        assert recorder.retry() is not None
        assert recorded(db) == [0.0, 1.0, 2.0, 3.0, 4.0]
    finally:
        other.close()
        recorder.close()


def test_a_file_deleted_while_open_is_noticed_reopened_and_the_loss_counted(tmp_path: Path,
                                                                           clock: ManualClock) -> None:
    db = tmp_path / "history.db"
    recorder = Recorder(lambda: HistoryWriter(db, clock=clock), Backlog(10_000), clock)
    try:
        recorder.record(batch(0, 3))
        assert recorder.check_file() is None
        recorder.record(batch(3, 4))  # written to the file...
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)  # ...that an operator then deletes
        recorder.record(batch(7, 2))  # SQLite writes on into the unlinked file, without an error
        why, lost = recorder.check_file() or ("", 0)
        assert why == f"{db} was deleted while open"
        assert lost == 6 and recorder.lost == 6  # what was accepted since the last check
        recorder.record(batch(9, 1))
        assert db.exists() and recorded(db) == [9.0]  # a new file, written from now on
    finally:
        recorder.close()


def test_a_corrupted_file_is_an_outage_not_a_silent_loss(tmp_path: Path, clock: ManualClock) -> None:
    db = tmp_path / "history.db"
    recorder = Recorder(lambda: HistoryWriter(db, clock=clock), Backlog(10_000), clock)
    try:
        recorder.record(batch(0, 3))
        recorder.close()
        db.write_bytes(b"this is not a database" * 400)
        Path(f"{db}-wal").unlink(missing_ok=True)
        recorder.record(batch(3, 3))
        assert recorder.outage is not None and "history.db" in recorder.outage.reason
        assert recorder.backlog.held == 3
        db.unlink()  # the operator moves the bad file away
        assert recorder.retry() is not None
        assert recorded(db) == [3.0, 4.0, 5.0]
    finally:
        recorder.close()
