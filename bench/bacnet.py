"""BACnet benchmark: the bridge's polling against raw bacpypes3 RPM, and COV throughput.

    python bench/bacnet.py [--devices 20] [--points 100] [--cycles 10] [--processes 4]

Serves DEVICES simulated devices x POINTS objects on loopback (127.77.0.x,
a free port) from PROCESSES simulator processes (field devices are not on
our interpreter's lock). Then, in the same run:

1. polls every point through the bridge's code path
   (:class:`~actors.components.bacnet._poller.NetworkPoller`: devices polled
   concurrently, RPM sized by the client, present value + status flags)
   for CYCLES cycles -> points/s;
2. reads the same properties with raw bacpypes3 ReadPropertyMultiple from
   one client, device after device, 50 objects (100 properties) per request
   -> points/s, and the ratio (goal >= 3x);
3. subscribes COV on every point through the bridge's code path and changes
   every value a few times on the simulator -> notifications/s handled
   (published as SampleBatches).

Prints figures; asserts nothing. Takes well under 90 s.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import time
from typing import Any, NamedTuple

from bacpypes3.apdu import ReadPropertyMultipleRequest
from bacpypes3.app import Application
from bacpypes3.basetypes import PropertyIdentifier, PropertyReference, ReadAccessSpecification
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.networkport import NetworkPortObject
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import ObjectIdentifier

from actors.components.bacnet._poller import NetworkPoller
from actors.components.bacnet._targets import DeviceTarget, PointTarget
from actors.components.sim_bacnet import BacnetSimulatorThread
from bms.bacnet import await_bound, close_application
from bms.clock import WallClock
from bms.config import BacnetBinding, BacnetNetwork, PointSpec, Profile
from bms.logs import get_logger, set_level
from bms.messages import SampleBatch
from bms.sim.bacnet import BacnetSimulator, SimDevice

SUBNET = "127.77.0"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_profile(points: int) -> Profile:
    """Analog inputs, analog values and binary inputs, in 6:2:2 proportion."""
    specs: list[PointSpec] = []
    for i in range(points):
        if i % 5 in (0, 1, 2):
            obj, kind = f"analog-input,{i}", "number"
        elif i % 5 == 3:
            obj, kind = f"analog-value,{i}", "number"
        else:
            obj, kind = f"binary-input,{i}", "bool"
        specs.append(PointSpec(key=f"p{i:03d}", name=f"Point {i}", kind=kind,  # type: ignore[arg-type]
                               bacnet=BacnetBinding(object=obj, cov=True)))
    return Profile(name="bench", protocol="bacnet", points=specs)


def targets(profile: Profile, devices: int, port: int, cov: bool) -> list[DeviceTarget]:
    found = []
    for d in range(devices):
        points = tuple(PointTarget(f"dev{d}/{p.key}", p.bacnet.object, cov=cov) for p in profile.points if p.bacnet)
        found.append(DeviceTarget(f"dev{d}", f"{SUBNET}.{d + 2}:{port}", 7000 + d, 0.001, points))
    return found


class Counter:
    def __init__(self) -> None:
        self.samples = 0
        self.batches = 0
        self.faults = 0

    def __call__(self, msg: Any) -> int:
        if isinstance(msg, SampleBatch):
            self.batches += 1
            self.samples += msg.size
            self.faults += sum(1 for s in msg.samples if s.fault)
        return 1


async def until(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.001)
    return True


class Rate(NamedTuple):
    """What one path achieved: items per wall second and process CPU seconds per item."""

    per_s: float
    cpu_us: float  # process CPU (all our threads) per item, microseconds

    def __str__(self) -> str:
        return f"{self.per_s:8,.0f}/s  {self.cpu_us:6.0f} us CPU each"


def rate(items: int, wall: float, cpu: float) -> Rate:
    return Rate(items / wall if wall else 0.0, cpu / items * 1e6 if items else float("nan"))


async def bridge_polls(profile: Profile, devices: int, port: int, cycles: int) -> Rate:
    counter = Counter()
    network = BacnetNetwork(address=f"127.0.0.1/8:{free_port()}", device_port=port, timeout=2.0, retries=1,
                            concurrency=8)
    poller = NetworkPoller("bench", "bench", network, WallClock(), publish=counter, report=lambda *a: None,
                           log=get_logger("bench"))
    await poller.start()
    try:
        for target in targets(profile, devices, port, cov=False):
            poller.add(target)
        poller.tick()  # a first cycle: learn each device's limits, read its object list
        await until(lambda: counter.batches >= devices, 30)
        await asyncio.sleep(0.5)
        counter.samples = counter.batches = 0
        started, cpu = time.perf_counter(), time.process_time()
        for cycle in range(1, cycles + 1):
            poller.tick()
            await until(lambda: counter.batches >= cycle * devices, 30)  # noqa: B023
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        if counter.faults:
            print(f"  warning: {counter.faults} faulted samples")
        return rate(counter.samples, elapsed, cpu)
    finally:
        await poller.stop()


async def raw_rpm(profile: Profile, devices: int, port: int, cycles: int) -> Rate:
    address = f"127.0.0.1/8:{free_port()}"
    app = Application.from_object_list([
        DeviceObject(objectIdentifier=("device", 4_194_301), objectName="raw", vendorIdentifier=999,
                     maxApduLengthAccepted=1476, segmentationSupported="segmented-both"),
        NetworkPortObject(address, objectIdentifier=("network-port", 1), objectName="NetworkPort-1"),
    ])
    await await_bound(app)
    try:
        objids = [ObjectIdentifier(p.bacnet.object) for p in profile.points if p.bacnet]
        chunks = [objids[i:i + 50] for i in range(0, len(objids), 50)]
        points = 0
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(cycles):
            for d in range(devices):
                target = Address(f"{SUBNET}.{d + 2}:{port}")
                for chunk in chunks:
                    request = ReadPropertyMultipleRequest(listOfReadAccessSpecs=[
                        ReadAccessSpecification(objectIdentifier=oid, listOfPropertyReferences=[
                            PropertyReference(propertyIdentifier=PropertyIdentifier("present-value")),
                            PropertyReference(propertyIdentifier=PropertyIdentifier("status-flags")),
                        ]) for oid in chunk
                    ], destination=target)
                    ack = await app.request(request)
                    points += sum(1 for result in ack.listOfReadAccessResults
                                  for element in result.listOfResults
                                  if element.propertyIdentifier == PropertyIdentifier("present-value"))
        return rate(points, time.perf_counter() - started, time.process_time() - cpu)
    finally:
        await close_application(app)


def _apply(sim: BacnetSimulator, batch: list[tuple[int, str, Any]]) -> None:
    for instance, objid, value in batch:
        sim.set_value(instance, objid, value)


def _serve(conn: Any, devices: list[SimDevice], port: int) -> None:
    """A simulator process: serve ``devices``, apply batches of values, stop on None."""
    set_level("warning")
    try:
        thread = BacnetSimulatorThread(BacnetSimulator(devices, port, interval=None), timeout=60)
    except Exception as err:  # reported to the parent
        conn.send(f"failed: {err}")
        return
    conn.send("ready")
    sim = thread.simulator
    while True:
        batch = conn.recv()
        if batch is None:
            break
        if batch == "cpu":
            conn.send(time.process_time())
            continue
        thread.run(lambda: _apply(sim, batch))  # noqa: B023
        conn.send("ok")
    thread.stop()
    conn.send("stopped")


class SimProcesses:
    """The simulated devices in a few processes of their own (as real devices are: not on our GIL)."""

    def __init__(self, profile: Profile, devices: int, port: int, processes: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        specs = [SimDevice(7000 + d, f"{SUBNET}.{d + 2}", profile) for d in range(devices)]
        self.groups = [specs[i::processes] for i in range(processes)]
        self.conns: list[Any] = []
        self.procs: list[Any] = []
        for group in self.groups:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(child, group, port), daemon=True)
            proc.start()
            self.conns.append(parent)
            self.procs.append(proc)
        for conn in self.conns:
            answer = conn.recv()
            if answer != "ready":
                raise RuntimeError(answer)
        self.owner = {spec.instance: i for i, group in enumerate(self.groups) for spec in group}

    def set_values(self, values: list[tuple[int, str, Any]]) -> None:
        """Apply values in every process at once; returns when all are set."""
        batches: list[list[tuple[int, str, Any]]] = [[] for _ in self.groups]
        for item in values:
            batches[self.owner[item[0]]].append(item)
        for conn, batch in zip(self.conns, batches, strict=True):
            conn.send(batch)
        for conn in self.conns:
            conn.recv()

    def cpu(self) -> float:
        """CPU seconds the simulator processes used so far, all together."""
        for conn in self.conns:
            conn.send("cpu")
        return sum(float(conn.recv()) for conn in self.conns)

    def stop(self) -> None:
        for conn in self.conns:
            conn.send(None)
        for conn, proc in zip(self.conns, self.procs, strict=True):
            conn.recv()
            proc.join(10)


async def cov(profile: Profile, devices: int, sims: SimProcesses, port: int, rounds: int) -> tuple[int, float, Rate]:
    counter = Counter()
    network = BacnetNetwork(address=f"127.0.0.1/8:{free_port()}", device_port=port, timeout=2.0, retries=1)
    poller = NetworkPoller("bench", "bench", network, WallClock(), publish=counter, report=lambda *a: None,
                           log=get_logger("bench"), cov_lifetime=600)
    await poller.start()
    try:
        for target in targets(profile, devices, port, cov=True):
            poller.add(target)
        started = time.perf_counter()
        poller.tick()
        client = poller.client
        assert client is not None
        total = devices * len(profile.points)
        await until(lambda: len(client.subscriptions) >= total, 60)
        subscribed = len(client.subscriptions)
        setup = time.perf_counter() - started
        await until(lambda: counter.samples >= devices + subscribed, 30)  # the poll and the initial notifications
        await asyncio.sleep(0.5)
        base = counter.samples
        started, cpu = time.perf_counter(), time.process_time()
        for r in range(1, rounds + 1):
            values: list[tuple[int, str, Any]] = []
            for d in range(devices):
                for p in profile.points:
                    obj = p.bacnet.object if p.bacnet else ""
                    values.append((7000 + d, obj, bool(r % 2) if obj.startswith("binary") else float(r)))
            sims.set_values(values)
            await until(lambda: counter.samples - base >= r * subscribed, 20)  # noqa: B023
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        return subscribed, setup, rate(counter.samples - base, elapsed, cpu)
    finally:
        await poller.stop()


async def main(devices: int, points: int, cycles: int, processes: int) -> None:
    set_level("warning")
    profile = bench_profile(points)
    port = free_port()
    built = time.perf_counter()
    sims = SimProcesses(profile, devices, port, processes)
    print(f"{devices} devices x {points} points = {devices * points} points on {SUBNET}.2-{devices + 1}:{port}, "
          f"served by {processes} processes (ready in {time.perf_counter() - built:.1f} s)")
    try:
        sim_cpu = sims.cpu()
        bridge = await bridge_polls(profile, devices, port, cycles)
        sim_cpu, bridge_sim = sims.cpu(), sims.cpu() - sim_cpu
        raw = await raw_rpm(profile, devices, port, cycles)
        raw_sim = sims.cpu() - sim_cpu
        print(f"polling, {cycles} cycles (present value + status flags), points/s and our process CPU per point:")
        print(f"  bridge (concurrent devices):   {bridge}")
        print(f"  raw bacpypes3 RPM, sequential: {raw}")
        polled = cycles * devices * points
        print(f"  simulated devices' CPU per point: {bridge_sim / (polled + devices * points) * 1e6:.0f} us "
              f"(bridge run, first cycle included), {raw_sim / polled * 1e6:.0f} us (raw run); "
              f"{os.cpu_count()} cores")
        print(f"  ratio: {bridge.per_s / raw.per_s:.2f}x throughput (goal >= 3x), "
              f"CPU per point {bridge.cpu_us:.0f} us (goal <= 80 us)")
        subscribed, setup, notes = await cov(profile, devices, sims, port, rounds=3)
        per_cpu = 1e6 / notes.cpu_us if notes.cpu_us else 0.0
        print(f"COV: {subscribed} subscriptions in {setup:.1f} s; notifications handled: {notes}; "
              f"{per_cpu:,.0f} per CPU second")
    finally:
        sims.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--processes", type=int, default=4, help="simulator processes")
    args = parser.parse_args()
    asyncio.run(main(args.devices, args.points, args.cycles, args.processes))
