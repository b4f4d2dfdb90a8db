"""Modbus polling benchmark: the bridge against raw pymodbus block reads, in one run.

    python bench/modbus.py [--devices 20] [--points 500] [--rounds 8] [--seconds 1.5] [--servers 4] [--verbose]

Starts simulated devices (one ModbusSimulator per device, spread over
``--servers`` child processes so the servers do not share our GIL), each
with ``--points`` holding-register points of mixed types (uint16, int16,
float32, uint32 scaled) laid end to end. Every path polls every device back
to back, each device on its own (as a poller does: a slow device never
holds up the others), for ``--seconds``:

1. ``actor``: the ModbusBridge actor -- a Tick told, the poll on its loop,
   the SampleBatch published to a subscriber, which tells the device's next
   Tick when its batch is in;
2. ``session``: ModbusDeviceSession.poll_readings(plan), the code the
   bridge runs on its loop, without the actors;
3. ``raw plan``: AsyncModbusTcpClient.read_holding_registers over the
   planner's blocks (the same requests as ours), not decoded;
4. ``raw``: the same client reading blind 125-register blocks over the same
   registers (fewer requests: it may split a 32-bit value, which a decoder
   cannot), not decoded.

The paths take turns, ``--rounds`` times, in an order that turns each
round, so a drift in the machine's speed falls on all of them alike. Prints the median points/s of each path, the
median of the rounds' ratios ours/raw, client CPU per point, requests issued
(counted by the servers against those the paths counted) and requests
planned against the optimum.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import operator
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from actors import BmsActor, ChildSpec, Context, handles, make_context
from actors.components.modbus import ModbusBridge
from bms.config import ModbusBinding, ModbusDevice, ModbusNetwork, PointSpec, Profile
from bms.messages import SampleBatch, Tick
from bms.modbus import BlockPlan, ModbusDeviceSession, TcpLink, plan_reads, width

FIRST_ADDRESS = 100
PIN = os.environ.get("BENCH_PIN") == "1"
FAULT = operator.attrgetter("fault")
TYPES: tuple[tuple[str, float], ...] = (("uint16", 1.0), ("int16", 1.0), ("float32", 1.0), ("uint32", 0.1))


def bench_profile(points: int) -> Profile:
    """``points`` holding registers of mixed types, end to end from address 100."""
    specs, address = [], FIRST_ADDRESS
    for i in range(points):
        kind, scale = TYPES[i % len(TYPES)]
        binding = ModbusBinding(table="holding", address=address, type=kind, scale=scale)  # type: ignore[arg-type]
        specs.append(PointSpec(key=f"p{i:04d}", name=f"point {i}", modbus=binding))
        address += width(binding)
    return Profile(name="bench", protocol="modbus", points=specs)


def registers_of(profile: Profile) -> int:
    return sum(width(p.modbus) for p in profile.points if p.modbus is not None)


def unsplit_optimum(profile: Profile, limit: int = 125) -> int:
    """Fewest requests covering the (contiguous) points without splitting a value: greedy is optimal."""
    requests, used = 0, limit
    for p in profile.points:
        span = width(p.modbus) if p.modbus is not None else 0
        if used + span > limit:
            requests, used = requests + 1, 0
        used += span
    return requests


# ------------------------------------------------------------ server side


async def serve(count: int, first_unit: int, points: int) -> None:
    """Child process: ``count`` simulators; print their ports, serve until stdin closes, print requests."""
    from bms.sim.modbus import ModbusSimulator

    if PIN and hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[1:]))  # the servers: every core but the first
    profile = bench_profile(points)
    sims = [ModbusSimulator({first_unit + i: profile}, "127.0.0.1", 0, interval=3600.0) for i in range(count)]
    for sim in sims:
        await sim.start()
    print(json.dumps({first_unit + i: sim.port for i, sim in enumerate(sims)}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    print(json.dumps(sum(sum(sim.requests.values()) for sim in sims)), flush=True)
    for sim in sims:
        await sim.stop()


class Servers:
    """The child processes serving the simulated devices."""

    def __init__(self, devices: int, servers: int, points: int) -> None:
        per = math.ceil(devices / servers)
        self.procs: list[subprocess.Popen[str]] = []
        self.ports: dict[int, int] = {}
        for first in range(1, devices + 1, per):
            n = min(per, devices + 1 - first)
            self.procs.append(subprocess.Popen(
                [sys.executable, __file__, "--serve", str(n), "--first-unit", str(first), "--points", str(points)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
        for proc in self.procs:
            assert proc.stdout is not None
            self.ports.update({int(u): p for u, p in json.loads(proc.stdout.readline()).items()})

    def requests(self) -> int:
        """Stop the servers; the requests they received."""
        total = 0
        for proc in self.procs:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.close()
            total += int(json.loads(proc.stdout.readline()))
            proc.wait(timeout=10)
            proc.stdout.close()
        return total


# ------------------------------------------------------------ client side


class Run:
    """One path's figures for one round: points, requests, faults, wall and CPU seconds."""

    def __init__(self) -> None:
        self.points = self.requests = self.faults = 0
        self.seconds = self.cpu = 0.0

    @property
    def rate(self) -> float:
        return self.points / self.seconds

    @property
    def per_cpu(self) -> float:
        return self.points / self.cpu


