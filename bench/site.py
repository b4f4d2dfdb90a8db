"""Whole-site benchmark: the daemon as a process on a generated site, simulators in their own processes.

    python bench/site.py [--devices 200] [--points 500] [--poll 10] [--seconds 180] [--with ENGINE ...]

Generates into a temporary directory a scenario of ``--devices`` Modbus TCP
devices of ``--points`` float32 holding registers (one simulated server per
device, ``--per-process`` devices per simulator process) polled every
``--poll`` seconds, plus a BACnet share: ``--bacnet-devices`` simulated
devices of ``--bacnet-points`` analog inputs followed by COV (one more
process). Starts ``bms daemon --no-simulate`` on it, waits for it to be
Healthy and for every point to be in history.db (start-up), then for
``--seconds`` the simulators change values at known times: ``--fraction``
of the Modbus points per poll interval, spread over the interval, each point
at most once (so no change is overwritten before a poll can see it), and
``--bacnet-changes`` BACnet values per second. Every change writes a value
used once in the run (1, 2, 3...), so it is found by (point, value).

Prints for the daemon process only (not the simulators): CPU % of one
core over the window (utime + stime from /proc/PID/stat) and for start-up;
RSS now and peak, RssAnon (/proc/PID/status); p50/p99 latency from a
simulator's change to its row in history.db (read-only polling every
``--scan`` s, so the figure is to that resolution) and to the API's live
stream (a client in its own process); changes lost (made by a simulator,
never in history.db). Beside it, the floor measured in the same run: raw
pymodbus (one AsyncModbusTcpClient per device, in its own process) reading
the same register blocks of the same devices at the same interval, its CPU
and the ratio daemon / floor. ``--with NAME`` adds a later engine's load
(see ENGINES). Traffic stays on loopback; every process is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIRST_ADDRESS = 100
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Site:
    """The generated site: files in ``folder``, devices, points, and what a child process needs."""

    folder: Path
    devices: int
    points: int
    poll: float
    bacnet_devices: int
    bacnet_points: int
    bacnet_port: int
    scenario: Path = field(init=False)
    extra_toml: list[str] = field(default_factory=list)  # scenario text added by engines

    def __post_init__(self) -> None:
        self.scenario = self.folder / "site.toml"

    def modbus_ids(self) -> list[str]:
        return [f"mb{d:03d}/p{i:03d}" for d in range(self.devices) for i in range(self.points)]

    def bacnet_ids(self) -> list[str]:
        return [f"bn{d}/ai{i}" for d in range(self.bacnet_devices) for i in range(1, self.bacnet_points + 1)]


@dataclass(frozen=True)
class Engine:
    """A later engine's share of the site: ``prepare`` adds its configuration (alarms, programs, rules, targets)."""

    describe: str
    prepare: Callable[[Site], None]


ENGINES: dict[str, Engine] = {}
"""``--with NAME``: engines that exist add their load here (alarms, logic, FDD, export), one entry each."""


# ------------------------------------------------------------ the site files


def write_profiles(site: Site) -> None:
    profiles = site.folder / "profiles"
    profiles.mkdir(exist_ok=True)
    lines = ['name = "bench-modbus"', 'protocol = "modbus"', 'equip = "meter-bank"']
    for i in range(site.points):
        lines += ["[[points]]", f'key = "p{i:03d}"', f'name = "Point {i}"',
                  f'modbus = {{ table = "holding", address = {FIRST_ADDRESS + 2 * i}, type = "float32" }}']
    (profiles / "bench-modbus.toml").write_text("\n".join(lines) + "\n")
    lines = ['name = "bench-bacnet"', 'protocol = "bacnet"']
    for i in range(1, site.bacnet_points + 1):
        lines += ["[[points]]", f'key = "ai{i}"', f'name = "Input {i}"', "cov_increment = 0.5",
                  f'bacnet = {{ object = "analog-input,{i}", cov = true }}']
    (profiles / "bench-bacnet.toml").write_text("\n".join(lines) + "\n")


