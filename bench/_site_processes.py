"""The child processes of bench/site.py: simulators, the raw pymodbus floor, a live-stream client.

    python bench/_site_processes.py modbus|bacnet|floor|stream SPEC.json [FIRST COUNT]

Each prints one JSON line when it is ready, waits for ``go T0`` on stdin,
does its part from the epoch time T0, and when its stdin closes prints its
result as one JSON line and exits:

* ``modbus``: COUNT simulated devices (one ModbusSimulator each, unit 1, a
  port of its own) named from device FIRST; ready line: their ports;
* ``bacnet``: the BACnet devices (one bacpypes3 device each on its own
  loopback address, COV on every object);
* both play their share of the schedule (SPEC's ``schedule``: per tick,
  (point id, value)) and give back the log of (point id, value, time made);
* ``floor``: raw pymodbus, one AsyncModbusTcpClient per device, reading
  the same register blocks every poll interval, not decoded; gives its counts;
* ``stream``: an ApiClient on the daemon's live stream; gives (point id,
  value, arrival time) of every changed value (values >= 1).

:class:`Child` runs one from the parent, in its own session so that its
whole process group can be stopped.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

Change = tuple[str, float, float]  # point id, value, epoch time


def bacnet_address(device: int) -> str:
    return f"127.0.0.{100 + device}"


def bacnet_instance(device: int) -> int:
    return 5000 + device


# ------------------------------------------------------------ the parent's side


class Child:
    """A child process in its own session; its stdout is read by a thread, so every wait on it is bounded."""

    def __init__(self, kind: str, spec: Path, *args: str, timeout: float = 120.0) -> None:
        self.what = kind
        self.proc = subprocess.Popen([sys.executable, __file__, kind, str(spec), *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, start_new_session=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.ready = self._line(timeout, "was ready")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put("")

    def _line(self, timeout: float, what: str) -> Any:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise SystemExit(f"{self.what} process: nothing within {timeout:g} s (waiting until it {what})") from None
        if not line:
            raise SystemExit(f"{self.what} process exited ({self.proc.wait(5)}) before it {what}")
        return json.loads(line)

    def go(self, t0: float) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"go {t0}\n")
        self.proc.stdin.flush()

    def result(self, timeout: float = 60.0) -> Any:
        """Close its stdin: it stops and prints its result."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        found = self._line(timeout, "gave its result")
        self.proc.wait(timeout)
        return found

    def kill(self) -> None:
        kill_group(self.proc)


def kill_group(proc: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """SIGTERM to the process group of a child still running, SIGKILL after ``grace`` s.

    A child already exited and reaped is left alone: its group id may be someone else's by now.
    """
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(grace)
        return
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(5)


# ------------------------------------------------------------ the children


def ready(what: Any) -> None:
    print(json.dumps(what), flush=True)


def wait_go() -> float:
    line = sys.stdin.readline()
    if not line.startswith("go "):
        raise SystemExit(0)
    return float(line.split()[1])


async def stdin_closed() -> None:
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


def load(spec: dict[str, Any], name: str) -> Any:
    from bms.config import load_profile

    profile, problems = load_profile(Path(spec["folder"]) / "profiles" / f"{name}.toml")
    assert profile is not None, problems
    return profile


async def play(spec: dict[str, Any], setters: dict[str, Callable[[str, float], Any]]) -> None:
    """After go: this process's changes at their ticks (setters by device id) until stdin closes; print the log."""
    t0 = await asyncio.get_running_loop().run_in_executor(None, wait_go)
    ticks = json.loads(Path(spec["schedule"]).read_text())
    log: list[Change] = []

    async def run() -> None:
        for k, tick in enumerate(ticks):
            mine = [(pid.split("/", 1), value) for pid, value in tick if pid.split("/", 1)[0] in setters]
            await asyncio.sleep(max(0.0, t0 + k * spec["every"] - time.time()))
            for (device, key), value in mine:
                await setters[device](key, value)
                log.append((f"{device}/{key}", value, time.time()))

    player = asyncio.create_task(run())
    await stdin_closed()
    player.cancel()
    await asyncio.gather(player, return_exceptions=True)
    print(json.dumps(log), flush=True)


async def serve_modbus(spec: dict[str, Any], first: int, count: int) -> None:
    from bms.sim.modbus import ModbusSimulator

    profile = load(spec, "bench-modbus")
    sims = [ModbusSimulator({1: profile}, "127.0.0.1", 0, interval=3600.0) for _ in range(count)]
    for sim in sims:
        await sim.start()
    ready([sim.port for sim in sims])

    def setter(sim: ModbusSimulator) -> Callable[[str, float], Any]:
        return lambda key, value: sim.set_point(1, key, value)

    await play(spec, {f"mb{first + d:03d}": setter(sim) for d, sim in enumerate(sims)})
    for sim in sims:
        await sim.stop()


async def serve_bacnet(spec: dict[str, Any]) -> None:
    from bms.sim.bacnet import BacnetSimulator

    profile = load(spec, "bench-bacnet")
    devices = range(spec["bacnet_devices"])
    sim = BacnetSimulator([(bacnet_instance(d), bacnet_address(d), profile) for d in devices], spec["bacnet_port"],
                          interval=None)
    await sim.start()
    ready("serving")

    def setter(instance: int) -> Callable[[str, float], Any]:
        async def set_value(key: str, value: float) -> None:  # key "ai7": object analog-input,7
            sim.set_value(instance, f"analog-input,{key[2:]}", value)
        return set_value

    await play(spec, {f"bn{d}": setter(bacnet_instance(d)) for d in devices})
    await sim.stop()


async def floor(spec: dict[str, Any]) -> None:
    from pymodbus.client import AsyncModbusTcpClient

    from bms.modbus import plan_reads

    profile = load(spec, "bench-modbus")
    blocks = [(b.start, b.count) for b in plan_reads([(p.key, p.modbus) for p in profile.points if p.modbus])]
    clients = [AsyncModbusTcpClient("127.0.0.1", port=port, timeout=5.0, retries=0) for port in spec["ports"]]
    for client in clients:
        await client.connect()
    ready(len(blocks))
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
    await asyncio.gather(task, return_exceptions=True)
    for client in clients:
        client.close()
    print(json.dumps(counts), flush=True)


def stream(spec: dict[str, Any]) -> None:
    from bms.client import ApiClient
    from bms.messages import ValueChanged

    arrivals: list[Change] = []
    events = ApiClient.from_data_dir(spec["data"]).stream(timeout=120.0)
    ready("streaming")

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


def main() -> None:
    from bms.logs import configure

    configure(level="warning")  # stdout carries the JSON lines
    kind, spec = sys.argv[1], json.loads(Path(sys.argv[2]).read_text())
    if kind == "modbus":
        asyncio.run(serve_modbus(spec, int(sys.argv[3]), int(sys.argv[4])))
    elif kind == "bacnet":
        asyncio.run(serve_bacnet(spec))
    elif kind == "floor":
        asyncio.run(floor(spec))
    elif kind == "stream":
        stream(spec)
    else:
        raise SystemExit(f"unknown child process {kind!r}")


if __name__ == "__main__":
    main()
