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
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _site_processes import Change, Child, bacnet_address, bacnet_instance, kill_group

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
    settings: Path = field(init=False)
    extra_toml: list[str] = field(default_factory=list)  # scenario text added by engines
    point_keys: list[str] = field(default_factory=list)  # key = value lines engines add to each Modbus profile point
    point_toml: list[str] = field(default_factory=list)  # sub-tables ([[points.alarms]]...) they add after them
    settings_toml: list[str] = field(default_factory=list)  # daemon settings engines add ([mqtt], [energy]...)
    equip: str = "meter-bank"  # the Modbus devices' equipment type (an engine may make them air handlers)
    point_tags: dict[int, list[str]] = field(default_factory=dict)  # tags engines give point i of each device
    # points an engine writes (a schedule's): the simulators leave them alone, since an engine's write there
    # replaces a change before it is polled -- that change is overwritten, not lost, and would count as lost
    commanded: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.scenario = self.folder / "site.toml"
        self.settings = self.folder / "bms.toml"

    @property
    def config(self) -> Path:
        """What ``bms daemon --config`` is given: the settings file when engines need one, else the scenario."""
        return self.settings if self.settings_toml else self.scenario

    def modbus_ids(self) -> list[str]:
        """The Modbus points the simulators change (not those an engine commands)."""
        return [pid for d in range(self.devices) for i in range(self.points)
                if (pid := f"mb{d:03d}/p{i:03d}") not in self.commanded]

    def bacnet_ids(self) -> list[str]:
        return [f"bn{d}/ai{i}" for d in range(self.bacnet_devices) for i in range(1, self.bacnet_points + 1)]


@dataclass(frozen=True)
class Engine:
    """A later engine's share of the site (alarms, logic, FDD, export).

    ``prepare`` runs before the site's files are written: it adds the
    engine's configuration (scenario text in ``Site.extra_toml``: limits,
    programs, rules, targets) so that the daemon runs the engine on every
    point it should, and the same figures then include its cost.
    """

    describe: str
    prepare: Callable[[Site], None]
    cleanup: Callable[[Site], None] | None = None  # after the run (a server it started, a schema it made)


def _alarms(site: Site) -> None:
    """A high-limit alarm with a deadband and an on-delay on every Modbus point (100,000 on the default site)."""
    site.point_toml += ["[[points.alarms]]", 'condition = { type = "high", limit = 1e9, deadband = 1.0 }',
                        'severity = "high"', "on_delay = 60.0"]


SCHEDULED_PER_DEVICE = 10
SCHEDULE_STEP_MINUTES = 5