def write_scenario(site: Site, ports: list[int]) -> None:
    lines = [f'profile_dirs = ["{site.folder / "profiles"}"]', "[site]", 'id = "bench"', 'name = "Bench site"',
             "[networks.modbus.field]", 'kind = "tcp"', f"poll_interval = {site.poll}", "timeout = 2.0"]
    if site.bacnet_devices:
        lines += ["[networks.bacnet.bench]", f'address = "127.0.0.1/8:{site.bacnet_port + 1}"',
                  f"device_port = {site.bacnet_port}", f"poll_interval = {site.poll}"]
    for d, port in enumerate(ports):
        lines += ["[[devices]]", f'id = "mb{d:03d}"', 'profile = "bench-modbus"', 'protocol = "modbus"',
                  'network = "field"', 'host = "127.0.0.1"', f"port = {port}", "unit_id = 1"]
    for d in range(site.bacnet_devices):
        lines += ["[[devices]]", f'id = "bn{d}"', 'profile = "bench-bacnet"', 'protocol = "bacnet"',
                  'network = "bench"', f'address = "{bacnet_address(d)}"', f"device_instance = {5000 + d}"]
    site.scenario.write_text("\n".join(lines + site.extra_toml) + "\n")


def bacnet_address(device: int) -> str:
    return f"127.0.0.{100 + device}"


def schedule(site: Site, seconds: float, every: float, fraction: float, bacnet_rate: float,
             seed: int) -> list[list[tuple[str, float]]]:
    """Per tick (every ``every`` s): the (point id, new value) changes; values are used once in the run."""
    rng = random.Random(seed)
    modbus, bacnet = site.modbus_ids(), site.bacnet_ids()
    rng.shuffle(modbus)
    rng.shuffle(bacnet)
    per_tick = fraction * len(modbus) * every / site.poll
    bacnet_per_tick = bacnet_rate * every if bacnet else 0.0
    ticks: list[list[tuple[str, float]]] = []
    value, owed, owed_bn, m, b = 1.0, 0.0, 0.0, 0, 0
    for _ in range(int(seconds / every)):
        owed, owed_bn = owed + per_tick, owed_bn + bacnet_per_tick
        tick: list[tuple[str, float]] = []
        while owed >= 1:  # each point once per pass over the shuffled list: never twice in one poll
            tick.append((modbus[m % len(modbus)], value))
            value, owed, m = value + 1, owed - 1, m + 1
        while owed_bn >= 1:
            tick.append((bacnet[b % len(bacnet)], value))
            value, owed_bn, b = value + 1, owed_bn - 1, b + 1
        ticks.append(tick)
    return ticks


# ------------------------------------------------------------ child processes


class Child:
    """A child process in its own session: one JSON line when ready, ``go T0`` on stdin, its result on EOF."""

    def __init__(self, *args: str, cwd: Path = ROOT) -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, *args], cwd=cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, start_new_session=True)
        line = self._stdout.readline()
        if not line:
            raise SystemExit(f"child {args[:2]} exited ({self.proc.wait()}) before it was ready")
        self.ready = json.loads(line)

    @property
    def _stdout(self) -> IO[str]:
        assert self.proc.stdout is not None
        return self.proc.stdout

    def go(self, t0: float) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"go {t0}\n")
        self.proc.stdin.flush()

    def result(self, timeout: float = 60.0) -> Any:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        line = self._stdout.readline()
        self.proc.wait(timeout)
        return json.loads(line) if line else None

    def kill(self) -> None:
        kill_group(self.proc)


def kill_group(proc: subprocess.Popen[Any], grace: float = 10.0) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(grace)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # anything left in its group
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait(5)


def wait_go() -> float:
    line = sys.stdin.readline()
    if not line.startswith("go "):
        raise SystemExit(0)
    return float(line.split()[1])


async def stdin_closed() -> None:
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


async def play(ticks: list[list[tuple[str, float]]], mine: dict[str, Callable[[float], Any]], t0: float,
               every: float, log: list[tuple[str, float, float]]) -> None:
    """Make this process's changes at their ticks; log (point, value, time made)."""
    for k, tick in enumerate(ticks):
        due = [(pid, v) for pid, v in tick if pid in mine]
        await asyncio.sleep(max(0.0, t0 + k * every - time.time()))
        for pid, value in due:
            await mine[pid](value)
            log.append((pid, value, time.time()))


