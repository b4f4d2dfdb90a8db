"""Program files: every problem at once, one line each; the demo programs validate and run; replay equals live."""

from __future__ import annotations

from pathlib import Path

import pytest

from bms.clock import ManualClock
from bms.config import load_scenario
from bms.errors import ConfigError
from bms.logic import Sandbox, compile_program, load_program, program_from_text, replay, validate
from bms.model._build import build_site

CONF = Path(__file__).resolve().parents[3] / "conf"
DEMO_POINTS = frozenset(
    n.id for n in build_site(load_scenario(CONF / "scenarios" / "demo.toml")) if n.type in ("Point", "VirtualPoint")
)

BROKEN = """
interval = 5
[[blocks]]
id = "a"
type = "PointRead"
point = "ahu1/oatt"
[[blocks]]
id = "b"
type = "Scael"
[[blocks]]
id = "c"
type = "Logic"
op = "and"
[[blocks]]
id = "d"
type = "Math"
op = "add"
[[blocks]]
id = "e"
type = "Math"
op = "add"
[[blocks]]
id = "f"
type = "RampLimit"
rate_up = 1.0
[[blocks]]
id = "g"
type = "CustomScript"
code = "y = = 1"
inputs = {}
outputs = { y = "number" }
[[wires]]
from = "a.out"
to = "c.a"
[[wires]]
from = "d.out"
to = "e.a"
[[wires]]
from = "e.out"
to = "d.a"
[[wires]]
from = "d"
to = "e.b"
[[wires]]
from = "e"
to = "d.b"
[[wires]]
from = "a"
to = "nowhere.in"
"""


def test_every_problem_at_once_each_naming_its_culprit() -> None:
    problems = validate(program_from_text(BROKEN, source="broken.toml"), DEMO_POINTS)
    text = "\n".join(problems)
    assert "broken.toml: blocks[0] (a): PointRead: unknown point 'ahu1/oatt' (did you mean 'ahu1/oat'?)" in problems
    assert "blocks[1] (b): unknown block type 'Scael' (did you mean 'Scale'?)" in text
    assert "port type mismatch: a.out is number, c.a takes bool" in text
    assert "blocks[5] (f): RampLimit: missing parameter 'rate_down'" in text
    assert "blocks[6] (g): CustomScript: code:" in text
    assert "unknown block 'nowhere'" in text
    assert "broken.toml: cycle between blocks d, e" in problems
    assert "blocks[2] (c): input 'b' is not wired" in text
    assert all("\n" not in p for p in problems) and len(problems) >= 8


def test_shape_errors_are_collected_too() -> None:
    with pytest.raises(ConfigError) as caught:
        program_from_text("interval = -1\npriority = 17\nbogus = 1\n[[wires]]\nfrom = 1\n", source="x.toml")
    assert len(caught.value.problems) == 5  # interval, priority, unknown key, wire, no blocks
    assert any("x.toml: bogus: unknown key" in p for p in caught.value.problems)


@pytest.mark.parametrize(("name", "why"), [
    ("status", "'status' is taken by the engine itself (/api/logic/status); "
               "reserved: bundles, health, reload, start, status, stop, stream"),
    ("stream", "taken by the engine itself"),
    ("start", "taken by the engine itself"),
    ("ahu 1", "'ahu 1' is not a program name"),
    ("a/b", "'a/b' is not a program name"),
    ("", "'' is not a program name"),
    ("-x", "is not a program name"),
])
def test_a_name_the_api_could_not_reach_is_refused_with_the_reason(name: str, why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        program_from_text(f'name = "{name}"\nlua = "write(1)"', source="x.toml")
    assert caught.value.problems[0].startswith("x.toml: name: ") and why in caught.value.problems[0]
    assert program_from_text('name = "ahu1.sat-reset_2"\nlua = "local x = 1"').name == "ahu1.sat-reset_2"


@pytest.mark.parametrize("name", ["sat-reset", "vav101-zone"])
def test_demo_programs_validate_against_the_demo_site(name: str) -> None:
    program = load_program(CONF / "logic" / f"{name}.toml")
    assert validate(program, DEMO_POINTS) == []
    assert set(compile_program(program, DEMO_POINTS).writes) <= DEMO_POINTS


def test_sat_reset_follows_outdoor_air_slowly_and_only_with_the_fan_on() -> None:
    clock = ManualClock(0.0)
    box = Sandbox(compile_program(load_program(CONF / "logic" / "sat-reset.toml")), clock)
    values = {"ahu1/oat": 10.0, "ahu1/fan_status": True, "vav101/damper": 50.0, "vav102/damper": 40.0}
    assert box.run(values).writes[0].value == 16.0
    values["ahu1/oat"] = 25.0
    clock.advance(50)
    assert box.run(values).writes[0].value == pytest.approx(15.0)  # 0.02 °C/s for 50 s
    clock.advance(1000)
    assert box.run({**values, "vav101/damper": 95.0}).writes[0].value == 12.0
    assert box.run({**values, "ahu1/fan_status": False}).writes == ()


def test_vav_zone_opens_the_damper_when_warm_and_raises_its_alarm_after_ten_minutes() -> None:
    clock = ManualClock(0.0)
    box = Sandbox(compile_program(load_program(CONF / "logic" / "vav101-zone.toml")), clock)
    values = {"vav101/zone_temp": 26.0, "vav101/zone_sp": 22.0}
    dampers, alarms = [], []
    for _ in range(130):
        result = box.run(values, {"office": True})
        dampers.append(result.writes[0].value)
        alarms.extend(result.alarms)
        clock.advance(5)
    assert dampers[0] == 20.0 and dampers[-1] == 100.0
    assert [a.active for a in alarms] == [False, True]  # cleared at start, raised after 600 s
    unocc = box.run(values, {"office": False})
    assert unocc.writes[0].value == 10.0


def test_replay_gives_the_same_writes_as_live_runs_on_the_same_inputs() -> None:
    compiled = compile_program(load_program(CONF / "logic" / "sat-reset.toml"))
    start = 1_000_000.0
    series = {
        "ahu1/oat": [(start + i * 7.0, 10.0 + (i % 40) * 0.5) for i in range(400)],
        "ahu1/fan_status": [(start, True), (start + 900.0, False), (start + 1500.0, True)],
        "vav101/damper": [(start + i * 30.0, 50.0 + (i % 10) * 5) for i in range(100)],
        "vav102/damper": [(start, 30.0)],
    }
    replayed = replay(compiled, series, start, start + 2700.0)
    # live: the engine's latest-value table fed sample by sample, the program run at its interval
    events = sorted((t, p, v) for p, s in series.items() for t, v in s)
    clock = ManualClock(start)
    live = Sandbox(compiled, clock)
    latest: dict[str, float | bool] = {}
    writes = []
    t = start
    while t <= start + 2700.0:
        while events and events[0][0] <= t:
            _, point, value = events.pop(0)
            latest[point] = value
        clock.set(t)
        writes.extend((t, w.point, w.value, w.priority) for w in live.run(latest).writes)
        t += compiled.interval
    assert replayed.runs == 271 and replayed.errors == ()
    assert [(w.at, w.point, w.value, w.priority) for w in replayed.writes] == writes
    assert len(writes) > 100 and any(w[1] == "ahu1/sat_sp" for w in writes)
