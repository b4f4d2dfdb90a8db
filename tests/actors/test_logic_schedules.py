"""ScheduleRead fed by the real schedule engine, on a manual clock: the value and the occupied flag as the
schedule engine evaluates them, and a schedule's change runs the programs that read it.

A virtual room, the ``office`` template schedule (assigned to nothing: the logic program is its only reader),
real SQLite files, no sleeps.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from actors import ChildSpec, make_context
from actors.components.audit import AuditWriter
from actors.components.logic import LogicEngine
from actors.components.nodes import ModelStore
from actors.components.points import PointStore
from actors.components.schedules import ScheduleEngine
from bms.clock import ManualClock
from bms.config import LoadedScenario, Scenario, SiteSpec, VirtualDevice
from bms.logic import LogicSection
from bms.logic.messages import GetProgram, ProgramTraces
from bms.schedules import ScheduleSpec
from bms.schedules.messages import CancelOverride, OverrideSchedule
from tests.actors.test_logic_engine import ROOM, programs, value
from tests.conftest import wait_until

LONDON = ZoneInfo("Europe/London")
MONDAY_NOON = dt.datetime(2026, 12, 21, 12, 0, tzinfo=LONDON).timestamp()

OFFICE_HOURS = """
description = "the room follows the office schedule: no interval, no points watched: only the schedule runs it"
[[blocks]]
id = "office"
type = "ScheduleRead"
schedule = "office"
kind = "number"
default = -1.0
[[blocks]]
id = "level"
type = "PointWrite"
point = "room/out"
[[blocks]]
id = "fan"
type = "PointWrite"
point = "room/fan"
kind = "bool"
[[wires]]
from = "office"
to = "level.in"
[[wires]]
from = "office.occupied"
to = "fan.in"
"""


def start_site(ctx: Any, directory: Path, with_schedules: bool = True) -> Any:
    scenario = Scenario(site=SiteSpec(id="s", name="S", timezone="Europe/London"),
                        devices=[VirtualDevice(id="room", profile="room")],
                        schedules=[ScheduleSpec(name="office", template="office")])
    loaded = LoadedScenario(Path("site.toml"), scenario, {"room": ROOM})
    specs = [ChildSpec("nodes", ModelStore, kwargs={"site": loaded}), ChildSpec("points", PointStore),
             ChildSpec("audit", AuditWriter)]
    if with_schedules:
        specs.append(ChildSpec("schedules", ScheduleEngine, kwargs={"scenario": scenario}))
    specs.append(ChildSpec("logic", LogicEngine, kwargs={"settings": LogicSection(), "directory": directory}))
    for spec in specs:
        assert ctx.supervisor.start_child(spec) is not None, ctx.health.get(spec.name)
    return ctx.registry.get("logic")


def test_schedule_read_follows_the_schedule_engine_and_its_changes_run_the_program(tmp_path: Path) -> None:
    clock = ManualClock(MONDAY_NOON)
    ctx = make_context(clock, tmp_path)
    try:
        logic = start_site(ctx, programs(tmp_path, office_hours=OFFICE_HOURS))
        schedules = ctx.registry.get("schedules")
        # nothing runs the program at start: the first change of the schedule does
        schedules.ask(OverrideSchedule(name="office", value="unoccupied", until="2h", user="olga"))
        wait_until(lambda: (value(ctx, "room/out"), value(ctx, "room/fan")) == (0.0, False),
                   what="unoccupied by the override: 0, not occupied")
        schedules.ask(CancelOverride(name="office", user="olga"))
        wait_until(lambda: (value(ctx, "room/out"), value(ctx, "room/fan")) == (1.0, True),
                   what="occupied at noon again: 1, occupied")
        runs = logic.ask(GetProgram(name="office_hours")).runs
        clock.set(dt.datetime(2026, 12, 21, 19, 0, tzinfo=LONDON).timestamp())  # past the evening transition
        wait_until(lambda: (value(ctx, "room/out"), value(ctx, "room/fan")) == (0.0, False),
                   what="the evening's unoccupied, from the engine's timer")
        assert logic.ask(GetProgram(name="office_hours")).runs == runs + 1  # one run per change
        [last] = logic.ask(ProgramTraces(name="office_hours", limit=1))
        assert (last.outputs["office.out"], last.outputs["office.occupied"]) == (0.0, False)
    finally:
        ctx.supervisor.stop_all(timeout=5)


def test_a_schedule_read_at_start_takes_the_present_value_without_a_schedule_engine_its_default(
        tmp_path: Path) -> None:
    text = OFFICE_HOURS.replace('description = "the room', 'interval = 5.0\ndescription = "the room')
    clock = ManualClock(MONDAY_NOON)
    ctx = make_context(clock, tmp_path)
    try:
        start_site(ctx, programs(tmp_path, office_hours=text))
        clock.advance(5.0)
        wait_until(lambda: value(ctx, "room/out") == 1.0, what="occupied now, read at the logic engine's start")
    finally:
        ctx.supervisor.stop_all(timeout=5)
    clock = ManualClock(MONDAY_NOON)
    (tmp_path / "other").mkdir()
    other = make_context(clock, tmp_path / "other")
    try:
        start_site(other, programs(tmp_path / "other", office_hours=text), with_schedules=False)
        clock.advance(5.0)
        wait_until(lambda: value(other, "room/out") == -1.0, what="no schedule engine: the block's default")
    finally:
        other.supervisor.stop_all(timeout=5)