async def serve_modbus(spec: dict[str, Any], first: int, count: int) -> None:
    from bms.config import load_profile
    from bms.sim.modbus import ModbusSimulator

    profile, problems = load_profile(Path(spec["folder"]) / "profiles" / "bench-modbus.toml")
    assert profile is not None, problems
    sims = [ModbusSimulator({1: profile}, "127.0.0.1", 0, interval=3600.0) for _ in range(count)]
    for sim in sims:
        await sim.start()
    print(json.dumps([sim.port for sim in sims]), flush=True)
    await served(spec, {f"mb{first + d:03d}": sim for d, sim in enumerate(sims)},
                 lambda sim, key: lambda v: sim.set_point(1, key, v))
    for sim in sims:
        await sim.stop()


async def serve_bacnet(spec: dict[str, Any]) -> None:
    from bms.config import load_profile
    from bms.sim.bacnet import BacnetSimulator

    profile, problems = load_profile(Path(spec["folder"]) / "profiles" / "bench-bacnet.toml")
    assert profile is not None, problems
    sim = BacnetSimulator([(5000 + d, bacnet_address(d), profile) for d in range(spec["bacnet_devices"])],
                          spec["bacnet_port"], interval=None)
    await sim.start()
    print(json.dumps("ready"), flush=True)

    def setter(instance: int, key: str) -> Callable[[float], Any]:
        async def set_value(value: float) -> None:
            sim.set_value(instance, f"analog-input,{key[2:]}", value)
        return set_value

    await served(spec, {f"bn{d}": 5000 + d for d in range(spec["bacnet_devices"])}, setter)
    await sim.stop()


async def served(spec: dict[str, Any], devices: dict[str, Any], setter: Callable[[Any, str], Any]) -> None:
    """Wait for go, play this process's changes until stdin closes, print the change log."""
    t0 = await asyncio.get_running_loop().run_in_executor(None, wait_go)
    ticks = json.loads(Path(spec["schedule"]).read_text())
    mine = {pid: setter(devices[pid.split("/")[0]], pid.split("/")[1])
            for tick in ticks for pid, _ in tick if pid.split("/")[0] in devices}
    log: list[tuple[str, float, float]] = []
    player = asyncio.create_task(play(ticks, mine, t0, spec["every"], log))
    await stdin_closed()
    player.cancel()
    print(json.dumps(log), flush=True)


async def floor(spec: dict[str, Any]) -> None:
    """Raw pymodbus: the same register blocks of the same devices, every poll interval, not decoded."""
    from pymodbus.client import AsyncModbusTcpClient

    from bms.config import load_profile
    from bms.modbus import plan_reads

    profile, problems = load_profile(Path(spec["folder"]) / "profiles" / "bench-modbus.toml")
    assert profile is not None, problems
    blocks = [(b.start, b.count) for b in plan_reads([(p.key, p.modbus) for p in profile.points if p.modbus])]
    clients = [AsyncModbusTcpClient("127.0.0.1", port=port, timeout=5.0, retries=0) for port in spec["ports"]]
    for client in clients:
        await client.connect()
    print(json.dumps(len(blocks)), flush=True)
    t0 = await asyncio.get_running_loop().run_in_executor(None, wait_go)
    counts = {"requests": 0, "errors": 0}

    async def device(client: AsyncModbusTcpClient) -> None:
        for start, count in blocks:
            reply = await client.read_holding_registers(start, count=count, device_id=1)
            counts["errors" if reply.isError() or len(reply.registers) != count else "requests"] += 1

    async def poll() -> None:
        k = 0
        while True:
            await asyncio.sleep(max(0.0, t0 + k * spec["poll"] - time.time()))
            await asyncio.gather(*(device(c) for c in clients))
            k += 1

    task = asyncio.create_task(poll())
    await stdin_closed()
    task.cancel()
    for client in clients:
        client.close()
    print(json.dumps(counts), flush=True)


def stream(spec: dict[str, Any]) -> None:
    """A live-stream client: (point, value, arrival) of every changed value (>= 1) until stdin closes."""
    from bms.client import ApiClient
    from bms.messages import ValueChanged

    arrivals: list[tuple[str, float, float]] = []
    client = ApiClient.from_data_dir(spec["data"])
    events = client.stream(timeout=120.0)
    print(json.dumps("ready"), flush=True)

    def read() -> None:
        for event in events:
            now = time.time()
            if isinstance(event, ValueChanged):
                arrivals.extend((v.point_id, v.value, now) for v in event.values
                                if isinstance(v.value, float) and v.value >= 1.0)

    threading.Thread(target=read, daemon=True).start()
    sys.stdin.read()
    print(json.dumps(arrivals), flush=True)
    os._exit(0)  # the reader thread is blocked in the stream


