"""History pipeline benchmark: bridge batches -> point store -> registry -> history.db.

    python bench/history.py [--points 2000] [--cycles 100] [--rss-points 100000]

1. Pipeline: the real ``nodes``, ``points`` and ``history`` actors on a
   site of ``--points`` Modbus points (no bridge: this script publishes one
   ``SampleBatch`` per poll cycle, as a bridge does, every value changed),
   timed until the history actor has committed every sample; beside raw
   ``sqlite3.executemany`` of the same rows, in the same batches, into a
   WITHOUT ROWID table keyed (point_id, ts), in the same run. Goal: >= 40%.
2. Queries: one point's 15-minute rollup over 30 days of 1-minute data and
   one day of raw samples, through ``HistoryReader`` beside raw SQL
   (``bench/history_store.py --points 10 --days 30``). Goal: <= 1.5x.
3. Memory: RSS of a point store (``LivePoints``) holding ``--rss-points``
   points with a value each. Goal: < 150 MB.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pykka

from actors import ChildSpec, make_context
from actors.components.history import HistoryStore
from actors.components.nodes import ModelStore
from actors.components.points import PointStore
from bms.clock import WallClock
from bms.config import LoadedScenario, ModbusBinding, ModbusDevice, PointSpec, Profile, Scenario, SiteSpec
from bms.messages import Sample, SampleBatch
from bms.points import LivePoints, PointInfo

HERE = Path(__file__).resolve().parent


def site(points: int) -> LoadedScenario:
    profile = Profile(name="bench", protocol="modbus", points=[
        PointSpec(key=f"p{i}", name=f"Point {i}", modbus=ModbusBinding(table="holding", address=i + 1))
        for i in range(points)
    ])
    scenario = Scenario(site=SiteSpec(id="b", name="Bench"),
                        devices=[ModbusDevice(id="dev", profile="bench", host="127.0.0.1")])
    return LoadedScenario(Path("bench.toml"), scenario, {"bench": profile})


def cycles(points: int, n: int, t0: float) -> list[SampleBatch]:
    ids = [f"dev/p{i}" for i in range(points)]
    return [SampleBatch(source="bench", samples=tuple(Sample(pid, float(c * 7 + i % 100), t0 + c)
                                                      for i, pid in enumerate(ids)))
            for c in range(n)]


def pipeline(points: int, n: int, data: Path) -> tuple[float, int]:
    ctx = make_context(WallClock(), data)
    try:
        for spec in (ChildSpec("nodes", ModelStore, kwargs={"site": site(points)}), ChildSpec("history", HistoryStore),
                     ChildSpec("points", PointStore)):
            assert ctx.supervisor.start_child(spec) is not None, spec.name
        history = ctx.registry.get("history").proxy()
        base = history.stored.get()
        batches = cycles(points, n, time.time() + 10)
        want = base + points * n
        start = time.perf_counter()
        for batch in batches:
            ctx.registry.publish(batch)
        while history.stored.get() < want:
            time.sleep(0.001)
        return time.perf_counter() - start, history.transactions.get()
    finally:
        ctx.supervisor.stop_all()
        pykka.ActorRegistry.stop_all()


def raw(points: int, n: int, path: Path, join: int = 1) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE samples (point_id TEXT NOT NULL, ts REAL NOT NULL, value REAL,"
                 " PRIMARY KEY (point_id, ts)) WITHOUT ROWID")
    per_cycle = [[(s.point_id, s.ts, s.value) for s in b.samples] for b in cycles(points, n, time.time() + 10)]
    rows = [list(itertools.chain.from_iterable(per_cycle[i:i + join])) for i in range(0, n, join)]
    start = time.perf_counter()
    for chunk in rows:
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO samples VALUES (?, ?, ?)", chunk)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def point_store_rss(points: int) -> tuple[float, float]:
    gc.collect()
    before = rss_mb()
    live = LivePoints(WallClock())
    spec_of = site(1).profiles["bench"].points[0]
    live.load(PointInfo(point_id=f"dev{i // 1000}/p{i}", spec=spec_of, device=f"dev{i // 1000}", protocol="modbus")
              for i in range(points))
    now = time.time()
    live.samples((Sample(f"dev{i // 1000}/p{i}", float(i), now) for i in range(points)), "bench")
    gc.collect()
    return rss_mb() - before, rss_mb()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=2000)
    ap.add_argument("--cycles", type=int, default=100)
    ap.add_argument("--rss-points", type=int, default=100_000)
    ap.add_argument("--no-queries", action="store_true", help="skip the query figures (bench/history_store.py)")
    args = ap.parse_args()
    total = args.points * args.cycles
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        ours, transactions = pipeline(args.points, args.cycles, d)
        theirs = raw(args.points, args.cycles, d / "raw.db")
        join = max(1, round(args.cycles / max(1, transactions)))
        joined = raw(args.points, args.cycles, d / "joined.db", join)
    print(f"pipeline: {args.cycles} batches of {args.points:,} changed values ({total:,} samples)")
    print(f"  bridge batch -> points -> registry -> history.db  {total / ours:>10,.0f} points/s")
    print(f"  raw sqlite3 executemany, same rows and batches    {total / theirs:>10,.0f} rows/s")
    print(f"  ratio ours / raw                                  {theirs / ours:>10.0%}   (goal >= 40%)")
    print(f"  (history joined queued batches: {transactions} transactions for {args.cycles} batches;")
    print(f"   raw executemany with {join} batches per transaction  {total / joined:>10,.0f} rows/s,"
          f" ratio {joined / ours:.0%})")
    delta, whole = point_store_rss(args.rss_points)
    print(f"\npoint store with {args.rss_points:,} points: +{delta:.0f} MB RSS (process {whole:.0f} MB)"
          "   (goal < 150 MB)")
    if not args.no_queries:
        print("\nqueries (bench/history_store.py --points 10 --days 30 --repeat 1):", flush=True)
        subprocess.run([sys.executable, str(HERE / "history_store.py"), "--points", "10", "--days", "30",
                        "--repeat", "1"], check=True)


if __name__ == "__main__":
    main()