async def _back_to_back(polls: dict[int, Any], seconds: float, run: Run) -> None:
    """Run each device's ``poll()`` (points, faults, requests) over and over until ``seconds`` are up."""
    async def device(poll: Any) -> None:
        while time.perf_counter() < deadline:
            points, faults, requests = await poll()
            run.points += points
            run.faults += faults
            run.requests += requests

    t0, cpu0 = time.perf_counter(), time.process_time()
    deadline = t0 + seconds
    await asyncio.gather(*(device(p) for p in polls.values()))  # the last polls finish past the deadline
    run.seconds, run.cpu = time.perf_counter() - t0, time.process_time() - cpu0


async def session_path(ports: dict[int, int], plans: dict[int, BlockPlan], seconds: float) -> Run:
    """``plans`` are made once, as the bridge makes them: a block's decoder is compiled on its first poll."""
    sessions = {u: ModbusDeviceSession(TcpLink("127.0.0.1", p), u, timeout=5.0, retries=0) for u, p in ports.items()}
    run = Run()

    def poller(unit: int) -> Any:
        session, plan = sessions[unit], plans[unit]

        async def poll() -> tuple[int, int, int]:
            samples, readings = await session.poll_readings(plan)  # what the bridge publishes
            points = len(samples) + sum(len(r.point_ids) for r in readings)
            return points, len(samples) - list(map(FAULT, samples)).count(None), len(plan)
        return poll

    warm = Run()
    await _back_to_back({u: poller(u) for u in ports}, 0.0, warm)  # connect, one poll each
    await _back_to_back({u: poller(u) for u in ports}, seconds, run)
    run.requests += warm.requests
    for s in sessions.values():
        s.close()
    return run


async def raw_path(ports: dict[int, int], spans: list[tuple[int, int]], seconds: float) -> Run:
    """Raw reads of ``spans`` (start, count) per device; points counted as the registers' share of the points."""
    from pymodbus.client import AsyncModbusTcpClient

    clients = {u: AsyncModbusTcpClient("127.0.0.1", port=p, timeout=5.0, retries=0) for u, p in ports.items()}
    for c in clients.values():
        await c.connect()
    run = Run()

    def poller(unit: int) -> Any:
        client = clients[unit]

        async def poll() -> tuple[int, int, int]:
            for address, count in spans:
                reply = await client.read_holding_registers(address, count=count, device_id=unit)
                if reply.isError() or len(reply.registers) != count:
                    raise RuntimeError(f"raw read failed: {reply}")
            return POINTS_PER_DEVICE, 0, len(spans)
        return poll

    warm = Run()
    await _back_to_back({u: poller(u) for u in ports}, 0.0, warm)
    await _back_to_back({u: poller(u) for u in ports}, seconds, run)
    run.requests += warm.requests
    for c in clients.values():
        c.close()
    return run


POINTS_PER_DEVICE = 0  # set by main: a raw read of the whole range "moves" this many points


