"""Audit log benchmark: point writes through the API with the audit log on and off, and verify time.

    python bench/audit.py [--clients 4] [--seconds 10] [--rounds 2] [--rows 1000000]

* point writes per second (and p50, p99) through a real daemon's API with
  ``--clients`` client processes, each commanding ``room1/sp`` of the
  virtual-room site at its own priority, for ``--seconds``; once against a
  daemon whose audit log is on (every write committed to ``audit.db``
  before it is answered) and once against one with ``[audit] enabled =
  false``, alternated for ``--rounds`` rounds (one-shot figures vary on
  these machines); the best round of each, and their ratio (goal: at least
  70% of the unaudited rate);
* ``bms audit verify`` of a log of ``--rows`` rows (default a million):
  the chain walk alone (``AuditLog.verify``) and the whole command as a
  user runs it (interpreter start included). Goal: under 5 s.

Figures, not assertions; every daemon is stopped at the end.
"""

from __future__ import annotations

import argparse
import multiprocessing
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from api import ROOT, pct, start_daemon, stop_daemon

from bms.audit import AuditEntry, AuditLog
from bms.client import ApiClient
from bms.errors import BmsError

SITE = ROOT / "tests/data/site.toml"
POINT = "room1/sp"


def settings(folder: Path, audited: bool) -> Path:
    path = folder / "bms.toml"
    path.write_text(f'[daemon]\nscenario = "{SITE}"\n\n[log]\nlevel = "warning"\n\n'
                    f'[audit]\nenabled = {"true" if audited else "false"}\n')
    return path


def write_worker(data: str, n: int, seconds: float, ready: Any, go: Any, out: Any) -> None:
    """One client process: writes at priority 9 + n for ``seconds``; latencies back through ``out``."""
    mine: list[float] = []
    error = ""
    with ApiClient.from_data_dir(Path(data)) as client:
        client.write(POINT, 20.0, priority=9 + n)  # connection up before the clock starts
        ready.release()
        go.wait()
        deadline = time.perf_counter() + seconds
        i = 0
        try:
            while time.perf_counter() < deadline:
                value = 16.0 + (i % 100) / 10
                t0 = time.perf_counter()
                client.write(POINT, value, priority=9 + n)
                mine.append(time.perf_counter() - t0)
                i += 1
        except BmsError as err:
            error = str(err)
    out.put((mine, error))


def bench_writes(audited: bool, clients: int, seconds: float) -> tuple[float, float, float]:
    """(writes/s, p50 s, p99 s) against a fresh daemon."""
    with tempfile.TemporaryDirectory(prefix="bms-bench-audit-") as tmp:
        data = Path(tmp)
        proc = start_daemon(data, settings(data, audited))
        try:
            ctx = multiprocessing.get_context("spawn")
            ready, go, out = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
            procs = [ctx.Process(target=write_worker, args=(str(data), n, seconds, ready, go, out))
                     for n in range(clients)]
            for p in procs:
                p.start()
            for _ in procs:
                ready.acquire()
            t0 = time.perf_counter()
            go.set()
            results = [out.get() for _ in procs]
            elapsed = time.perf_counter() - t0
            for p in procs:
                p.join()
            rows = AuditLog(data / "audit.db", readonly=True).count() if audited else 0
        finally:
            stop_daemon(proc)
    errors = [e for _, e in results if e]
    if errors:
        raise SystemExit(f"writes failed: {errors[0]}")
    flat = [x for xs, _ in results for x in xs]
    if audited and rows < len(flat):
        raise SystemExit(f"{len(flat)} writes acknowledged but only {rows} audit rows")
    return len(flat) / elapsed, pct(flat, 0.5), pct(flat, 0.99)


def bench_verify(rows: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bms-bench-audit-verify-") as tmp:
        data = Path(tmp)
        log = AuditLog(data / "audit.db")
        t0 = time.perf_counter()
        batch = 10_000
        for start in range(0, rows, batch):
            log.append([AuditEntry(at=1_700_000_000.0 + i, user="olga", token="laptop", origin="api 127.0.0.1",
                                   action="writePoint", target=f"ahu{i % 40}/sat_sp",
                                   before='{"priority":8,"value":21.0,"user":"olga"}',
                                   after=f'{{"priority":8,"value":{i % 300 / 10},"user":"olga","effective":21.0}}')
                        for i in range(start, min(rows, start + batch))])
        built = time.perf_counter() - t0
        verdict = log.verify()
        log.close()
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "bms", "audit", "verify", "--data", str(data)], cwd=ROOT,
                              capture_output=True, text=True)
        command = time.perf_counter() - t0
        if done.returncode != 0 or not verdict.intact:
            raise SystemExit(f"verify failed: {done.stderr or verdict.reason}")
    print(f"audit verify ({verdict.rows:,} rows, written in {built:.1f} s, {built / rows * 1e6:.1f} us/row in "
          f"batches of {batch:,}): chain walk {verdict.seconds:.2f} s ({verdict.rows / verdict.seconds:,.0f} rows/s); "
          f"`bms audit verify` {command:.2f} s in all (goal: under 5 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    best: dict[bool, tuple[float, float, float]] = {}
    for r in range(args.rounds):
        for audited in (True, False) if r % 2 == 0 else (False, True):
            rate, p50, p99 = bench_writes(audited, args.clients, args.seconds)
            label = "audit on " if audited else "audit off"
            print(f"round {r + 1}, {label}: {rate:,.0f} writes/s, p50 {p50 * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms",
                  flush=True)
            if audited not in best or rate > best[audited][0]:
                best[audited] = (rate, p50, p99)
    on, off = best[True], best[False]
    print(f"point writes through the API ({args.clients} client processes, {args.seconds:g} s, best of "
          f"{args.rounds}): audit on {on[0]:,.0f} writes/s (p50 {on[1] * 1e3:.2f} ms, p99 {on[2] * 1e3:.2f} ms), "
          f"audit off {off[0]:,.0f} writes/s (p50 {off[1] * 1e3:.2f} ms, p99 {off[2] * 1e3:.2f} ms): "
          f"{on[0] / off[0]:.0%} of the unaudited rate (goal: at least 70%)")
    bench_verify(args.rows)


if __name__ == "__main__":
    main()
