"""History store benchmark: HistoryWriter.append vs raw executemany, HistoryReader vs raw SQL.

    python bench/history_store.py [--points 10] [--days 30] [--batch 10000] [--repeat 3]

Builds ``--points`` × ``--days`` of one-minute samples (432,000 rows by
default), then, in the same run and on the same machine:

* insert rows/s, batches of ``--batch`` in one transaction each, of
  ``HistoryWriter.append`` (raw rows + 15m/1h/1d rollups + point stats)
  beside ``sqlite3.executemany`` of the same rows into a plain WITHOUT ROWID
  table keyed (point_id TEXT, ts), and into one keyed (point INTEGER, ts)
  like the store's own raw table; best of ``--repeat`` fresh files each;
* a re-sent batch (every row a duplicate: replaced and its buckets rebuilt);
* query time (median of 50): one point's 15-minute rollup over the whole
  span through ``HistoryReader.rollup`` beside the same aggregation done by
  SQL over the plain table (GROUP BY ts/900), and one day of raw samples
  through ``HistoryReader.raw`` beside a plain SELECT.

Goals (history store issue): append >= 40% of raw executemany for the whole
pipeline (so the store alone well above); queries <= 1.5x raw SQL.
"""

from __future__ import annotations

import argparse
import math
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bms.clock import ManualClock
from bms.history import HistoryReader, HistoryWriter
from bms.messages import PointValue

T0 = 1_700_006_400.0  # a UTC midnight
MINUTE = 60.0
# the plain tables get the writer's page cache and checkpoint interval, so both sides run alike
CACHE, CHECKPOINT = -32768, 4000


def make_values(points: int, days: float) -> list[PointValue]:
    """One sample per point per minute, interleaved by minute as bridges deliver them."""
    names = [f"ahu{p}/sat" for p in range(points)]
    minutes = int(days * 1440)
    return [
        PointValue(names[p], 18.0 + 4.0 * math.sin(m / 90.0 + p) + (m % 7) * 0.01, T0 + m * MINUTE)
        for m in range(minutes)
        for p in range(points)
    ]


def batches(seq: list[Any], size: int) -> list[list[Any]]:
    return [seq[i:i + size] for i in range(0, len(seq), size)]


def fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def plain_db(path: Path, key: str) -> sqlite3.Connection:
    conn = sqlite3.connect(fresh(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"PRAGMA cache_size={CACHE}")
    conn.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT}")
    col = key.split()[0]
    conn.execute(f"CREATE TABLE samples ({key} NOT NULL, ts REAL NOT NULL, value REAL,"
                 f" PRIMARY KEY ({col}, ts)) WITHOUT ROWID")
    return conn


def insert_plain(conn: sqlite3.Connection, chunks: list[list[tuple[Any, ...]]]) -> float:
    start = time.perf_counter()
    for rows in chunks:
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO samples VALUES (?, ?, ?)", rows)
        conn.execute("COMMIT")
    return time.perf_counter() - start


def insert_store(path: Path, chunks: list[list[PointValue]]) -> tuple[float, HistoryWriter]:
    writer = HistoryWriter(fresh(path), clock=ManualClock(T0))
    start = time.perf_counter()
    for values in chunks:
        writer.append(values)
    return time.perf_counter() - start, writer


def median_ms(fn: Callable[[], object], runs: int = 50) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def size_mb(path: Path) -> float:
    return sum(Path(f"{path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{path}{s}").exists()) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=10)
    ap.add_argument("--days", type=float, default=30.0)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    values = make_values(args.points, args.days)
    names = sorted({v.point_id for v in values})
    index = {n: i + 1 for i, n in enumerate(names)}
    store_chunks = batches(values, args.batch)
    text_chunks = batches([(v.point_id, v.ts, v.value) for v in values], args.batch)
    int_chunks = batches([(index[v.point_id], v.ts, v.value) for v in values], args.batch)
    n = len(values)
    print(f"{n:,} rows ({args.points} points x {args.days:g} days of 1-minute data), batches of {args.batch:,}")

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        best: dict[str, float] = {}
        for _ in range(args.repeat):
            for label, key, chunks in (("raw text key", "point_id TEXT", text_chunks),
                                       ("raw int key", "point INTEGER", int_chunks)):
                conn = plain_db(d / f"{label[4:7]}.db", key)
                best[label] = min(best.get(label, math.inf), insert_plain(conn, chunks))
                conn.close()
            elapsed, writer = insert_store(d / "history.db", store_chunks)
            best["store"] = min(best.get("store", math.inf), elapsed)
            writer.close()

        print(f"\ninsert (best of {args.repeat})")
        for label in ("raw text key", "raw int key", "store"):
            print(f"  {label:<14} {n / best[label]:>10,.0f} rows/s")
        print(f"  store / raw text key  {best['raw text key'] / best['store']:.0%}")
        print(f"  store / raw int key   {best['raw int key'] / best['store']:.0%}")

        with HistoryWriter(d / "history.db", clock=ManualClock(T0)) as writer:
            again = store_chunks[len(store_chunks) // 2]
            start = time.perf_counter()
            writer.append(again)
            print(f"  re-sent batch (all duplicates, buckets rebuilt) {len(again) / (time.perf_counter() - start):,.0f} rows/s")
        print(f"\nsize: store {size_mb(d / 'history.db'):.1f} MB (raw + rollups), "
              f"plain text key {size_mb(d / 'tex.db'):.1f} MB, plain int key {size_mb(d / 'int.db'):.1f} MB")

        point = names[len(names) // 2]
        span_end = T0 + args.days * 86400
        day = (T0 + 86400 * (args.days // 2), T0 + 86400 * (args.days // 2 + 1))
        plain = sqlite3.connect(f"file:{d / 'tex.db'}?mode=ro", uri=True, isolation_level=None)
        agg_sql = ("SELECT CAST(ts / 900 AS INTEGER) * 900, min(value), max(value), avg(value), count(value)"
                   " FROM samples WHERE point_id = ? AND ts >= ? AND ts < ? GROUP BY CAST(ts / 900 AS INTEGER)")
        raw_sql = "SELECT ts, value FROM samples WHERE point_id = ? AND ts >= ? AND ts < ? ORDER BY ts"
        with HistoryReader(d / "history.db") as reader:
            assert len(reader.rollup(point, T0, span_end, "15m").buckets) == len(
                plain.execute(agg_sql, (point, T0, span_end)).fetchall())
            assert len(reader.raw(point, *day)) == len(plain.execute(raw_sql, (point, *day)).fetchall())
            figures = [
                (f"15m rollup, {args.days:g} days",
                 median_ms(lambda: reader.rollup(point, T0, span_end, "15m")),
                 median_ms(lambda: plain.execute(agg_sql, (point, T0, span_end)).fetchall())),
                ("raw samples, 1 day",
                 median_ms(lambda: reader.raw(point, *day)),
                 median_ms(lambda: plain.execute(raw_sql, (point, *day)).fetchall())),
            ]
            auto = median_ms(lambda: reader.rollup(point, T0, span_end))
        plain.close()
        print("\nquery (median of 50)         reader     raw SQL   ratio")
        for label, mine, theirs in figures:
            print(f"  {label:<26} {mine:>7.2f} ms {theirs:>7.2f} ms   {mine / theirs:.2f}x")
        print(f"  auto tier, {args.days:g} days          {auto:>7.2f} ms")


if __name__ == "__main__":
    main()