class BatchCounter(BmsActor):
    """Counts each SampleBatch and tells the bridge that device's next Tick until the round is over."""

    def __init__(self, name: str, ctx: Context, path: ActorPath) -> None:
        super().__init__(name, ctx)
        self.path = path

    @handles(SampleBatch)
    def got(self, batch: SampleBatch) -> None:
        self.path.batch_in(batch)


class ActorPath:
    """A ModbusBridge polling the devices; the subscriber re-ticks each device as its batch comes in."""

    def __init__(self, ports: dict[int, int], profile: Profile, plan: BlockPlan) -> None:
        self.ports, self.requests_per_poll = ports, len(plan)
        self.run_: Run | None = None
        self.deadline = 0.0
        self.in_flight = 0
        self.warm_polls = 0
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.ctx = make_context()
        counter = self.ctx.supervisor.start_child(ChildSpec("counter", BatchCounter, kwargs={"path": self}))
        assert counter is not None
        self.ctx.registry.subscribe(SampleBatch, counter)
        devices = tuple(
            (ModbusDevice(id=f"d{u}", profile="bench", host="127.0.0.1", port=p, unit_id=u,
                          poll_interval=3600.0, timeout=5.0, retries=0), profile)
            for u, p in ports.items())
        self.in_flight = len(ports)  # the first tick (first_in=0) connects and warms up
        bridge = self.ctx.supervisor.start_child(ChildSpec("modbus.bench", ModbusBridge, kwargs={
            "network": "bench", "spec": ModbusNetwork(), "devices": devices}))
        assert bridge is not None
        self.bridge = bridge
        if not self.done.wait(30):
            raise RuntimeError("the bridge's first poll did not finish")

    def batch_in(self, batch: SampleBatch) -> None:
        """On the subscriber's thread."""
        run = self.run_
        if run is None:  # a warm-up poll
            self.warm_polls += 1
        else:
            samples = batch.samples  # faults are Samples; good values come in Readings (columns)
            run.points += batch.size
            run.requests += self.requests_per_poll
            run.faults += len(samples) - list(map(FAULT, samples)).count(None)
            if time.perf_counter() < self.deadline:
                first = batch.readings[0].point_ids[0] if batch.readings else samples[0].point_id
                device = first.split("/", 1)[0]
                self.bridge.tell(Tick(timer=f"poll:{device}", due=0.0, now=time.time()))
                return
        with self.lock:
            self.in_flight -= 1
            if self.in_flight == 0:
                self.done.set()

    def run(self, seconds: float) -> Run:
        run = Run()
        self.done.clear()
        self.in_flight = len(self.ports)
        self.run_ = run
        t0, cpu0 = time.perf_counter(), time.process_time()
        self.deadline = t0 + seconds
        for u in self.ports:
            self.bridge.tell(Tick(timer=f"poll:d{u}", due=0.0, now=time.time()))
        if not self.done.wait(seconds + 30):
            raise RuntimeError("the bridge's polls did not finish")
        run.seconds, run.cpu = time.perf_counter() - t0, time.process_time() - cpu0
        self.run_ = None
        return run

    def stop(self) -> None:
        self.ctx.supervisor.stop_all(timeout=10)