# ------------------------------------------------------------ the daemon


class Daemon:
    def __init__(self, site: Site, data: Path) -> None:
        self.data = data
        cmd = [sys.executable, "-m", "bms", "daemon", "--config", str(site.scenario), "--data", str(data),
               "--api-port", "0", "--no-simulate"]
        with open(site.folder / "daemon.log", "wb") as log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
                                         start_new_session=True)
        self.log = site.folder / "daemon.log"

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def status(self) -> dict[str, int]:
        """VmRSS, VmHWM, RssAnon, RssFile, RssShmem (kB) and Threads from /proc/PID/status."""
        out: dict[str, int] = {}
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem", "Threads"):
                    out[key] = int(rest.split()[0])
        return out

    def alive(self) -> None:
        if self.proc.poll() is not None:
            raise SystemExit(f"the daemon exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")

    def stop(self) -> float:
        t0 = time.perf_counter()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                pass
        kill_group(self.proc, 0)
        return time.perf_counter() - t0


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def wait_ready(daemon: Daemon, history: Path, points: int, timeout: float) -> None:
    """Healthy through the API, then every point recorded once in history.db."""
    from bms.client import ApiClient
    from bms.errors import BmsError

    deadline = time.monotonic() + timeout
    status = ""
    while True:
        daemon.alive()
        if time.monotonic() > deadline:
            raise SystemExit(f"the daemon was not ready within {timeout:g} s (health: {status or 'no answer'})")
        try:
            with ApiClient.from_data_dir(daemon.data) as client:
                status = client.health().status
        except BmsError:
            status = ""
        if status == "Healthy":
            break
        time.sleep(0.5)
    while recorded(history) < points:
        daemon.alive()
        if time.monotonic() > deadline:
            raise SystemExit(f"history.db holds {recorded(history)} of {points} points after {timeout:g} s")
        time.sleep(0.5)


def recorded(history: Path) -> int:
    try:
        with sqlite3.connect(f"file:{history}?mode=ro", uri=True) as conn:
            return int(conn.execute("SELECT count(*) FROM points WHERE count > 0").fetchone()[0])
    except sqlite3.Error:
        return 0


