"""The simulated air handler's injected faults, and the G36 rule that raises each over its series."""

from __future__ import annotations

import numpy as np
import pytest

from bms.fdd import G36Params, evaluate
from bms.sim._thermal import AirHandler, ThermalModel

P = G36Params()
HOURS = 2


def run(fault: str | None, *, outdoor: float, clg: float, damper: float, htg: float = 0.0) -> set[str]:
    """Two hours of the model, sampled every minute, through the G36 rules: the faults active at the end."""
    model = ThermalModel(outdoor_mean=outdoor, outdoor_swing=0.0)
    ahu = model.add_ahu("ahu")
    for i in range(3):
        model.add_vav(f"vav{i}")
    ahu.clg_valve, ahu.oa_damper, ahu.htg_valve = clg, damper, htg
    if fault is not None:
        ahu.inject(fault)
    rows: list[dict[str, float]] = []
    for _ in range(HOURS * 60):
        model.step(60.0)
        v = ahu.values()
        rows.append({"oat": float(v["oat"]), "mat": float(v["mat"]), "rat": float(v["rat"]), "sat": float(v["sat"]),
                     "fan_status": float(v["fan_status"]), "dsp": float(v["dsp"]), "sat_sp": ahu.sat_sp,
                     "fan_speed": ahu.fan_speed, "oa_damper": ahu.oa_damper, "cooling": ahu.clg_valve,
                     "heating": ahu.htg_valve, "dsp_sp": ahu.dsp_sp})
    series = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    result = evaluate(series, P)
    return {rid for rid, active in result.active.items() if active[-1]}


CASES = [  # fault, weather and commands, the rule that must raise it
    ("damper-stuck", {"outdoor": 5.0, "clg": 0.0, "damper": 20.0, "htg": 40.0}, "FC6"),  # a winter morning
    ("cooling-valve-leak", {"outdoor": 12.0, "clg": 0.0, "damper": 50.0}, "FC14"),
    ("mat-drift", {"outdoor": 24.0, "clg": 50.0, "damper": 20.0}, "FC3"),
]


@pytest.mark.parametrize(("fault", "setting", "rule"), CASES, ids=[c[0] for c in CASES])
def test_each_injected_fault_is_raised_by_its_rule(fault: str, setting: dict[str, float], rule: str) -> None:
    assert run(None, **setting) == set()
    assert rule in run(fault, **setting)


def test_faults_and_clear() -> None:
    ahu = AirHandler()
    ahu.clg_valve, ahu.oa_damper = 0.0, 20.0
    ahu.inject("cooling-valve-leak")
    ahu.inject("damper-stuck")
    assert (ahu.cooling, ahu.damper) == (30.0, 100.0)
    ahu.inject("clear")
    assert (ahu.cooling, ahu.damper, ahu.faults) == (0.0, 20.0, set())
    with pytest.raises(ValueError, match="unknown fault 'fire'"):
        ahu.inject("fire")


def test_heating_and_static_pressure() -> None:
    model = ThermalModel(outdoor_mean=5.0, outdoor_swing=0.0)
    ahu = model.add_ahu("ahu")
    ahu.clg_valve, ahu.htg_valve = 0.0, 100.0
    model.step(600.0)
    assert ahu.sat > ahu.mat + 15.0
    assert abs(ahu.values()["dsp"] - 700.0 * 0.6 ** 2) < 1.0