def _schedules(site: Site) -> None:
    """One schedule on the first 10 points of every Modbus device (2,000 on the default site), at priority 16,
    turning occupied/unoccupied every 5 minutes of every day: each transition writes every one of them
    (point store, Modbus write and read-back, an audit row each)."""
    site.point_keys += ["writable = true"]
    steps = [(m // 60, m % 60) for m in range(0, 24 * 60, SCHEDULE_STEP_MINUTES)]
    program = ", ".join(f'{{ at = "{h:02d}:{m:02d}", value = "{"occupied" if i % 2 == 0 else "unoccupied"}" }}'
                        for i, (h, m) in enumerate(steps))
    ids = [f"mb{d:03d}/p{i:03d}" for d in range(site.devices) for i in range(min(SCHEDULED_PER_DEVICE, site.points))]
    site.commanded.update(ids)
    site.extra_toml += ["[[schedules]]", 'name = "bench"', 'default = "unoccupied"',
                        "[schedules.weekly]", *(f"{day} = [{program}]" for day in
                                               ("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
                        "[[schedules.assign]]", f"points = [{', '.join(repr(i).replace(chr(39), chr(34)) for i in ids)}]",
                        "priority = 16", "values = { occupied = 1.0, unoccupied = 0.0 }"]


def _logic(site: Site) -> None:
    """A 9-block program per Modbus device: every second and on a change of its first point (the
    ``logic`` directory beside site.toml, where the engine looks by default)."""
    folder = site.folder / "logic"
    folder.mkdir(parents=True, exist_ok=True)
    for d in range(site.devices):
        dev = f"mb{d:03d}"
        reads = [f"{dev}/p{i:03d}" for i in range(min(4, site.points))]
        lines = [f'name = "{dev}"', "interval = 1.0", f'on_change = ["{reads[0]}"]']
        for i, point in enumerate(reads):
            lines += ["[[blocks]]", f'id = "r{i}"', 'type = "PointRead"', f'point = "{point}"', "default = 0.0"]
        lines += ["[[blocks]]", 'id = "hi"', 'type = "Math"', 'op = "max"', "[[blocks]]", 'id = "lo"', 'type = "Math"',
                  'op = "min"', "[[blocks]]", 'id = "span"', 'type = "Scale"', "in_low = 0.0", "in_high = 100.0",
                  "out_low = 0.0", "out_high = 1.0", "[[blocks]]", 'id = "high"', 'type = "Compare"', 'op = "gt"',
                  "setpoint = 0.9", "hysteresis = 0.05", "[[blocks]]", 'id = "hold"', 'type = "Timing"',
                  'mode = "delay_on"', "seconds = 60.0"]
        wires = [("r0", "hi.a"), ("r1" if len(reads) > 1 else "r0", "hi.b"), ("r2" if len(reads) > 2 else "r0", "lo.a"),
                 ("r3" if len(reads) > 3 else "r0", "lo.b"), ("hi", "span.in"), ("span", "high.a"), ("high", "hold.in")]
        for src, dst in wires:
            lines += ["[[wires]]", f'from = "{src}"', f'to = "{dst}"']
        (folder / f"{dev}.toml").write_text("\n".join(lines) + "\n")


FDD_ROLES = [["discharge", "air", "temp", "sensor"], ["mixed", "air", "temp", "sensor"],
             ["return", "air", "temp", "sensor"], ["outside", "air", "temp", "sensor"],
             ["discharge", "air", "temp", "sp"], ["discharge", "fan", "speed", "cmd"],
             ["discharge", "fan", "run", "sensor"], ["outside", "damper", "cmd"], ["heat", "valve", "cmd"],
             ["cool", "valve", "cmd"], ["discharge", "air", "pressure", "sensor"], ["discharge", "air", "pressure", "sp"]]


def _fdd(site: Site) -> None:
    """Every Modbus device an air handler: its first 12 points tagged with the G36 roles (supply, mixed,
    return, outdoor air; setpoint; fan speed and status; damper; valves; duct pressure and setpoint), so the
    FDD engine evaluates the G36 rule set on 200 AHUs live on the default site."""
    site.equip = "ahu"
    site.point_tags.update({i: tags for i, tags in enumerate(FDD_ROLES) if i < site.points})


def _mqtt(site: Site) -> None:
    """Every point's value published to the machine's Mosquitto (127.0.0.1:1883), one message per change
    at QoS 0, under a prefix of this run's own."""
    site.settings_toml += ["[mqtt]", 'url = "mqtt://127.0.0.1:1883"', f'prefix = "bench{os.getpid()}"']


def _energy(site: Site) -> None:
    """Every Modbus device's last point a building power meter (tags ``elec power sensor``, kW): the energy
    engine integrates 200 meters live on the default site (intervals, demand, the projected demand point)."""
    site.point_tags.setdefault(site.points - 1, ["elec", "power", "sensor"])


_BENCH_SCHEMA = f"bench_site_{os.getpid()}"
_servers: dict[str, Any] = {}


def _postgres(site: Site) -> None:
    """Every value change exported live to the machine's PostgreSQL (COPY, a schema of this run's own,
    dropped at the end)."""
    import psycopg

    from tests.export_servers import PG_DSN

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_BENCH_SCHEMA}")
    site.settings_toml += ["[[postgres.targets]]", 'name = "bench-pg"', f'dsn = "{PG_DSN}"',
                           f'schema = "{_BENCH_SCHEMA}"']


def _postgres_cleanup(site: Site) -> None:
    import psycopg

    from tests.export_servers import PG_DSN

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {_BENCH_SCHEMA} CASCADE")


def _influx(site: Site) -> None:
    """Every value change exported live to a VictoriaMetrics of this run's own (influxdb-client line
    protocol), started here and stopped at the end."""
    from tests.export_servers import Victoria

    vm = _servers["vm"] = Victoria(site.folder / "vm")
    vm.start()
    site.settings_toml += ["[[influx.targets]]", 'name = "bench-vm"', f'url = "{vm.url}"']


def _influx_cleanup(site: Site) -> None:
    vm = _servers.pop("vm", None)
    if vm is not None:
        vm.stop()


ENGINES: dict[str, Engine] = {
    "alarms": Engine("a high-limit alarm on every Modbus point", _alarms),
    "schedules": Engine(f"a schedule on {SCHEDULED_PER_DEVICE} points of every Modbus device, a transition every "
                        f"{SCHEDULE_STEP_MINUTES} minutes", _schedules),
    "logic": Engine("a 9-block program per Modbus device, every second and on change", _logic),
    "fdd": Engine("every Modbus device an AHU with the G36 roles, the G36 rule set live", _fdd),
    "energy": Engine("a power meter on every Modbus device (200 meters), integrated live", _energy),
    "postgres": Engine("every value change exported to the local PostgreSQL (COPY)", _postgres, _postgres_cleanup),
    "influx": Engine("every value change exported to a VictoriaMetrics of the run's own", _influx, _influx_cleanup),
    "mqtt": Engine("every point's changes published to the local Mosquitto (QoS 0)", _mqtt),
}
"""``--with NAME``: one entry per engine that exists (FDD and export come later)."""


def engines_help() -> str:
    return ", ".join(f"{name} ({engine.describe})" for name, engine in sorted(ENGINES.items())) or "none yet"


# ------------------------------------------------------------ the site files


def write_profiles(site: Site) -> None:
    profiles = site.folder / "profiles"
    profiles.mkdir(exist_ok=True)
    lines = ['name = "bench-modbus"', 'protocol = "modbus"', f'equip = "{site.equip}"']
    for i in range(site.points):
        tags = [f"tags = {json.dumps(site.point_tags[i])}"] if i in site.point_tags else []
        lines += ["[[points]]", f'key = "p{i:03d}"', f'name = "Point {i}"',
                  f'modbus = {{ table = "holding", address = {FIRST_ADDRESS + 2 * i}, type = "float32" }}',
                  *tags, *site.point_keys, *site.point_toml]
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
                  'network = "bench"', f'address = "{bacnet_address(d)}"', f"device_instance = {bacnet_instance(d)}"]
    site.scenario.write_text("\n".join(lines + site.extra_toml) + "\n")
    if site.settings_toml:  # a settings file naming the scenario, with the engines' sections
        site.settings.write_text("\n".join(["[daemon]", 'scenario = "site.toml"', *site.settings_toml]) + "\n")


def schedule(site: Site, seconds: float, every: float, fraction: float, bacnet_rate: float,
             seed: int) -> list[list[tuple[str, float]]]:
    """Per tick (every ``every`` s): the (point id, new value) changes; values are used once in the run."""
    rng = random.Random(seed)
    modbus, bacnet = site.modbus_ids(), site.bacnet_ids()
    rng.shuffle(modbus)
    rng.shuffle(bacnet)
    per_tick = fraction * site.devices * site.points * every / site.poll  # the same load with engines or not
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


# ------------------------------------------------------------ the daemon


class Daemon:
    """``bms daemon`` on the site, as a process in its own session; its log in the site's folder."""

    def __init__(self, site: Site, data: Path) -> None:
        self.data = data
        cmd = [sys.executable, "-m", "bms", "daemon", "--config", str(site.config), "--data", str(data),
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
    """Points with a sample in history.db (0 before the file exists)."""
    try:
        conn = sqlite3.connect(f"file:{history}?mode=ro", uri=True)
    except sqlite3.Error:
        return 0
    try:
        return int(conn.execute("SELECT count(*) FROM points WHERE count > 0").fetchone()[0])
    except sqlite3.Error:
        return 0
    finally:
        conn.close()


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


@dataclass
class Window:
    """What the measured window gave."""

    seconds: float = 0.0
    cpu: float = 0.0
    floor_cpu: float = 0.0
    floor: dict[str, int] | None = None
    status: dict[str, int] = field(default_factory=dict)
    rss_max: int = 0
    made: list[Change] = field(default_factory=list)
    scheduled: int = 0
    found: dict[tuple[str, float], float] = field(default_factory=dict)
    arrivals: list[Change] = field(default_factory=list)


def start_simulators(site: Site, spec: Path, per_process: int) -> tuple[list[Child], list[int]]:
    sims: list[Child] = []
    ports: list[int] = []
    for first in range(0, site.devices, per_process):
        sims.append(Child("modbus", spec, str(first), str(min(per_process, site.devices - first))))
        ports += sims[-1].ready
    if site.bacnet_devices:
        sims.append(Child("bacnet", spec))
    return sims, ports


def measure(args: argparse.Namespace, site: Site, spec: Path, daemon: Daemon, sims: list[Child],
            others: list[Child]) -> Window:
    """Changes from ``--seconds`` on; the daemon's CPU and memory over the window; changes found where they went."""
    ticks = schedule(site, args.seconds, args.every, args.fraction, args.bacnet_changes, args.seed)
    Path(json.loads(spec.read_text())["schedule"]).write_text(json.dumps(ticks))
    others.append(Child("stream", spec))
    floor = None if args.no_floor else Child("floor", spec)
    if floor is not None:
        others.append(floor)
    out = Window()
    t0 = time.time() + 2.0
    for child in sims + others:
        child.go(t0)
    time.sleep(max(0.0, t0 - time.time()))
    cpu0 = daemon.cpu()
    floor0 = cpu_seconds(floor.proc.pid) if floor is not None else 0.0
    watch = HistoryWatch(daemon.data / "history.db")
    due = [(pid, v, t0 + k * args.every) for k, tick in enumerate(ticks) for pid, v in tick]
    out.scheduled = len(due)
    end = t0 + args.seconds
    while time.time() < end:
        daemon.alive()
        now = time.time()
        watch.scan([c for c in due if c[2] <= now])
        out.rss_max = max(out.rss_max, daemon.status()["VmRSS"])
        time.sleep(max(0.0, min(args.scan, end - time.time())))
    out.cpu, out.seconds = daemon.cpu() - cpu0, time.time() - t0
    out.floor_cpu = cpu_seconds(floor.proc.pid) - floor0 if floor is not None else 0.0
    out.status = daemon.status()
    out.floor = floor.result() if floor is not None else None
    drain_until = end + 2 * args.poll + 10  # the last changes: two polls and a margin
    while len(watch.found) < len(due) and time.time() < drain_until:
        watch.scan(due)
        time.sleep(args.scan)
    out.made = [(pid, v, t) for sim in sims for pid, v, t in sim.result()]
    out.arrivals = [(pid, v, t) for pid, v, t in others[0].result()]
    watch.scan(out.made)  # a change made late is looked for once more
    out.found = watch.found
    watch.close()
    return out


def run(args: argparse.Namespace, folder: Path) -> None:
    site = Site(folder, args.devices, args.points, args.poll, args.bacnet_devices, args.bacnet_points,
                args.bacnet_port)
    try:
        for name in args.engines:
            ENGINES[name].prepare(site)
        write_profiles(site)
        _run_site(args, site, folder)
    finally:
        for name in args.engines:
            cleanup = ENGINES[name].cleanup
            if cleanup is not None:
                cleanup(site)


def _run_site(args: argparse.Namespace, site: Site, folder: Path) -> None:
    spec = folder / "spec.json"
    fields: dict[str, Any] = {"folder": str(folder), "schedule": str(folder / "schedule.json"), "every": args.every,
                              "poll": args.poll, "bacnet_devices": args.bacnet_devices,
                              "bacnet_port": args.bacnet_port, "data": str(folder / "data"), "ports": []}
    spec.write_text(json.dumps(fields))
    sims: list[Child] = []
    others: list[Child] = []
    daemon: Daemon | None = None
    try:
        sims, fields["ports"] = start_simulators(site, spec, args.per_process)
        spec.write_text(json.dumps(fields))
        write_scenario(site, fields["ports"])
        total = args.devices * args.points + args.bacnet_devices * args.bacnet_points
        print(f"site: {args.devices} Modbus devices x {args.points} float32 points, poll {args.poll:g} s "
              f"({len(sims) - bool(args.bacnet_devices)} simulator processes), {args.bacnet_devices} BACnet devices x "
              f"{args.bacnet_points} COV points; {total:,} points"
              + (f"; engines: {', '.join(args.engines)}" if args.engines else ""), flush=True)
        t_spawn = time.monotonic()
        daemon = Daemon(site, folder / "data")
        wait_ready(daemon, daemon.data / "history.db", total, args.ready_timeout)
        took, cpu, status = time.monotonic() - t_spawn, daemon.cpu(), daemon.status()
        print(f"start-up: {took:.1f} s to Healthy with every point in history, CPU {cpu:.1f} s "
              f"({cpu / took:.0%} of one core); RSS {mb(status['VmRSS'])}, peak {mb(status['VmHWM'])}, "
              f"RssAnon {mb(status['RssAnon'])}", flush=True)
        window = measure(args, site, spec, daemon, sims, others)
        sizes = {p.name: p.stat().st_size for p in sorted(daemon.data.glob("*.db*"))}
        stop = daemon.stop()
        daemon = None
    finally:
        for child in sims + others:
            child.kill()
        if daemon is not None:
            daemon.stop()
    report(args, window)
    print("files: " + ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in sizes.items())
          + f"; daemon stopped in {stop:.1f} s")


def report(args: argparse.Namespace, w: Window) -> None:
    made_at = {(pid, v): t for pid, v, t in w.made}
    to_history = [w.found[key] - t for key, t in made_at.items() if key in w.found]
    bacnet = [w.found[key] - t for key, t in made_at.items() if key[0].startswith("bn") and key in w.found]
    seen: dict[tuple[str, float], float] = {}
    for pid, v, t in w.arrivals:
        seen.setdefault((pid, v), t)
    to_stream = [seen[key] - t for key, t in made_at.items() if key in seen]
    s = w.status
    print(f"window: {w.seconds:.0f} s, {len(made_at):,} changes made ({w.scheduled:,} scheduled; "
          f"{sum(k[0].startswith('bn') for k in made_at):,} on BACnet)")
    print(f"daemon CPU: {w.cpu:.2f} s = {w.cpu / w.seconds:.1%} of one core (goal < 25%)")
    print(f"daemon memory: RSS now {mb(s['VmRSS'])}, peak {mb(s['VmHWM'])} (goal < 400 MB), RssAnon {mb(s['RssAnon'])}, "
          f"RssFile {mb(s['RssFile'])}, RssShmem {mb(s['RssShmem'])}; max RSS in the window {mb(w.rss_max)}; "
          f"{s['Threads']} threads")
    print(f"device -> history.db: p50 {pct(to_history, 0.5):.2f} s, p99 {pct(to_history, 0.99):.2f} s "
          f"(goal p99 < {2 * args.poll:g} s; looked for every {args.scan:g} s)"
          + (f"; BACnet COV p50 {pct(bacnet, 0.5):.2f} s, p99 {pct(bacnet, 0.99):.2f} s" if bacnet else ""))
    print(f"device -> live stream: p50 {pct(to_stream, 0.5):.2f} s, p99 {pct(to_stream, 0.99):.2f} s "
          f"({len(to_stream):,} of {len(made_at):,} changes seen on the stream)")
    print(f"lost: {len(made_at) - len(to_history)} of {len(made_at):,} changes not in history.db")
    if w.floor is not None:
        print(f"floor: raw pymodbus reading the same {w.floor['requests']:,} blocks ({w.floor['errors']} errors): "
              f"CPU {w.floor_cpu:.2f} s = {w.floor_cpu / w.seconds:.1%} of one core; "
              f"daemon / floor {w.cpu / max(w.floor_cpu, 1e-9):.1f}x")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def mb(kb: int) -> str:
    return f"{kb / 1024:.0f} MB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--devices", type=int, default=200, help="simulated Modbus devices")
    ap.add_argument("--points", type=int, default=500, help="float32 points per Modbus device")
    ap.add_argument("--poll", type=float, default=10.0, help="poll interval, s")
    ap.add_argument("--per-process", type=int, default=50, help="Modbus devices per simulator process")
    ap.add_argument("--bacnet-devices", type=int, default=4)
    ap.add_argument("--bacnet-points", type=int, default=50, help="analog inputs per BACnet device, COV")
    ap.add_argument("--bacnet-port", type=int, default=47980, help="BACnet device port (the daemon's is the next)")
    ap.add_argument("--seconds", type=float, default=180.0, help="measured window, s (at most 1800)")
    ap.add_argument("--fraction", type=float, default=0.01, help="share of Modbus points changed per poll interval")
    ap.add_argument("--bacnet-changes", type=float, default=5.0, help="BACnet changes per second")
    ap.add_argument("--every", type=float, default=0.5, help="seconds between two rounds of changes")
    ap.add_argument("--scan", type=float, default=0.2, help="seconds between two looks into history.db")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ready-timeout", type=float, default=600.0, help="start-up bound, s")
    ap.add_argument("--no-floor", action="store_true", help="skip the raw pymodbus floor")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (site, data, daemon.log)")
    ap.add_argument("--with", dest="engines", action="append", default=[], metavar="ENGINE",
                    help=f"add an engine's load: {engines_help()}")
    args = ap.parse_args()
    unknown = [name for name in args.engines if name not in ENGINES]
    if unknown:
        ap.error(f"--with {unknown[0]}: no such engine (engines: {engines_help()})")
    if not 0 < args.seconds <= 1800:
        ap.error("--seconds must be in (0, 1800]")
    if not 0 <= args.fraction <= 1:
        ap.error("--fraction must be in [0, 1]")
    if not 1 <= args.devices <= 1000 or args.points < 1 or not 0 <= args.bacnet_devices <= 100:
        ap.error("--devices must be 1..1000, --points at least 1, --bacnet-devices 0..100")
    folder = Path(tempfile.mkdtemp(prefix="bms-bench-site-"))
    try:
        run(args, folder)
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
