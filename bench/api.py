"""Local API benchmark against a real daemon process.

    python bench/api.py [--site tests/data/site.toml] [--clients 4] [--reads 20000] [--seconds 20] [--changes 300]

Starts ``bms daemon`` on a temporary data directory, then prints:

* point reads per second and latency (p50, p99) with ``--clients`` client
  processes, each with its own ApiClient, reading ``--point`` until ``--reads`` reads
  in all or ``--seconds`` have passed;
* live-stream latency (p50, p99) of ``--changes`` writes of ``--setpoint``:
  from sending the write to the ValueChanged arriving on the stream, and
  from the change's own timestamp (set by the point store) to its arrival;
* device-to-stream latency (p50, p99) of ``--changes`` value changes made
  on a simulated BACnet device (a bacpypes3 device in this process, on
  loopback) whose point the bridge follows by COV: from the change on the
  device to its ValueChanged arriving on a client's live stream, through
  COV notification -> bridge -> point store -> stream hub -> SSE.

Figures, not assertions; the daemon is stopped at the end.
"""

from __future__ import annotations

import argparse
import multiprocessing
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bms.client import ApiClient
from bms.daemon import read_daemon_info
from bms.errors import BmsError
from bms.messages import ValueChanged

ROOT = Path(__file__).resolve().parent.parent