def main() -> None:
    global POINTS_PER_DEVICE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--devices", type=int, default=20)
    ap.add_argument("--points", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=8, help="turns of the four paths")
    ap.add_argument("--seconds", type=float, default=1.5, help="seconds per path per round")
    ap.add_argument("--verbose", action="store_true", help="print each round's figures")
    ap.add_argument("--servers", type=int, default=4, help="server processes")
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--first-unit", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    from bms.logs import configure

    configure(level="warning")  # log lines to stderr: a child's stdout carries its ports
    if args.serve:
        asyncio.run(serve(args.serve, args.first_unit, args.points))
        return
    POINTS_PER_DEVICE = args.points
    if PIN:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    profile = bench_profile(args.points)
    registers = registers_of(profile)
    plan = plan_reads([(pt.key, pt.modbus) for pt in profile.points if pt.modbus])
    blocks = [(b.start, b.count) for b in plan]
    blind = [(a, min(125, FIRST_ADDRESS + registers - a)) for a in range(FIRST_ADDRESS, FIRST_ADDRESS + registers, 125)]
    print(f"{args.devices} devices x {args.points} points = {args.devices * args.points} points, {registers} registers "
          f"per device, {args.servers} server processes; {args.rounds} rounds of {args.seconds:g} s per path")
    print(f"plan: {len(plan)} requests per device poll; optimum {unsplit_optimum(profile)} without splitting "
          f"a value, ceil({registers}/125) = {math.ceil(registers / 125)} if values could be split")

    t_all = time.perf_counter()
    runs: dict[str, list[Run]] = {k: [] for k in ("actor", "session", "raw plan", "raw")}
    servers = Servers(args.devices, args.servers, args.points)
    actor: ActorPath | None = None
    plans = {u: plan_reads([(f"d{u}/{pt.key}", pt.modbus) for pt in profile.points if pt.modbus]) for u in servers.ports}
    try:
        actor = ActorPath(servers.ports, profile, plan)
        paths = {
            "actor": lambda: actor.run(args.seconds),
            "session": lambda: asyncio.run(session_path(servers.ports, plans, args.seconds)),
            "raw plan": lambda: asyncio.run(raw_path(servers.ports, blocks, args.seconds)),
            "raw": lambda: asyncio.run(raw_path(servers.ports, blind, args.seconds)),
        }
        order = list(paths)
        for n in range(args.rounds):  # the order turns each round: no path always runs first
            for name in order[n % 4:] + order[:n % 4]:
                runs[name].append(paths[name]())
            if args.verbose:
                print(f"round {n + 1}: " + ", ".join(f"{k} {rs[-1].rate:,.0f}" for k, rs in runs.items()))
    finally:
        if actor is not None:
            actor.stop()
        issued = servers.requests()
    counted = sum(r.requests for rs in runs.values() for r in rs)
    if actor is not None:
        counted += actor.warm_polls * len(plan)

    median = statistics.median
    notes = {"actor": "the ModbusBridge actor, decoded and published", "session": "ModbusDeviceSession.poll_readings, decoded",
             "raw plan": "the planner's blocks read raw, not decoded", "raw": "blind 125-register reads, not decoded"}
    for name, rs in runs.items():
        rates = [r.rate for r in rs]
        faults = sum(r.faults for r in rs)
        print(f"{name:8s} {median(rates):10,.0f} points/s (median; {min(rates):,.0f}..{max(rates):,.0f}), "
              f"{median(r.requests / r.seconds for r in rs):7,.0f} requests/s, {notes[name]}"
              + (f", faults {faults}" if name in ("actor", "session") else ""))

    def ratio(ours: str, raw: str, figure: str = "rate") -> str:
        each = [getattr(o, figure) / getattr(r, figure) for o, r in zip(runs[ours], runs[raw], strict=True)]
        return f"{median(each):.2f} ({min(each):.2f}..{max(each):.2f})"

    print(f"ratio ours/raw, median of the rounds (range): actor {ratio('actor', 'raw plan')}, "
          f"session {ratio('session', 'raw plan')} against the same requests; "
          f"actor {ratio('actor', 'raw')}, session {ratio('session', 'raw')} against blind 125-register reads")
    print("client CPU (the figure per core: devices are other machines in the field): "
          + ", ".join(f"{k} {median(r.per_cpu for r in rs):,.0f}" for k, rs in runs.items())
          + f" points per CPU-second; actor / raw plan {ratio('actor', 'raw plan', 'per_cpu')}, "
          f"actor / raw {ratio('actor', 'raw', 'per_cpu')}")
    print(f"requests per device poll: ours {len(plan)}, optimum {unsplit_optimum(profile)} without splitting values; "
          f"raw {len(blind)} (blind 125-register reads)")
    print(f"requests issued (counted by the servers): {issued}, counted by the paths: {counted}"
          + (" (equal)" if issued == counted else " (DIFFERENT)"))
    print(f"total run {time.perf_counter() - t_all:.1f} s")


if __name__ == "__main__":
    main()
