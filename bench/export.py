"""Export benchmark: rows/s through our export components beside the raw clients, and the catch-up rate.

    python bench/export.py [--points 10000] [--samples 20] [--outage 600] [--interval 10]

1. Throughput per target: ``--points`` points x ``--samples`` values each,
   published as ``ValueChanged`` batches (one per poll cycle, as the point
   store does) to an ``export:NAME`` actor, timed until the target has
   acknowledged every row (outbox on disk included); beside the raw client
   writing the same rows in the same run and the same batch size:
   influxdb-client's synchronous write API with line protocol built by
   hand (VictoriaMetrics from Debian on loopback), and psycopg COPY into
   the same table layout (the machine's PostgreSQL). Goal: >= 70% of raw.
2. Catch-up: a ``--points`` site that kept on recording during a
   ``--outage`` second outage of the target (a value per point every
   ``--interval`` s: 600,000 rows for 10,000 points and 10 minutes),
   buffered in the outbox; the target comes back and the backlog drains.
   Figure: rows/s drained and seconds to catch up.
3. MQTT: ``bench/mqtt.py``'s figures for the same number of points: the
   ``mqtt`` component publishing each value (QoS 0 and QoS 1) beside raw
   paho publishing the same payloads, timed until a subscriber has them all
   (the machine's Mosquitto).

Needs /usr/bin/victoria-metrics and PostgreSQL on 127.0.0.1:5432 (database test, trust).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from actors import ChildSpec, make_context  # noqa: E402
from actors.components.export._target import ExportTarget, outbox_path  # noqa: E402
from actors.components.export._targets import make_sink  # noqa: E402
from bms.clock import WallClock  # noqa: E402
from bms.export import (  # noqa: E402
    Backoff,
    GetTargetStatus,
    InfluxTarget,
    Outbox,
    PostgresTarget,
    TargetStatus,
)
from bms.logs import configure  # noqa: E402
from bms.messages import PointValue, ValueChanged  # noqa: E402
from tests.export_servers import PG_DSN, VM_BINARY, Victoria  # noqa: E402

BATCH = 10_000
T0 = 1_700_000_000.0


def cycles(points: int, samples: int) -> list[ValueChanged]:
    """One batch per poll cycle: every point with a new value, a second apart."""
    ids = [f"dev{p // 100}/p{p % 100}" for p in range(points)]
    return [ValueChanged(values=tuple(PointValue(point_id=pid, value=float(c * 7 + i % 13), ts=T0 + c)
                                      for i, pid in enumerate(ids))) for c in range(samples)]


def wait(predicate: Callable[[], bool], timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.005)


def through_component(kind: str, target: Any, batches: list[ValueChanged], data: Path) -> float:
    """Rows/s: publish every batch, wait until the target acknowledged all rows."""
    total = sum(len(b.values) for b in batches)
    ctx = make_context(WallClock(), data)
    try:
        spec = ChildSpec(f"export:{target.name}", ExportTarget,
                         kwargs={"target": target, "kind": kind, "make_sink": lambda t, tags: make_sink(kind, t, tags),
                                 "backoff": Backoff(initial=0.1, max_delay=0.5), "tick": 0.2, "site": "bench"})
        if ctx.supervisor.start_child(spec) is None:
            raise SystemExit(f"{kind} target did not start: {ctx.health.get(spec.name)}")
        ref = ctx.registry.get(spec.name)

        def sent() -> int:
            status: TargetStatus = ref.ask(GetTargetStatus())
            if status.reason:
                raise SystemExit(f"{kind}: {status.reason}")
            return status.sent

        start = time.perf_counter()
        for b in batches:
            ctx.registry.publish(b)
        wait(lambda: sent() >= total)
        return total / (time.perf_counter() - start)
    finally:
        ctx.supervisor.stop_all(timeout=10)


def drain(kind: str, target: Any, points: int, outage: float, interval: float, data: Path) -> tuple[int, float]:
    """The backlog of an outage in the outbox, then the target up: (rows, seconds to drain)."""
    box = Outbox(outbox_path(data, target.name))
    ids = [f"dev{p // 100}/p{p % 100}" for p in range(points)]
    rows = 0
    for c in range(int(outage / interval)):
        rows += box.append_rows([(pid, T0 + c * interval, float(c)) for pid in ids])
    box.close()
    ctx = make_context(WallClock(), data)
    try:
        start = time.perf_counter()
        spec = ChildSpec(f"export:{target.name}", ExportTarget,
                         kwargs={"target": target, "kind": kind, "make_sink": lambda t, tags: make_sink(kind, t, tags),
                                 "backoff": Backoff(initial=0.1, max_delay=0.5), "tick": 0.2, "site": "bench"})
        if ctx.supervisor.start_child(spec) is None:
            raise SystemExit(f"{kind} target did not start")
        ref = ctx.registry.get(spec.name)
        def drained() -> bool:
            status: TargetStatus = ref.ask(GetTargetStatus())
            if status.reason:
                raise SystemExit(f"{kind}: {status.reason}")
            return status.buffered == 0

        wait(drained)
        return rows, time.perf_counter() - start
    finally:
        ctx.supervisor.stop_all(timeout=10)


# ----------------------------------------------------------------- raw clients
def raw_influx(url: str, batches: list[ValueChanged]) -> float:
    """influxdb-client, synchronous write API, line protocol built by hand, BATCH lines per write."""
    import influxdb_client
    from influxdb_client.client.write_api import SYNCHRONOUS

    total = sum(len(b.values) for b in batches)
    client = influxdb_client.InfluxDBClient(url=url, token="none", org="bms")
    api = client.write_api(write_options=SYNCHRONOUS)
    start = time.perf_counter()
    lines: list[str] = []
    for b in batches:
        for v in b.values:
            lines.append(f"raw,point={v.point_id},site=bench value={float(v.value)!r} {round(v.ts * 1e6) * 1000}")  # type: ignore[arg-type]
            if len(lines) >= BATCH:
                api.write(bucket="bms", org="bms", record="\n".join(lines), write_precision="ns")
                lines = []
    if lines:
        api.write(bucket="bms", org="bms", record="\n".join(lines), write_precision="ns")
    elapsed = time.perf_counter() - start
    client.close()
    return total / elapsed


def raw_postgres(schema: str, batches: list[ValueChanged]) -> float:
    """psycopg COPY of the same rows into the same table layout, BATCH rows per transaction."""
    total = sum(len(b.values) for b in batches)
    utc = dt.UTC
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {schema}.raw (time timestamptz NOT NULL, point_id text NOT NULL,"
                     " value double precision, state text, PRIMARY KEY (point_id, time))")
        start = time.perf_counter()
        rows: list[tuple[Any, ...]] = []

        def flush() -> None:
            with conn.transaction(), conn.cursor() as cur, cur.copy(
                    f"COPY {schema}.raw (time, point_id, value, state) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(r)
            rows.clear()

        for b in batches:
            for v in b.values:
                rows.append((dt.datetime.fromtimestamp(v.ts, utc), v.point_id, float(v.value), None))  # type: ignore[arg-type]
                if len(rows) >= BATCH:
                    flush()
        if rows:
            flush()
        return total / (time.perf_counter() - start)


# ------------------------------------------------------------------------ main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=10_000)
    ap.add_argument("--samples", type=int, default=20, help="values per point in the throughput runs")
    ap.add_argument("--outage", type=float, default=600.0, help="seconds the target was down")
    ap.add_argument("--interval", type=float, default=10.0, help="seconds between a point's values")
    args = ap.parse_args()
    if shutil.which(VM_BINARY) is None:
        raise SystemExit(f"{VM_BINARY} is needed (apt-get install victoria-metrics)")
    configure(level="warning")
    batches = cycles(args.points, args.samples)
    rows = sum(len(b.values) for b in batches)
    print(f"export benchmark: {args.points} points x {args.samples} values = {rows} rows, batches of {BATCH}")
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        vm = Victoria(folder / "vm")
        vm.start()
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        try:
            results: list[tuple[str, float, float]] = []
            raw = raw_influx(vm.url, batches)
            ours = through_component("influx", InfluxTarget(name="vm", url=vm.url, batch=BATCH), batches,
                                     folder / "a")
            results.append(("influx (VictoriaMetrics)", ours, raw))
            raw = raw_postgres(schema, batches)
            ours = through_component("postgres", PostgresTarget(name="pg", dsn=PG_DSN, schema=schema, batch=BATCH),
                                     batches, folder / "b")
            results.append(("postgres (COPY)", ours, raw))
            mqtt = mqtt_figures(args.points)  # bench/mqtt.py: the mqtt component vs raw paho, same points
            for qos in (0, 1):
                f = mqtt[f"qos{qos}"]
                results.append((f"mqtt (paho, QoS {qos})", f["component_per_s"], f["raw_per_s"]))
            print(f"{'target':<28}{'ours rows/s':>14}{'raw rows/s':>14}{'ratio':>8}")
            for label, ours, raw in results:
                print(f"{label:<28}{ours:>14,.0f}{raw:>14,.0f}{ours / raw:>8.0%}")

            print(f"catch-up after a {args.outage:.0f} s outage of a {args.points}-point site "
                  f"(a value per point every {args.interval:.0f} s):")
            for kind, target in (("influx", InfluxTarget(name="vm2", url=vm.url, batch=BATCH,
                                                         measurement="catchup")),
                                 ("postgres", PostgresTarget(name="pg2", dsn=PG_DSN, schema=schema,
                                                             table="catchup", batch=BATCH))):
                backlog, seconds = drain(kind, target, args.points, args.outage, args.interval, folder / f"c{kind}")
                print(f"  {kind:<10}{backlog:>10,} rows drained in {seconds:6.1f} s: {backlog / seconds:>10,.0f} rows/s"
                      f" ({args.outage / seconds:.0f}x real time)")
        finally:
            vm.stop()
            with psycopg.connect(PG_DSN, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def mqtt_figures(points: int) -> dict[str, Any]:
    """bench/mqtt.py's ``run()`` (the mqtt component against raw paho publish on the local Mosquitto)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_mqtt", Path(__file__).with_name("mqtt.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    figures: dict[str, Any] = module.run(points=points, rounds=3)
    return figures


if __name__ == "__main__":
    main()
