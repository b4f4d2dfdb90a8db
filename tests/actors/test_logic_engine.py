"""The logic engine wired to the model, point and audit stores and the alarm engine, on a manual clock.

A scenario built in code: ``room``, a virtual device with writable points; the programs are TOML files
in a temporary directory. Real SQLite files (logic.db, audit.db, overrides.db), no sleeps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from actors import ChildSpec, Context, make_context
from actors.components.alarms import AlarmEngine
from actors.components.audit import AuditWriter
from actors.components.logic import LogicEngine
from actors.components.nodes import ModelStore
from actors.components.points import PointStore
from bms.alarms import GetAlarm
from bms.audit import ListAudit
from bms.clock import ManualClock
from bms.config import LoadedScenario, PointSpec, Profile, Scenario, SiteSpec, VirtualBinding, VirtualDevice
from bms.errors import NotFound
from bms.logic import LogicSection
from bms.logic.messages import DisableProgram, EnableProgram, GetProgram, ListPrograms, ProgramTraces
from bms.messages import GetPoint, GetPriorityArray, WritePoint
from bms.supervision import Health
from tests.conftest import wait_until

T0 = 1_700_000_000.0
ROOM = Profile(name="room", protocol="virtual", points=[
    PointSpec(key=key, name=key, kind=kind, writable=True, virtual=VirtualBinding(initial=initial))
    for key, kind, initial in (("temp", "number", 20.0), ("out", "number", None), ("copy", "number", None),
                               ("count", "number", None), ("fan", "bool", True))
])

DOUBLE = """
interval = 10.0
priority = 12
[[blocks]]
id = "t"
type = "PointRead"
point = "room/temp"
[[blocks]]
id = "two"
type = "Constant"
value = 2.0
[[blocks]]
id = "x"
type = "Math"
op = "mul"
[[blocks]]
id = "o"
type = "PointWrite"
point = "room/out"
[[wires]]
from = "t"
to = "x.a"
[[wires]]
from = "two"
to = "x.b"
[[wires]]
from = "x"
to = "o.in"
"""

FOLLOW = """
on_change = ["room/temp"]
reads = ["room/temp"]
writes = ["room/copy"]
lua = '''
local t = read("room/temp")
state_set("runs", (state_get("runs") or 0) + 1)
write("room/copy", t)
alarm("hot", t > 30, "high", "room too hot")
'''
"""

COUNTER = """
interval = 5.0
writes = ["room/count"]
lua = '''
local n = (state_get("n") or 0) + 1
state_set("n", n)
write("room/count", n)
'''
"""

SPIN = """
interval = 1.0
budget = 10000
lua = 'while true do end'
"""


def site() -> LoadedScenario:
    scenario = Scenario(site=SiteSpec(id="s", name="Site"), devices=[VirtualDevice(id="room", profile="room")])
    return LoadedScenario(Path("site.toml"), scenario, {"room": ROOM})


def programs(tmp_path: Path, **files: str) -> Path:
    directory = tmp_path / "logic"
    directory.mkdir(exist_ok=True)
    for name, text in files.items():
        (directory / f"{name}.toml").write_text(text, encoding="utf-8")
    return directory


def start(ctx: Context, directory: Path, **settings: Any) -> Any:
    loaded = site()
    for spec in (ChildSpec("nodes", ModelStore, kwargs={"site": loaded}), ChildSpec("points", PointStore),
                 ChildSpec("audit", AuditWriter), ChildSpec("alarms", AlarmEngine, kwargs={"scenario": loaded.scenario}),
                 ChildSpec("logic", LogicEngine, kwargs={"settings": LogicSection(**settings), "directory": directory})):
        assert ctx.supervisor.start_child(spec) is not None, ctx.health.get(spec.name)
    return ctx.registry.get("logic")


def value(ctx: Context, point: str) -> Any:
    return ctx.registry.get("points").ask(GetPoint(point_id=point)).value


def test_a_periodic_program_writes_through_the_priority_array_as_its_user_with_an_audit_row(
        ctx: Context, tmp_path: Path) -> None:
    logic = start(ctx, programs(tmp_path, double=DOUBLE))
    clock = ctx.clock
    assert isinstance(clock, ManualClock)
    assert value(ctx, "room/out") is None  # nothing before the program's first interval
    clock.advance(10.0)
    wait_until(lambda: value(ctx, "room/out") == 40.0, what="room/out = 2 x 20")
    levels = ctx.registry.get("points").ask(GetPriorityArray(point_id="room/out"))
    assert (levels.levels[11], levels.users[11], levels.active_priority) == (40.0, "logic:double", 12)
    ctx.registry.get("points").ask(WritePoint(point_id="room/temp", value=21.0, priority=8, user="olivia"))
    wait_until(lambda: value(ctx, "room/temp") == 21.0, what="room/temp = 21")
    logic.ask(ListPrograms())  # behind the ValueChanged in the engine's inbox
    clock.advance(10.0)
    wait_until(lambda: value(ctx, "room/out") == 42.0, what="room/out = 2 x 21")
    clock.advance(10.0)  # same value again: no write, no audit row
    wait_until(lambda: logic.ask(GetProgram(name="double")).runs == 3, what="third run")
    audit = ctx.registry.get("audit")
    wait_until(lambda: len(audit.ask(ListAudit(user="logic:double"))) == 2, what="two audit rows (committed in batches)")
    rows = audit.ask(ListAudit(user="logic:double"))
    assert [(r.entry.origin, r.entry.action, r.entry.target, r.entry.after) for r in rows] == [
        ("logic:double", "writePoint", "room/out", '{"priority":12,"value":40.0}'),
        ("logic:double", "writePoint", "room/out", '{"priority":12,"value":42.0}'),
    ]
    [view] = logic.ask(ListPrograms())
    assert (view.name, view.state, view.interval, view.reads, view.writes) == (
        "double", "running", 10.0, ("room/temp",), ("room/out",))
    traces = logic.ask(ProgramTraces(name="double", limit=2))
    assert [t.outputs["x.out"] for t in traces] == [42.0, 42.0]


def test_a_change_of_a_listed_point_runs_the_program_and_its_alarm_request_raises_a_real_alarm(
        ctx: Context, tmp_path: Path) -> None:
    logic = start(ctx, programs(tmp_path, follow=FOLLOW))
    points = ctx.registry.get("points")
    points.ask(WritePoint(point_id="room/temp", value=31.0, priority=8, user="olivia"))
    wait_until(lambda: value(ctx, "room/copy") == 31.0, what="room/copy follows room/temp")
    alarms = ctx.registry.get("alarms")

    def alarm_state() -> str:
        try:
            return str(alarms.ask(GetAlarm(alarm_id="logic:follow:hot")).state)
        except NotFound:
            return "none"

    wait_until(lambda: alarm_state() == "unacknowledged", what="the program's alarm raised")
    view = alarms.ask(GetAlarm(alarm_id="logic:follow:hot"))
    assert view.severity == "high"
    points.ask(WritePoint(point_id="room/temp", value=25.0, priority=8, user="olivia"))
    wait_until(lambda: value(ctx, "room/copy") == 25.0, what="room/copy follows again")
    wait_until(lambda: alarm_state() == "returned-unacknowledged", what="the alarm cleared")
    assert logic.ask(GetProgram(name="follow")).runs == 2  # one run per change batch, none on the clock


def test_a_program_that_exhausts_its_budget_in_a_row_is_disabled_with_the_reason(ctx: Context,
                                                                                 tmp_path: Path) -> None:
    logic = start(ctx, programs(tmp_path, spin=SPIN, double=DOUBLE), fault_limit=2)
    clock = ctx.clock
    assert isinstance(clock, ManualClock)
    for runs in (1, 2):
        clock.advance(1.0)
        wait_until(lambda r=runs: logic.ask(GetProgram(name="spin")).runs == r, what=f"run {runs}")  # type: ignore[misc]
    view = logic.ask(GetProgram(name="spin"))
    assert view.state == "faulted"
    assert "disabled" in view.reason and "2 runs in a row" in view.reason
    health = ctx.health.get("logic")
    assert health is not None and health.state == Health.DEGRADED and "spin" in health.reason
    clock.advance(5.0)
    assert logic.ask(GetProgram(name="spin")).runs == 2  # no longer run
    assert logic.ask(GetProgram(name="double")).state == "running"
    logic.ask(EnableProgram(name="spin", user="olivia"))
    assert ctx.health.get("logic").state == Health.HEALTHY  # type: ignore[union-attr]
    logic.ask(DisableProgram(name="spin", user="olivia"))
    assert logic.ask(GetProgram(name="spin")).state == "disabled"
    with pytest.raises(NotFound, match="no logic program 'nope'"):
        logic.ask(GetProgram(name="nope"))


def test_state_and_what_was_written_survive_a_restart_and_removed_programs_are_relinquished(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    directory = programs(tmp_path, counter=COUNTER)
    first = make_context(clock, tmp_path)
    try:
        start(first, directory)
        for n in (1, 2):
            clock.advance(5.0)
            wait_until(lambda n=n: value(first, "room/count") == n, what=f"count {n}")  # type: ignore[misc]
    finally:
        first.supervisor.stop_all(timeout=5)
    second = make_context(clock, tmp_path)
    try:
        start(second, directory)
        clock.advance(5.0)
        wait_until(lambda: value(second, "room/count") == 3, what="count 3: the state came back")
    finally:
        second.supervisor.stop_all(timeout=5)
    (directory / "counter.toml").unlink()
    third = make_context(clock, tmp_path)
    try:
        start(third, directory)
        levels = third.registry.get("points").ask(GetPriorityArray(point_id="room/count"))
        assert levels.levels[9] is None and levels.users[9] == ""
    finally:
        third.supervisor.stop_all(timeout=5)


def test_a_program_that_does_not_validate_is_left_out_and_named_in_health(ctx: Context, tmp_path: Path) -> None:
    bad = DOUBLE.replace("room/out", "room/nope")
    logic = start(ctx, programs(tmp_path, bad=bad, counter=COUNTER))
    assert [v.name for v in logic.ask(ListPrograms())] == ["counter"]
    health = ctx.health.get("logic")
    assert health is not None and health.state == Health.DEGRADED
    assert "bad" in health.reason and "unknown point 'room/nope'" in health.reason


def test_replay_of_the_recorded_inputs_gives_the_writes_of_the_live_run(ctx: Context, tmp_path: Path) -> None:
    from bms.logic import changes, compile_program, program_from_text, replay

    logic = start(ctx, programs(tmp_path, double=DOUBLE))
    clock = ctx.clock
    assert isinstance(clock, ManualClock)
    points = ctx.registry.get("points")
    recorded = [(T0 - 1.0, 20.0)]
    for step, temp in enumerate((21.0, 23.0, 23.0, 19.0, 19.5), start=1):
        clock.advance(5.0)
        points.ask(WritePoint(point_id="room/temp", value=temp, priority=8, user="olivia"))
        wait_until(lambda t=temp: value(ctx, "room/temp") == t, what=f"room/temp = {temp}")  # type: ignore[misc]
        logic.ask(ListPrograms())  # behind the ValueChanged in the engine's inbox
        recorded.append((clock.now(), temp))
        clock.advance(5.0)
        wait_until(lambda s=step: logic.ask(GetProgram(name="double")).runs == s, what=f"run {step}")  # type: ignore[misc]
    audit = ctx.registry.get("audit")
    wait_until(lambda: len(audit.ask(ListAudit(user="logic:double"))) == 4, what="four audit rows")
    live = [(r.entry.at, msgspec.json.decode(r.entry.after)["value"]) for r in audit.ask(ListAudit(user="logic:double"))]
    compiled = compile_program(program_from_text(DOUBLE, default_name="double"))
    result = replay(compiled, {"room/temp": recorded}, T0 + 10.0, T0 + 50.0)
    assert [(w.at, w.value) for w in changes(result)] == live
    assert [v for _, v in live] == [42.0, 46.0, 38.0, 39.0]


def test_a_full_disk_degrades_the_engine_programs_run_on_and_their_state_is_saved_when_space_returns(
        small_fs: Path) -> None:
    from tests.conftest import fill

    clock = ManualClock(T0)
    directory = programs(small_fs, counter=COUNTER)
    ctx = make_context(clock, small_fs)
    try:
        logic = start(ctx, directory)
        clock.advance(5.0)
        wait_until(lambda: value(ctx, "room/count") == 1, what="count 1")
        fill(small_fs / "backup.tar")
        for n in (2, 3):
            clock.advance(5.0)
            wait_until(lambda n=n: logic.ask(GetProgram(name="counter")).runs == n, what=f"run {n}")  # type: ignore[misc]
        health = ctx.health.get("logic")
        assert health is not None and health.state == Health.DEGRADED
        assert "logic.db cannot be written" in health.reason and "full" in health.reason
        assert logic.ask(GetProgram(name="counter")).state == "running"
        (small_fs / "backup.tar").unlink()
        clock.advance(5.0)
        wait_until(lambda: (h := ctx.health.get("logic")) is not None and h.state == Health.HEALTHY,
                   what="Healthy again once logic.db could be written")
        wait_until(lambda: value(ctx, "room/count") == 4, what="count 4")
    finally:
        ctx.supervisor.stop_all(timeout=5)
    again = make_context(clock, small_fs)
    try:
        start(again, directory)
        clock.advance(5.0)
        wait_until(lambda: value(again, "room/count") == 5, what="count 5: no run's state was lost to the full disk")
    finally:
        again.supervisor.stop_all(timeout=5)
