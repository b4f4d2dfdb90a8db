"""Modbus polling benchmark: the bridge's code path against raw pymodbus block reads.

    python bench/modbus.py [--devices 20] [--points 500] [--cycles 100] [--actor-cycles 20] [--servers 4]

Starts simulated devices (one ModbusSimulator per device, spread over
``--servers`` child processes so the servers do not share our GIL), each
with ``--points`` holding-register points of mixed types (uint16, int16,
float32, uint32 scaled) laid end to end. Then, in one run:

1. ``session``: every device polled concurrently per cycle with
   ModbusDeviceSession.poll(plan) -- the code the bridge runs on its loop;
2. ``actor``: the same through a ModbusBridge actor (ticks told directly,
   SampleBatches counted by a subscriber);
3. ``raw``: AsyncModbusTcpClient.read_holding_registers(count=125) over the
   same registers, no decoding.

Prints points/s for each, the ratio ours/raw, requests issued (counted by
the servers) and requests planned against the optimum ceil(registers/125).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from actors import BmsActor, ChildSpec, Context, handles, make_context
from actors.components.modbus import ModbusBridge
from bms.config import DeviceSpec, ModbusBinding, ModbusNetwork, PointSpec, Profile
from bms.messages import SampleBatch, Tick
from bms.modbus import ModbusDeviceSession, TcpLink, plan_reads, width

FIRST_ADDRESS = 100
CPU: dict[str, float] = {}
"""Client CPU seconds of each in-process path: the servers run in other processes, on the same cores."""
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


async def session_path(ports: dict[int, int], profile: Profile, cycles: int) -> tuple[float, int, int]:
    """Seconds for ``cycles`` concurrent polls of every device; samples, faults."""
    sessions = {u: ModbusDeviceSession(TcpLink("127.0.0.1", p), u, timeout=5.0, retries=0) for u, p in ports.items()}
    plans = {u: plan_reads([(f"d{u}/{pt.key}", pt.modbus) for pt in profile.points if pt.modbus]) for u in ports}
    await asyncio.gather(*(s.poll(plans[u]) for u, s in sessions.items()))  # connect + warm up
    samples = faults = 0
    t0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(cycles):
        for result in await asyncio.gather(*(s.poll(plans[u]) for u, s in sessions.items())):
            samples += len(result)
            faults += sum(1 for r in result if r.fault is not None)
    elapsed = time.perf_counter() - t0
    CPU["session"] = time.process_time() - cpu0
    for s in sessions.values():
        s.close()
    return elapsed, samples, faults


async def raw_path(ports: dict[int, int], registers: int, cycles: int,
                   spans: list[tuple[int, int]] | None = None) -> tuple[float, int]:
    """Seconds for ``cycles`` of raw reads of every device; requests per cycle.

    ``spans`` (start, count) are the reads: by default blind 125-register
    reads of the whole range; the planner's blocks for a same-requests figure.
    """
    from pymodbus.client import AsyncModbusTcpClient

    clients = {u: AsyncModbusTcpClient("127.0.0.1", port=p, timeout=5.0, retries=0) for u, p in ports.items()}
    for c in clients.values():
        await c.connect()
    planned = spans is not None
    if spans is None:
        spans = [(a, min(125, FIRST_ADDRESS + registers - a))
                 for a in range(FIRST_ADDRESS, FIRST_ADDRESS + registers, 125)]

    async def read_all(unit: int) -> None:
        for address, count in spans:
            reply = await clients[unit].read_holding_registers(address, count=count, device_id=unit)
            if reply.isError() or len(reply.registers) != count:
                raise RuntimeError(f"raw read failed: {reply}")

    await asyncio.gather(*(read_all(u) for u in clients))
    t0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(cycles):
        await asyncio.gather(*(read_all(u) for u in clients))
    elapsed = time.perf_counter() - t0
    CPU["raw plan" if planned else "raw"] = time.process_time() - cpu0
    for c in clients.values():
        c.close()
    return elapsed, len(spans) * len(clients)


class BatchCounter(BmsActor):
    def __init__(self, name: str, ctx: Context, state: dict[str, Any]) -> None:
        super().__init__(name, ctx)
        self.state = state

    @handles(SampleBatch)
    def got(self, batch: SampleBatch) -> None:
        st = self.state
        st["batches"] += 1
        st["samples"] += len(batch.samples)
        st["faults"] += sum(1 for s in batch.samples if s.fault is not None)
        if st["batches"] >= st["target"]:
            st["done"].set()


def actor_path(ports: dict[int, int], profile: Profile, cycles: int) -> tuple[float, int, int]:
    """Seconds for ``cycles`` polls of every device through a ModbusBridge; samples, faults."""
    ctx = make_context()
    state: dict[str, Any] = {"batches": 0, "samples": 0, "faults": 0, "target": len(ports), "done": threading.Event()}
    counter = ctx.supervisor.start_child(ChildSpec("counter", BatchCounter, kwargs={"state": state}))
    assert counter is not None
    ctx.registry.subscribe(SampleBatch, counter)
    devices = tuple(
        (DeviceSpec(id=f"d{u}", profile="bench", protocol="modbus", host="127.0.0.1", port=p, unit_id=u,
                    poll_interval=3600.0, timeout=5.0, retries=0), profile)
        for u, p in ports.items())
    bridge = ctx.supervisor.start_child(ChildSpec("modbus.bench", ModbusBridge, kwargs={
        "network": "bench", "spec": ModbusNetwork(), "devices": devices}))
    assert bridge is not None
    try:
        if not state["done"].wait(30):  # the first tick (first_in=0) connects and warms up
            raise RuntimeError("the bridge's first poll did not finish")
        state.update(batches=0, samples=0, faults=0, target=len(ports) * cycles)
        t0 = time.perf_counter()
        for _ in range(cycles):
            done = state["batches"] + len(ports)
            for u in ports:
                bridge.tell(Tick(timer=f"poll:d{u}", due=0.0, now=time.time()))
            while state["batches"] < done:  # the next cycle starts when this one is in
                time.sleep(0.0005)
        elapsed = time.perf_counter() - t0
        return elapsed, state["samples"], state["faults"]
    finally:
        ctx.supervisor.stop_all(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--devices", type=int, default=20)
    ap.add_argument("--points", type=int, default=500)
    ap.add_argument("--cycles", type=int, default=100)
    ap.add_argument("--actor-cycles", type=int, default=20)
    ap.add_argument("--servers", type=int, default=4, help="server processes")
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--first-unit", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    from bms.logs import configure

    configure(level="warning")  # log lines to stderr: a child's stdout carries its ports
    if args.serve:
        asyncio.run(serve(args.serve, args.first_unit, args.points))
        return
    profile = bench_profile(args.points)
    registers = registers_of(profile)
    plan = plan_reads([(pt.key, pt.modbus) for pt in profile.points if pt.modbus])
    optimum = math.ceil(registers / 125)
    total_points = args.devices * args.points
    print(f"{args.devices} devices x {args.points} points = {total_points} points, {registers} registers per device, "
          f"{args.servers} server processes")
    print(f"plan: {len(plan)} requests per device per cycle; optimum {unsplit_optimum(profile)} without splitting "
          f"a value, ceil({registers}/125) = {optimum} if values could be split")

    t_all = time.perf_counter()
    servers = Servers(args.devices, args.servers, args.points)
    try:
        s_time, s_samples, s_faults = asyncio.run(session_path(servers.ports, profile, args.cycles))
        a_time, a_samples, a_faults = actor_path(servers.ports, profile, args.actor_cycles)
        r_time, r_per_cycle = asyncio.run(raw_path(servers.ports, registers, args.cycles))
        blocks = [(b.start, b.count) for b in plan]
        p_time, p_per_cycle = asyncio.run(raw_path(servers.ports, registers, args.cycles, blocks))
    finally:
        issued = servers.requests()
    expected = (len(plan) * args.devices * (args.cycles + 1 + args.actor_cycles + 1)
                + (r_per_cycle + p_per_cycle) * (args.cycles + 1))

    def line(name: str, seconds: float, cycles: int, samples: int, faults: int) -> float:
        rate = samples / seconds
        print(f"{name:8s} {cycles:4d} cycles in {seconds:6.2f} s: {rate:10,.0f} points/s, "
              f"{cycles * len(plan) * args.devices / seconds:8,.0f} requests/s, "
              f"{seconds / cycles * 1000:6.1f} ms per cycle, faults {faults}")
        return rate

    s_rate = line("session", s_time, args.cycles, s_samples, s_faults)
    a_rate = line("actor", a_time, args.actor_cycles, a_samples, a_faults)
    r_rate = total_points * args.cycles / r_time
    print(f"{'raw':8s} {args.cycles:4d} cycles in {r_time:6.2f} s: {r_rate:10,.0f} points/s (registers read, "
          f"not decoded), {args.cycles * r_per_cycle / r_time:8,.0f} requests/s, "
          f"{r_time / args.cycles * 1000:6.1f} ms per cycle")
    p_rate = total_points * args.cycles / p_time
    print(f"{'raw plan':8s} {args.cycles:4d} cycles in {p_time:6.2f} s: {p_rate:10,.0f} points/s (the planner's "
          f"blocks, read raw, not decoded), {args.cycles * p_per_cycle / p_time:8,.0f} requests/s")
    print(f"ratio ours/raw: session {s_rate / r_rate:.2f}, actor {a_rate / r_rate:.2f} (blind 125-register reads); "
          f"session {s_rate / p_rate:.2f}, actor {a_rate / p_rate:.2f} (same requests as ours)")
    per_cpu = {k: total_points * args.cycles / v for k, v in CPU.items() if v > 0}
    print("client CPU (the figure per core: devices are other machines in the field): "
          + ", ".join(f"{k} {v:,.0f} points per CPU-second" for k, v in per_cpu.items())
          + f"; session / raw plan {per_cpu['session'] / per_cpu['raw plan']:.2f}")
    print(f"requests per cycle: ours {len(plan) * args.devices}, raw {r_per_cycle} (blind 125-register reads), "
          f"optimum {unsplit_optimum(profile) * args.devices} without splitting values")
    print(f"requests issued (counted by the servers): {issued} (expected {expected}, warm-up cycles included)")
    print(f"total run {time.perf_counter() - t_all:.1f} s")


if __name__ == "__main__":
    main()
