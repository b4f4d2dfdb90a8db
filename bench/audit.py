"""Audit log benchmark: point writes through the API with the audit log on and off, and verify time.

    python bench/audit.py [--clients 4] [--seconds 2] [--phases 16] [--rows 1000000]

* point writes per second (and p50, p99) through a real daemon's API with
  ``--clients`` client processes, each commanding ``room1/sp`` of the
  virtual-room site at its own priority: against a daemon whose audit log
  is on (every write committed to ``audit.db`` before it is answered) and
  one with ``[audit] enabled = false``, both running, driven in
  ``--phases`` alternating phases of ``--seconds`` (on, off, off, on...: the
  load of other processes on a shared machine weighs on both alike), and
  their ratio (goal: at least 70% of the unaudited rate), and the daemon's
  CPU time per write in each (steadier than rates on a shared machine);
* ``bms audit verify`` of a log of ``--rows`` rows (default a million):
  the chain walk alone (``AuditLog.verify``) and the whole command as a
  user runs it (interpreter start included). Goal: under 5 s.

Figures, not assertions; every daemon is stopped at the end.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
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


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def write_worker(datas: list[str], n: int, commands: Any, out: Any) -> None:
    """One client process with a client per daemon: for each ``(daemon index, seconds)`` it is sent, writes
    at priority 9 + n to that daemon for that long and answers its latencies (``None`` ends it)."""
    clients = [ApiClient.from_data_dir(Path(d)) for d in datas]
    try:
        for client in clients:
            client.write(POINT, 20.0, priority=9 + n)  # connections up before the clock starts
        out.put(([], ""))
        i = 0
        while (phase := commands.get()) is not None:
            which, seconds = phase
            mine: list[float] = []
            error = ""
            deadline = time.perf_counter() + seconds
            try:
                while time.perf_counter() < deadline:
                    t0 = time.perf_counter()
                    clients[which].write(POINT, 16.0 + (i % 100) / 10, priority=9 + n)
                    mine.append(time.perf_counter() - t0)
                    i += 1
            except BmsError as err:
                error = str(err)
            out.put((mine, error))
    finally:
        for client in clients:
            client.close()


def bench_writes(clients: int, seconds: float, phases: int) -> dict[bool, list[float]]:
    """Both daemons run at once; the clients drive one at a time in short alternating phases (on off off on
    on off ...), so that the load other processes put on the machine weighs on both alike.
    By mode: writes/s, p50, p99 and the daemon's CPU seconds per write."""
    with tempfile.TemporaryDirectory(prefix="bms-bench-audit-on-") as on, \
            tempfile.TemporaryDirectory(prefix="bms-bench-audit-off-") as off:
        datas = [Path(on), Path(off)]
        procs = [start_daemon(d, settings(d, audited)) for d, audited in zip(datas, (True, False), strict=True)]
        try:
            ctx = multiprocessing.get_context("spawn")
            commands = [ctx.Queue() for _ in range(clients)]
            out = ctx.Queue()
            workers = [ctx.Process(target=write_worker, args=([str(d) for d in datas], n, commands[n], out))
                       for n in range(clients)]
            for w in workers:
                w.start()
            for _ in workers:
                out.get()
            found: dict[bool, list[float]] = {True: [], False: []}
            elapsed = {True: 0.0, False: 0.0}
            cpu = {True: 0.0, False: 0.0}
            for k in range(phases):
                audited = (k % 4) in (0, 3)  # on off off on, on off off on...
                daemon = procs[0 if audited else 1].pid
                t0, c0 = time.perf_counter(), cpu_seconds(daemon)
                for q in commands:
                    q.put((0 if audited else 1, seconds))
                results = [out.get() for _ in workers]
                elapsed[audited] += time.perf_counter() - t0
                cpu[audited] += cpu_seconds(daemon) - c0
                errors = [e for _, e in results if e]
                if errors:
                    raise SystemExit(f"writes failed: {errors[0]}")
                found[audited] += [x for xs, _ in results for x in xs]
            for q in commands:
                q.put(None)
            for w in workers:
                w.join()
            rows = AuditLog(datas[0] / "audit.db", readonly=True).count()
        finally:
            for proc in procs:
                stop_daemon(proc)
    if rows < len(found[True]):
        raise SystemExit(f"{len(found[True])} audited writes acknowledged but only {rows} audit rows")
    return {mode: [len(found[mode]) / elapsed[mode], pct(found[mode], 0.5), pct(found[mode], 0.99),
                   cpu[mode] / len(found[mode])] for mode in (True, False)}


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
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one phase")
    parser.add_argument("--phases", type=int, default=16, help="phases in all, half of them audited")
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    figures = bench_writes(args.clients, args.seconds, args.phases)
    on, off = figures[True], figures[False]
    print(f"point writes through the API ({args.clients} client processes, {args.phases} alternating phases of "
          f"{args.seconds:g} s): audit on {on[0]:,.0f} writes/s (p50 {on[1] * 1e3:.2f} ms, p99 {on[2] * 1e3:.2f} ms), "
          f"audit off {off[0]:,.0f} writes/s (p50 {off[1] * 1e3:.2f} ms, p99 {off[2] * 1e3:.2f} ms): "
          f"{on[0] / off[0]:.0%} of the unaudited rate (goal: at least 70%); daemon CPU per write "
          f"{on[3] * 1e3:.2f} ms against {off[3] * 1e3:.2f} ms", flush=True)
    bench_verify(args.rows)


if __name__ == "__main__":
    main()
