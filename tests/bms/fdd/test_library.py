"""conf/fdd as data (every problem at once, named by file and key), the generic rule types on known
series, and binding by tags with missing roles."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from bms.config import load_scenario
from bms.errors import ConfigError
from bms.fdd import bind, load_library, run_generic
from bms.fdd._generic import GenericRule, PeakWindow
from bms.model import Node, build_site
from tests.conftest import ROOT


def test_the_bundled_library_loads() -> None:
    library = load_library(ROOT / "conf/fdd")
    assert library.params.eps_mat == 2.8 and library.switch("FC3").severity == "high"
    assert {r.kind for r in library.generic} >= {"threshold", "stuck", "simultaneous", "setpoint-not-met"}


def test_every_problem_at_once_with_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "g36.toml").write_text(
        "[g36]\neps_satt = 1.0\neps_mat = 'x'\npersistence = 1.5\nwindow = 0\n"
        "[rules.FC33]\nenabled = false\n[rules.FC2]\nseverity = 'huge'\n[thresholds]\n")
    (tmp_path / "rules.toml").write_text(
        "[[generic]]\nname = 'a'\ntype = 'treshold'\n"
        "[[generic]]\nname = 'b'\ntype = 'stuck'\npoint = 'x/y'\n"
        "[[generic]]\nname = 'c'\ntype = 'threshold'\npoint = 'x/y'\nhigh = 3\npeak = [{start = '25:00', end = '19:00'}]\n")
    with pytest.raises(ConfigError) as caught:
        load_library(tmp_path)
    problems = caught.value.problems
    text = "\n".join(problems)
    g36 = str(tmp_path / "g36.toml")
    assert f"{g36}: g36.eps_satt: unknown key (did you mean 'eps_sat'?)" in problems
    assert f"{g36}: g36.eps_mat: must be a number, got 'x'" in problems
    assert "g36.persistence: must be between 0 and 1, got 1.5" in text
    assert "g36.window: must be > 0" in text
    assert "rules.FC33: no such rule (did you mean 'FC3'?)" in text
    assert "rules.FC2.severity: must be one of low, medium, high, critical" in text
    assert "thresholds: unknown section" in text
    assert "generic.a.type: must be one of" in text and "did you mean 'threshold'" in text
    assert "generic.b.period: required for a stuck rule" in text
    assert "generic.c.peak[0]: start and end must be times HH:MM" in text
    assert len(problems) == 10


def rule(kind: str, points: dict[str, str] | None = None, **numbers: float) -> GenericRule:
    return GenericRule("r", kind, points or {"point": "p"}, numbers)


TS = np.arange(0, 120) * 60.0


def test_threshold_with_a_confirmation_period() -> None:
    v = np.full(120, 20.0)
    v[10:20] = 30.0  # 10 minutes above
    v[50:90] = 30.0  # 40 minutes above
    active = run_generic(rule("threshold", high=25.0, confirm=900.0), TS, {"point": v})
    assert not active[:50].any()
    assert active[50 + 14] and not active[50 + 13] and not active[90:].any()


def test_stuck_value_only_while_running() -> None:
    v = np.sin(np.arange(120) / 5.0)
    v[40:100] = 0.5  # flat for an hour
    running = np.ones(120)
    active = run_generic(rule("stuck", {"point": "p", "running": "fan"}, period=1800.0, tolerance=0.01), TS,
                         {"point": v, "running": running})
    assert active[40 + 29] and not active[40 + 27] and not active[:40].any()
    running[:] = 0.0
    assert not run_generic(rule("stuck", {"point": "p", "running": "fan"}, period=1800.0), TS,
                           {"point": v, "running": running}).any()


def test_short_cycling_starts_per_hour_and_minimum_on_time() -> None:
    v = np.zeros(120)
    v[::10] = 1.0  # a one-minute run every 10 minutes: 6 starts an hour
    active = run_generic(rule("short-cycling", max_starts=4.0), TS, {"point": v})
    assert active[60] and not active[20]
    steady = np.zeros(120)
    steady[10:70] = 1.0
    assert not run_generic(rule("short-cycling", max_starts=4.0, min_on=600.0), TS, {"point": steady}).any()
    blip = np.zeros(120)
    blip[10:13] = 1.0  # three minutes on: shorter than ten
    assert run_generic(rule("short-cycling", max_starts=4.0, min_on=600.0), TS, {"point": blip})[14]


def test_schedule_deviation_and_simultaneous_heating_and_cooling() -> None:
    sp = np.where(TS < 3600, 21.0, 24.0)
    actual = np.full(120, 21.0)  # never followed the schedule's change at one hour
    active = run_generic(rule("schedule-deviation", {"point": "p", "setpoint": "s"}, period=900.0, tolerance=1.0),
                         TS, {"point": actual, "setpoint": sp})
    assert not active[:74].any() and active[75:].all()
    heat, cool = np.full(120, 30.0), np.zeros(120)
    cool[60:] = 40.0
    both = run_generic(rule("simultaneous", {"heating": "h", "cooling": "c"}, period=600.0), TS,
                       {"heating": heat, "cooling": cool})
    assert not both[:69].any() and both[69:].all()


def test_setpoint_not_met_only_while_occupied_and_demand_sensitive_peak() -> None:
    zone = np.full(120, 27.0)
    occupied = np.where(TS < 3600, 0.0, 1.0)
    r = rule("setpoint-not-met", {"point": "z", "occupied": "o"}, high=25.0, period=600.0)
    active = run_generic(r, TS, {"point": zone, "occupied": occupied})
    assert not active[:69].any() and active[69:].all()
    monday_1530 = datetime(2026, 11, 30, 15, 30, tzinfo=ZoneInfo("Europe/London")).timestamp()
    ts = monday_1530 + TS
    peak = GenericRule("p", "setpoint-not-met", {"point": "z"}, {"high": 25.0, "period": 600.0},
                       peak=(PeakWindow((0,), datetime(2000, 1, 1, 16).time(), datetime(2000, 1, 1, 19).time()),))
    at_peak = run_generic(peak, ts, {"point": zone}, "Europe/London")
    assert not at_peak[:30].any() and at_peak[30:].all()  # from 16:00 only


def demo_nodes() -> list[Node]:
    return build_site(load_scenario(ROOT / "conf/scenarios/demo.toml"))


def test_binding_by_tags_on_the_demo() -> None:
    found = bind(demo_nodes())
    assert [b.equip for b in found] == ["ahu1"]
    ahu = found[0]
    assert ahu.roles["sat"] == "ahu1/sat" and ahu.roles["mat"] == "ahu1/mat" and ahu.roles["sat_sp"] == "ahu1/sat_sp"
    assert ahu.roles["heating"] == "ahu1/htg_valve" and ahu.roles["dsp"] == "ahu1/dsp"
    assert ahu.missing == ()
    assert "FC1" in ahu.runnable and "FC15" in ahu.runnable
    fc16 = next(b for b in ahu.blocked if b.rule == "FC16")
    assert fc16.reason.startswith("not applicable")


def test_binding_with_missing_roles_and_explicit_ones() -> None:
    nodes = [n for n in demo_nodes() if n.id not in ("ahu1/dsp", "ahu1/htg_valve")]
    ahu = bind(nodes)[0]
    assert ahu.missing == ("heating", "dsp")
    blocked = {b.rule: b for b in ahu.blocked}
    assert blocked["FC1"].missing == ("dsp",) and "duct static pressure" in blocked["FC1"].reason
    assert set(blocked) >= {"FC1", "FC7", "FC15", "FC16"} and "FC3" in ahu.runnable
    explicit = bind(nodes, {"ahu1": {"dsp": "ahu1/sa_flow", "nonsense": "x", "mat": "ahu1/nope"}})[0]
    assert explicit.roles["dsp"] == "ahu1/sa_flow" and "FC1" in explicit.runnable
    assert any(n.startswith("nonsense: not a role") for n in explicit.notes)
    assert "mat: no point 'ahu1/nope'" in explicit.notes


def test_binding_under_a_node() -> None:
    assert [b.equip for b in bind(demo_nodes(), under="plant")] == ["ahu1"]
    assert bind(demo_nodes(), under="floor1") == []