class HistoryWatch:
    """Finds changes in history.db as they are committed (read-only, one indexed lookup per pending change)."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        self.ids: dict[str, int] = {}
        self.found: dict[tuple[str, float], float] = {}

    def scan(self, due: list[tuple[str, float, float]]) -> None:
        """``due``: (point, value, scheduled time) of changes made by now; note those now in history."""
        now = time.time()
        if any(pid not in self.ids for pid, _, _ in due):
            self.ids = dict((name, pid) for pid, name in self.conn.execute("SELECT id, point_id FROM points"))
        query = "SELECT 1 FROM samples WHERE point = ? AND ts >= ? AND value = ? LIMIT 1"
        for pid, value, at in due:
            if (pid, value) not in self.found and pid in self.ids and \
                    self.conn.execute(query, (self.ids[pid], at - 1.0, value)).fetchone():
                self.found[pid, value] = now

    def close(self) -> None:
        self.conn.close()


# ------------------------------------------------------------ the run


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def mb(kb: int) -> str:
    return f"{kb / 1024:.0f} MB"


def run(args: argparse.Namespace, folder: Path) -> None:
    site = Site(folder, args.devices, args.points, args.poll, args.bacnet_devices, args.bacnet_points,
                args.bacnet_port)
    for name in args.engines:
        ENGINES[name].prepare(site)
    write_profiles(site)
    data = folder / "data"
    spec = {"folder": str(folder), "schedule": str(folder / "schedule.json"), "every": args.every,
            "poll": args.poll, "bacnet_devices": args.bacnet_devices, "bacnet_port": args.bacnet_port,
            "data": str(data)}
    (folder / "spec.json").write_text(json.dumps(spec))
    sims: list[Child] = []
    others: list[Child] = []
    daemon: Daemon | None = None
    try:
        ports: list[int] = []
        for first in range(0, args.devices, args.per_process):
            count = min(args.per_process, args.devices - first)
            sims.append(Child("--child", "modbus", str(folder / "spec.json"), str(first), str(count)))
            ports += sims[-1].ready
        if args.bacnet_devices:
            sims.append(Child("--child", "bacnet", str(folder / "spec.json")))
        write_scenario(site, ports)
        spec["ports"] = ports
        (folder / "spec.json").write_text(json.dumps(spec))
        total = args.devices * args.points + args.bacnet_devices * args.bacnet_points
        print(f"site: {args.devices} Modbus devices x {args.points} float32 points, poll {args.poll:g} s "
              f"({len(sims) - bool(args.bacnet_devices)} simulator processes), {args.bacnet_devices} BACnet devices x "
              f"{args.bacnet_points} COV points; {total:,} points"
              + (f"; engines: {', '.join(args.engines)}" if args.engines else ""), flush=True)

        t_spawn = time.monotonic()
        daemon = Daemon(site, data)
        wait_ready(daemon, data / "history.db", total, args.ready_timeout)
        startup_s, startup_cpu, at_ready = time.monotonic() - t_spawn, daemon.cpu(), daemon.status()
        print(f"start-up: {startup_s:.1f} s to Healthy with every point in history, CPU {startup_cpu:.1f} s "
              f"({startup_cpu / startup_s:.0%} of one core); RSS {mb(at_ready['VmRSS'])}, "
              f"peak {mb(at_ready['VmHWM'])}, RssAnon {mb(at_ready['RssAnon'])}", flush=True)

        ticks = schedule(site, args.seconds, args.every, args.fraction, args.bacnet_changes, args.seed)
        Path(spec["schedule"]).write_text(json.dumps(ticks))
        others.append(Child("--child", "stream", str(folder / "spec.json")))
        if not args.no_floor:
            others.append(Child("--child", "floor", str(folder / "spec.json")))
        t0 = time.time() + 2.0
        for child in sims + others:
            child.go(t0)
        time.sleep(max(0.0, t0 - time.time()))
        cpu0 = daemon.cpu()
        floor_cpu0 = cpu_seconds(others[1].proc.pid) if not args.no_floor else 0.0
        watch = HistoryWatch(data / "history.db")
        flat = [(pid, v, t0 + k * args.every) for k, tick in enumerate(ticks) for pid, v in tick]
        end = t0 + args.seconds
        samples = 0
        rss_max = 0
        while time.time() < end:
            daemon.alive()
            now = time.time()
            watch.scan([c for c in flat if c[2] <= now])
            rss_max = max(rss_max, daemon.status()["VmRSS"])
            samples += 1
            time.sleep(max(0.0, min(args.scan, end - time.time())))
        cpu1, window = daemon.cpu(), time.time() - t0
        floor_cpu = cpu_seconds(others[1].proc.pid) - floor_cpu0 if not args.no_floor else 0.0
        at_end = daemon.status()
        floor_counts = others[1].result() if not args.no_floor else None
        drain_until = end + 2 * args.poll + 10
        while len(watch.found) < len(flat) and time.time() < drain_until:
            watch.scan(flat)
            time.sleep(args.scan)
        made: list[tuple[str, float, float]] = [tuple(c) for sim in sims for c in sim.result()]  # type: ignore[misc]
        arrivals = others[0].result()
        watch.scan([(pid, v, t) for pid, v, t in made])
        watch.close()
        sizes = {p.name: p.stat().st_size for p in sorted(data.glob("*.db*"))}
        stop_s = daemon.stop()
        daemon = None
    finally:
        for child in sims + others:
            child.kill()
        if daemon is not None:
            daemon.stop()

    made_at = {(pid, v): t for pid, v, t in made}
    to_history = [watch.found[key] - t for key, t in made_at.items() if key in watch.found]
    first_seen: dict[tuple[str, float], float] = {}
    for pid, v, t in arrivals:
        first_seen.setdefault((pid, v), t)
    to_stream = [first_seen[key] - t for key, t in made_at.items() if key in first_seen]
    lost = len(made_at) - len(to_history)
    bacnet = [watch.found[k] - t for k, t in made_at.items() if k[0].startswith("bn") and k in watch.found]
    cpu = cpu1 - cpu0
    print(f"window: {window:.0f} s, {len(made_at):,} changes made ({len(flat):,} scheduled; "
          f"{sum(k[0].startswith('bn') for k in made_at):,} on BACnet)")
    print(f"daemon CPU: {cpu:.2f} s = {cpu / window:.1%} of one core (goal < 25%)")
    print(f"daemon memory: RSS now {mb(at_end['VmRSS'])}, peak {mb(at_end['VmHWM'])} (goal < 400 MB), "
          f"RssAnon {mb(at_end['RssAnon'])}, RssFile {mb(at_end['RssFile'])}, RssShmem {mb(at_end['RssShmem'])}; "
          f"max RSS in the window {mb(rss_max)}; {at_end['Threads']} threads")
    print(f"device -> history.db: p50 {pct(to_history, 0.5):.2f} s, p99 {pct(to_history, 0.99):.2f} s "
          f"(goal p99 < {2 * args.poll:g} s; found by polling every {args.scan:g} s)"
          + (f"; BACnet COV p50 {pct(bacnet, 0.5):.2f} s, p99 {pct(bacnet, 0.99):.2f} s" if bacnet else ""))
    print(f"device -> live stream: p50 {pct(to_stream, 0.5):.2f} s, p99 {pct(to_stream, 0.99):.2f} s "
          f"({len(to_stream):,} of {len(made_at):,} changes seen on the stream)")
    print(f"lost: {lost} of {len(made_at):,} changes not in history.db")
    if floor_counts is not None:
        print(f"floor: raw pymodbus reading the same {floor_counts['requests']:,} blocks "
              f"({floor_counts['errors']} errors): CPU {floor_cpu:.2f} s = {floor_cpu / window:.1%} of one core; "
              f"daemon / floor {cpu / max(floor_cpu, 1e-9):.1f}x")
    print("files: " + ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in sizes.items())
          + f"; daemon stopped in {stop_s:.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--devices", type=int, default=200, help="simulated Modbus devices")
    ap.add_argument("--points", type=int, default=500, help="float32 points per Modbus device")
    ap.add_argument("--poll", type=float, default=10.0, help="poll interval, s")
    ap.add_argument("--per-process", type=int, default=50, help="Modbus devices per simulator process")
    ap.add_argument("--bacnet-devices", type=int, default=4)
    ap.add_argument("--bacnet-points", type=int, default=50, help="analog inputs per BACnet device, COV")
    ap.add_argument("--bacnet-port", type=int, default=47980, help="BACnet device port (the daemon's is the next)")
    ap.add_argument("--seconds", type=float, default=180.0, help="measured window, s (bounded: at most 1800)")
    ap.add_argument("--fraction", type=float, default=0.01, help="share of Modbus points changed per poll interval")
    ap.add_argument("--bacnet-changes", type=float, default=5.0, help="BACnet changes per second")
    ap.add_argument("--every", type=float, default=0.5, help="seconds between two rounds of changes")
    ap.add_argument("--scan", type=float, default=0.2, help="seconds between two looks into history.db")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ready-timeout", type=float, default=600.0, help="start-up bound, s")
    ap.add_argument("--no-floor", action="store_true", help="skip the raw pymodbus floor")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (site, data, daemon.log)")
    ap.add_argument("--with", dest="engines", action="append", default=[], choices=sorted(ENGINES),
                    metavar="ENGINE", help=f"add an engine's load: {', '.join(sorted(ENGINES)) or 'none yet'}")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        from bms.logs import configure

        configure(level="warning")  # a child's stdout carries its JSON lines
        kind, spec = args.child[0], json.loads(Path(args.child[1]).read_text())
        if kind == "modbus":
            asyncio.run(serve_modbus(spec, int(args.child[2]), int(args.child[3])))
        elif kind == "bacnet":
            asyncio.run(serve_bacnet(spec))
        elif kind == "floor":
            asyncio.run(floor(spec))
        else:
            stream(spec)
        return
    if not 0 < args.seconds <= 1800:
        ap.error("--seconds must be in (0, 1800]")
    folder = Path(tempfile.mkdtemp(prefix="bms-bench-site-"))
    try:
        run(args, folder)
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            subprocess.run(["rm", "-rf", str(folder)], check=False)


if __name__ == "__main__":
    main()
