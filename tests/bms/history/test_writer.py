"""HistoryWriter: what goes in comes out; duplicates, types, failures, bad files."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bms.clock import ManualClock
from bms.errors import SchemaTooNew, StoreError
from bms.history import HistoryReader, HistoryWriter, PointSummary, RawSample
from bms.messages import PointValue, Value
from bms.store import open_database
from tests.bms.history.conftest import T0, assert_rollups_match, pv


def test_append_returns_the_count_and_commits_before_returning(writer: HistoryWriter, db: Path) -> None:
    assert writer.append(pv("ahu1/sat", 12.0 + i, T0 + 60 * i) for i in range(5)) == 5
    assert writer.append([]) == 0
    with HistoryReader(db) as other:  # another connection sees it at once: committed
        assert [s.value for s in other.raw("ahu1/sat", T0, T0 + 3600)] == [12.0, 13.0, 14.0, 15.0, 16.0]


def test_values_come_back_as_recorded(writer: HistoryWriter, reader: HistoryReader) -> None:
    values: list[Value] = [13.25, 7, True, False, "occupied", None, math.nan, math.inf, -math.inf, 0.1 + 0.2]
    writer.append(pv("ahu1/x", v, T0 + i) for i, v in enumerate(values))
    got = reader.raw("ahu1/x", T0, T0 + 100)
    assert got == [RawSample(T0 + i, v) for i, v in enumerate([13.25, 7, 1, 0, "occupied", None, None, None, None, 0.1 + 0.2])]
    assert type(got[1].value) is int and type(got[2].value) is int
    # rollups take the numbers only
    assert_rollups_match(reader, "ahu1/x", {s.ts: s.value for s in got})


def test_a_duplicate_point_and_ts_replaces_the_first_value(writer: HistoryWriter, reader: HistoryReader) -> None:
    writer.append([pv("p/a", 1.0, T0), pv("p/a", 2.0, T0 + 60), pv("p/a", 3.0, T0 + 60)])  # within a batch
    writer.append([pv("p/a", 4.0, T0)])  # across batches
    assert reader.raw("p/a", T0, T0 + 120) == [RawSample(T0, 4.0), RawSample(T0 + 60, 3.0)]
    assert reader.points() == [PointSummary("p/a", 2, T0, T0 + 60)]
    assert_rollups_match(reader, "p/a", {T0: 4.0, T0 + 60: 3.0})


def test_point_summaries_follow_late_and_duplicate_samples(writer: HistoryWriter, reader: HistoryReader) -> None:
    writer.append([pv("b/x", 1.0, T0 + 100), pv("a/y", "on", T0 + 5)])
    writer.append([pv("b/x", 2.0, T0 + 50), pv("b/x", 3.0, T0 + 100), pv("b/x", 4.0, T0 + 200), pv("b/x", 5.0, T0 + 150)])
    assert reader.points() == [PointSummary("a/y", 1, T0 + 5, T0 + 5), PointSummary("b/x", 4, T0 + 50, T0 + 200)]


def test_a_failed_batch_leaves_nothing_and_the_writer_usable(writer: HistoryWriter, reader: HistoryReader) -> None:
    writer.append([pv("p/a", 1.0, T0)])

    def broken() -> Iterator[PointValue]:
        yield pv("p/a", 2.0, T0 + 60)
        yield pv("p/new", 5.0, T0 + 60)
        raise RuntimeError("bridge went away")

    with pytest.raises(RuntimeError):
        writer.append(broken())
    assert reader.points() == [PointSummary("p/a", 1, T0, T0)]
    # the writer forgot the rolled-back ts: the same sample is fresh again, counted once
    writer.append([pv("p/a", 2.0, T0 + 60), pv("p/new", 5.0, T0 + 60)])
    assert reader.points() == [PointSummary("p/a", 2, T0, T0 + 60), PointSummary("p/new", 1, T0 + 60, T0 + 60)]
    assert_rollups_match(reader, "p/a", {T0: 1.0, T0 + 60: 2.0})


def test_a_reopened_writer_knows_what_is_recorded(db: Path) -> None:
    with HistoryWriter(db) as w:
        w.append(pv("p/a", float(i), T0 + 60 * i) for i in range(10))
    with HistoryWriter(db) as w:
        w.append([pv("p/a", 100.0, T0 + 120), pv("p/a", 10.0, T0 + 600)])  # a replacement, then a new one
    with HistoryReader(db) as r:
        assert r.points() == [PointSummary("p/a", 11, T0, T0 + 600)]
        series = {T0 + 60 * i: float(i) for i in range(11)} | {T0 + 120: 100.0}
        assert_rollups_match(r, "p/a", series)


def test_a_file_that_is_not_a_database_is_a_store_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "history.db"
    bad.write_bytes(b"this is not SQLite" * 300)
    with pytest.raises(StoreError, match=str(bad)):
        HistoryWriter(bad)
    with pytest.raises(StoreError, match=str(bad)):
        HistoryReader(bad)


def test_a_newer_schema_is_refused(db: Path) -> None:
    HistoryWriter(db).close()
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE bms_schema SET version = 99 WHERE store = 'history'")
    conn.close()
    with pytest.raises(SchemaTooNew, match=f"{db}.*99"):
        HistoryWriter(db)
    with pytest.raises(SchemaTooNew, match=f"{db}.*99"):
        HistoryReader(db)


def test_a_reader_needs_a_history_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no history database"):
        HistoryReader(tmp_path / "missing.db")
    other = tmp_path / "overrides.db"  # another store's file
    open_database(other, "overrides", ["CREATE TABLE overrides (point_id TEXT)"]).dispose()
    with pytest.raises(StoreError, match=f"{other}: no history database of this bms"):
        HistoryReader(other)


def test_close_is_idempotent(db: Path) -> None:
    w = HistoryWriter(db, clock=ManualClock(T0))
    w.close()
    w.close()
    for use in (lambda: w.append([pv("p/a", 1.0, T0)]), lambda: w.prune(T0)):
        with pytest.raises(StoreError, match=f"{db}: the history writer is closed"):
            use()


def test_a_sample_without_a_finite_ts_is_dropped(writer: HistoryWriter, reader: HistoryReader) -> None:
    bad = [pv("p/a", 1.0, math.nan), pv("p/a", 2.0, math.inf), pv("p/a", 3.0, -math.inf)]
    assert writer.append([pv("p/a", 0.0, T0), *bad, pv("p/a", 4.0, T0 + 1)]) == 2
    assert reader.raw("p/a", -math.inf, math.inf) == [RawSample(T0, 0.0), RawSample(T0 + 1, 4.0)]
    assert writer.append(bad) == 0