def start_daemon(data: Path, site: Path, timeout: float = 30.0) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "bms", "daemon", "--data", str(data), "--api-port", "0", "--config", str(site)]
    with open(data / "daemon.log", "wb") as log:  # a file, not a pipe: nobody reads the log while the bench runs
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + timeout
    while read_daemon_info(data) is None or not (data / "api.token").exists():
        if proc.poll() is not None:
            err = (data / "daemon.log").read_text()
            raise SystemExit(f"the daemon exited ({proc.returncode}):\n{err[-3000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"the daemon did not write daemon.json within {timeout:g} s")
        time.sleep(0.05)
    return proc


def stop_daemon(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def read_worker(data: str, point: str, count: int, seconds: float, ready: Any, go: Any, out: Any) -> None:
    """One client process: ``count`` reads of ``point`` (or ``seconds``), latencies back through ``out``."""
    mine: list[float] = []
    error = ""
    with ApiClient.from_data_dir(Path(data)) as client:
        client.point(point)  # connection up before the clock starts
        ready.release()
        go.wait()
        deadline = time.perf_counter() + seconds
        try:
            for _ in range(count):
                t0 = time.perf_counter()
                client.point(point)
                mine.append(time.perf_counter() - t0)
                if t0 > deadline:
                    break
        except BmsError as err:
            error = str(err)
    out.put((mine, error))


def bench_reads(data: Path, point: str, clients: int, total: int, seconds: float) -> None:
    """``clients`` client processes (their own interpreters: the figure is the daemon's, not one client's GIL)."""
    ctx = multiprocessing.get_context("spawn")
    ready, go, out = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=read_worker, args=(str(data), point, total // clients, seconds, ready, go, out))
             for _ in range(clients)]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.acquire()
    t0 = time.perf_counter()
    go.set()
    results = [out.get() for _ in procs]
    elapsed = time.perf_counter() - t0
    for proc in procs:
        proc.join()
    errors = [e for _, e in results if e]
    if errors:
        raise SystemExit(f"reads failed: {errors[0]}")
    flat = [x for xs, _ in results for x in xs]
    print(f"point reads ({clients} client processes, {len(flat)} reads of {point} in {elapsed:.2f} s): "
          f"{len(flat) / elapsed:,.0f} reads/s, p50 {pct(flat, 0.5) * 1e3:.2f} ms, p99 {pct(flat, 0.99) * 1e3:.2f} ms")


def bench_stream(data: Path, setpoint: str, changes: int) -> None:
    from_write: list[float] = []
    from_change: list[float] = []
    with ApiClient.from_data_dir(data) as client, client.stream(points=[setpoint]) as events:
        for i in range(changes):
            value = 20.0 + (i % 50) / 10 + (0.01 if i % 2 else 0.0)
            t0 = time.perf_counter()
            client.write(setpoint, value)
            for event in events:
                if isinstance(event, ValueChanged):
                    hit = [v for v in event.values if v.point_id == setpoint and v.value == value]
                    if hit:
                        from_write.append(time.perf_counter() - t0)
                        from_change.append(time.time() - hit[-1].ts)
                        break
    print(f"live stream ({changes} writes of {setpoint}): write -> event p50 {pct(from_write, 0.5) * 1e3:.2f} ms, "
          f"p99 {pct(from_write, 0.99) * 1e3:.2f} ms; change -> event p50 {pct(from_change, 0.5) * 1e3:.2f} ms, "
          f"p99 {pct(from_change, 0.99) * 1e3:.2f} ms; mean {statistics.fmean(from_write) * 1e3:.2f} ms")


DEVICE_PORT = 47960  # the simulated device's BACnet port; the daemon's client takes the next one
DEVICE_ADDRESS = "127.0.0.60"


def device_scenario(folder: Path) -> Path:
    path = folder / "device-site.toml"
    path.write_text(f"""profile_dirs = ["{ROOT / 'conf/profiles'}"]
[site]
id = "bench"
name = "Bench"
[networks.bacnet.lan]
address = "127.0.0.1/8:{DEVICE_PORT + 1}"
device_port = {DEVICE_PORT}
poll_interval = 60.0
[[devices]]
id = "ahu1"
profile = "ahu"
protocol = "bacnet"
network = "lan"
address = "{DEVICE_ADDRESS}"
device_instance = 1001
""")
    return path


def bench_device_stream(changes: int) -> None:
    from actors.components.sim_bacnet import BacnetSimulatorThread
    from bms.config import load_profile
    from bms.sim.bacnet import BacnetSimulator

    profile, problems = load_profile(ROOT / "conf/profiles/ahu.toml")
    assert profile is not None, problems
    sim = BacnetSimulatorThread(BacnetSimulator([(1001, DEVICE_ADDRESS, profile)], DEVICE_PORT, interval=None))
    try:
        with tempfile.TemporaryDirectory(prefix="bms-bench-api-device-") as tmp:
            data = Path(tmp)
            proc = start_daemon(data, device_scenario(data))
            try:
                latencies = device_changes(data, sim, changes)
            finally:
                stop_daemon(proc)
    finally:
        sim.stop()
    print(f"device -> live stream ({changes} changes of ahu1/oat on a simulated BACnet device, COV): "
          f"p50 {pct(latencies, 0.5) * 1e3:.2f} ms, p99 {pct(latencies, 0.99) * 1e3:.2f} ms, "
          f"mean {statistics.fmean(latencies) * 1e3:.2f} ms")


def device_changes(data: Path, sim: Any, changes: int) -> list[float]:
    latencies: list[float] = []
    with ApiClient.from_data_dir(data) as client, client.stream(points=["ahu1/oat"]) as events:
        deadline = time.monotonic() + 30
        while client.point("ahu1/oat").value is None:  # the first poll, then the COV subscription
            if time.monotonic() > deadline:
                raise SystemExit("the daemon never read ahu1/oat from the simulated device")
            time.sleep(0.05)
        time.sleep(1.0)  # let the subscription settle: the first notification follows the subscribe
        for i in range(changes):
            value = 10.0 + (i % 2) * 5.0 + i * 0.001  # well past the point's 0.2 COV increment each time
            t0 = time.perf_counter()
            sim.set_value(1001, "analog-input,1", value)
            for event in events:
                if isinstance(event, ValueChanged) and any(
                        v.point_id == "ahu1/oat" and isinstance(v.value, float) and abs(v.value - value) < 1e-3
                        for v in event.values):
                    latencies.append(time.perf_counter() - t0)
                    break
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--site", type=Path, default=ROOT / "tests/data/site.toml")
    parser.add_argument("--point", default="room1/temp")
    parser.add_argument("--setpoint", default="room1/sp")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--reads", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--changes", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bms-bench-api-") as tmp:
        data = Path(tmp)
        t0 = time.perf_counter()
        proc = start_daemon(data, args.site)
        print(f"daemon up in {time.perf_counter() - t0:.2f} s on {read_daemon_info(data).api_url}")  # type: ignore[union-attr]
        try:
            bench_reads(data, args.point, args.clients, args.reads, args.seconds)
            bench_stream(data, args.setpoint, args.changes)
        finally:
            stop_daemon(proc)
    bench_device_stream(args.changes)


if __name__ == "__main__":
    main()
