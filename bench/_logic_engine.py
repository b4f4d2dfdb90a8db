"""The engine-level figures of bench/logic.py: runs/s through the logic engine actor, CPU of 1,000 programs at 1 Hz.

A virtual site (no devices) with the points of the bench program, the model, point store and logic
engine actors in this process, on the wall clock.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from actors import ChildSpec, Context, make_context
from actors.components.logic import LogicEngine
from actors.components.nodes import ModelStore
from actors.components.points import PointStore
from bms.clock import WallClock
from bms.config import LoadedScenario, PointSpec, Profile, Scenario, SiteSpec, VirtualBinding, VirtualDevice
from bms.logic import LogicSection
from bms.logic.messages import GetProgram, ListPrograms
from bms.logs import configure
from bms.messages import PointValue, ValueChanged


def _profile(name: str, keys: tuple[str, ...]) -> Profile:
    return Profile(name=name, protocol="virtual", points=[
        PointSpec(key=k, name=k, writable=True, virtual=VirtualBinding(initial=20.0)) for k in keys])


def _site() -> LoadedScenario:
    scenario = Scenario(site=SiteSpec(id="bench", name="Bench"),
                        devices=[VirtualDevice(id="ahu1", profile="ahu"), VirtualDevice(id="vav101", profile="vav")])
    return LoadedScenario(Path("site.toml"), scenario, {"ahu": _profile("ahu", ("oat", "sat_sp")),
                                                        "vav": _profile("vav", ("zone_temp", "damper"))})


def _start(ctx: Context, programs: Path) -> Any:
    configure(level="warning")  # a log line per write would be the figure
    loaded = _site()
    for spec in (ChildSpec("nodes", ModelStore, kwargs={"site": loaded}), ChildSpec("points", PointStore),
                 ChildSpec("logic", LogicEngine, kwargs={"settings": LogicSection(), "directory": programs})):
        if ctx.supervisor.start_child(spec) is None:
            raise SystemExit(f"{spec.name} did not start: {ctx.health.get(spec.name)}")
    return ctx.registry.get("logic")


def engine_runs_per_second(program: str, seconds: float) -> float:
    """One program run on each change batch of its input, writes through the point store included.

    The engine's inbox is kept fed (batches queued behind each other are merged and run once, as the
    engine's ``merged`` subscription does): the figure is the runs the engine completes per second."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "logic").mkdir()
        text = program.replace("interval = 1", 'interval = 0\non_change = ["vav101/zone_temp"]')
        (folder / "logic" / "bench.toml").write_text(text)
        ctx = make_context(WallClock(), folder)
        try:
            logic = _start(ctx, folder / "logic")
            publish = ctx.registry.publish
            best = 0.0
            sent = 0
            for _ in range(4):  # short phases, the best kept: the machine is shared
                runs0 = logic.ask(GetProgram(name="bench")).runs
                t0 = time.perf_counter()
                while time.perf_counter() - t0 < seconds / 4:
                    for _ in range(20):
                        sent += 1
                        publish(ValueChanged(values=(PointValue("vav101/zone_temp", 20.0 + (sent % 50) / 10, 0.0),)))
                    logic.ask(GetProgram(name="bench"))  # behind the batches: keeps the inbox short
                runs = logic.ask(GetProgram(name="bench")).runs - runs0  # batches merged in the inbox run once
                best = max(best, runs / (time.perf_counter() - t0))
            return best
        finally:
            ctx.supervisor.stop_all(timeout=10)


def cpu_share_of(program: str, count: int, seconds: float) -> float:
    """Share of one core the process uses while ``count`` copies of the program run every second."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "logic").mkdir()
        for i in range(count):
            (folder / "logic" / f"p{i:04d}.toml").write_text(f'name = "p{i:04d}"\n' + program)
        ctx = make_context(WallClock(), folder)
        try:
            logic = _start(ctx, folder / "logic")
            if len(logic.ask(ListPrograms())) != count:
                raise SystemExit("not every program loaded")
            time.sleep(2.0)  # the first runs write their outputs once
            cpu0, t0 = time.process_time(), time.perf_counter()
            time.sleep(seconds)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
            runs = sum(v.runs for v in logic.ask(ListPrograms()))
            print(f"  ({runs:,} runs of {count:,} programs in {wall + 2:.0f} s)")
            return cpu / wall
        finally:
            ctx.supervisor.stop_all(timeout=10)
