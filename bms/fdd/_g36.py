"""ASHRAE Guideline 36 (section 5.16, AFDD) for multiple-zone VAV air handlers: operating states and
fault conditions FC1-FC15, and FC16 where the unit has energy recovery.

Every function here works on numpy arrays of equal length (one element per sample of the smoothed
inputs): the batch over a year and the live engine (arrays of one) run the same equations.

Operating states (:func:`operating_state`), with the unit running:

* OS1 heating: heating valve open (or no coil active), cooling closed, damper at minimum;
* OS2 free cooling: no coil active, damper modulating above minimum;
* OS3 economiser plus mechanical cooling: cooling open, damper fully open;
* OS4 mechanical cooling at minimum outdoor air: cooling open, damper at minimum;
* OS5 unknown or dehumidification (anything else, heating and cooling together included);
* 0 the unit is off: no rule is evaluated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bms.fdd._params import G36Params

Array = npt.NDArray[np.float64]
Flags = npt.NDArray[np.bool_]
Inputs = Mapping[str, Array]

OFF, OS1, OS2, OS3, OS4, OS5 = 0, 1, 2, 3, 4, 5
STATE_NAMES = {OFF: "off", OS1: "OS1 heating", OS2: "OS2 economiser", OS3: "OS3 economiser + mechanical cooling",
               OS4: "OS4 mechanical cooling at minimum OA", OS5: "OS5 unknown or dehumidification"}
RUNNING = (OS1, OS2, OS3, OS4, OS5)
STATE_ROLES = ("oa_damper", "cooling", "fan_speed")
"""The roles the operating state needs (``heating`` counts as closed when the unit has none)."""


def operating_state(x: Inputs, p: G36Params) -> npt.NDArray[np.int8]:
    """The operating state of each sample (0 off, 1..5 OS1..OS5)."""
    damper, cooling, fan = x["oa_damper"], x["cooling"], x["fan_speed"]
    heating = x.get("heating")
    hc = heating > p.valve_on if heating is not None else np.zeros(len(damper), dtype=bool)
    cc = cooling > p.valve_on
    at_min = damper <= p.min_damper + p.damper_tolerance
    full = damper >= 100.0 - p.damper_tolerance
    running = fan > 0.0
    if "fan_status" in x:
        running &= x["fan_status"] > 0.5
    state = np.full(len(damper), OS5, dtype=np.int8)
    state[~hc & ~cc & ~at_min] = OS2
    state[~cc & at_min] = OS1
    state[~hc & cc & full] = OS3
    state[~hc & cc & at_min] = OS4
    state[~running | np.isnan(damper) | np.isnan(cooling) | np.isnan(fan)] = OFF
    return state


@dataclass(frozen=True)
class Rule:
    """One fault condition: the roles it needs, the states it applies in, its equation and its story."""

    id: str
    title: str
    roles: tuple[str, ...]
    states: tuple[int, ...]
    condition: Callable[[Inputs, G36Params], Flags]
    equation: str
    causes: tuple[str, ...]
    optional: bool = False  # only where the unit has the equipment (FC16: energy recovery)
    resets: bool = True  # False: a state change does not restart its window (FC4 counts the changes)


def _hyp(a: float, b: float) -> float:
    return float(np.hypot(a, b))


def _fc1(x: Inputs, p: G36Params) -> Flags:
    return (x["dsp"] < x["dsp_sp"] - p.eps_dsp) & (x["fan_speed"] >= p.valve_full - p.eps_fan)


def _fc2(x: Inputs, p: G36Params) -> Flags:
    return x["mat"] + p.eps_mat < np.minimum(x["rat"] - p.eps_rat, x["oat"] - p.eps_oat)


def _fc3(x: Inputs, p: G36Params) -> Flags:
    return x["mat"] - p.eps_mat > np.maximum(x["rat"] + p.eps_rat, x["oat"] + p.eps_oat)


def _fc4(x: Inputs, p: G36Params) -> Flags:
    return x["state_changes"] > p.max_state_changes


def _fc5(x: Inputs, p: G36Params) -> Flags:
    return x["sat"] + p.eps_sat <= x["mat"] - p.eps_mat + p.dt_supply_fan


def oa_fraction(x: Inputs) -> Array:
    """The outdoor-air fraction from temperatures: (MAT - RAT) / (OAT - RAT)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (x["mat"] - x["rat"]) / (x["oat"] - x["rat"])


def _fc6(x: Inputs, p: G36Params) -> Flags:
    measurable = np.abs(x["rat"] - x["oat"]) >= p.dt_min
    return measurable & (np.abs(oa_fraction(x) - p.min_oa_fraction) > p.delta_oa_min)


def _fc7(x: Inputs, p: G36Params) -> Flags:
    return (x["sat"] < x["sat_sp"] - p.eps_sat) & (x["heating"] >= p.valve_full)


def _fc8(x: Inputs, p: G36Params) -> Flags:
    return np.abs(x["sat"] - p.dt_supply_fan - x["mat"]) > _hyp(p.eps_sat, p.eps_mat)


def _fc9(x: Inputs, p: G36Params) -> Flags:
    return x["oat"] - p.eps_oat > x["sat_sp"] - p.dt_supply_fan + p.eps_sat


def _fc10(x: Inputs, p: G36Params) -> Flags:
    return np.abs(x["mat"] - x["oat"]) > _hyp(p.eps_mat, p.eps_oat)


def _fc11(x: Inputs, p: G36Params) -> Flags:
    return x["oat"] + p.eps_oat < x["sat_sp"] - p.dt_supply_fan - p.eps_sat


def _fc12(x: Inputs, p: G36Params) -> Flags:
    return x["sat"] - p.eps_sat - p.dt_supply_fan >= x["mat"] + p.eps_mat


def _fc13(x: Inputs, p: G36Params) -> Flags:
    return (x["sat"] > x["sat_sp"] + p.eps_sat) & (x["cooling"] >= p.valve_full)


def _fc14(x: Inputs, p: G36Params) -> Flags:
    # no coil sensors on most units: the coil enters at MAT and leaves at SAT less the fan's heat
    return x["mat"] + p.dt_supply_fan - x["sat"] >= _hyp(p.eps_mat, p.eps_sat)


def _fc15(x: Inputs, p: G36Params) -> Flags:
    return x["sat"] - p.dt_supply_fan - x["mat"] >= _hyp(p.eps_sat, p.eps_mat)


def _fc16(x: Inputs, p: G36Params) -> Flags:
    measurable = np.abs(x["rat"] - x["oat"]) >= p.dt_min
    with np.errstate(divide="ignore", invalid="ignore"):
        effectiveness = (x["erv_lat"] - x["oat"]) / (x["rat"] - x["oat"])
    return measurable & ((effectiveness < p.erv_min) | (effectiveness > p.erv_max))


SENSORS = ("sensor error (calibration, location)",)
RULES: tuple[Rule, ...] = (
    Rule("FC1", "Duct static pressure too low with the fan at full speed", ("dsp", "dsp_sp", "fan_speed"), RUNNING,
         _fc1, "DSP < DSPSP - eDSP and FAN >= full - eFAN",
         ("problem with the VFD", "mechanical problem with the fan", "fan undersized", *SENSORS)),
    Rule("FC2", "Mixed air temperature too low: below both return and outdoor air", ("mat", "rat", "oat"), RUNNING,
         _fc2, "MAT + eMAT < min(RAT - eRAT, OAT - eOAT)",
         ("MAT sensor error", "RAT sensor error", "OAT sensor error")),
    Rule("FC3", "Mixed air temperature too high: above both return and outdoor air", ("mat", "rat", "oat"), RUNNING,
         _fc3, "MAT - eMAT > max(RAT + eRAT, OAT + eOAT)",
         ("MAT sensor error", "RAT sensor error", "OAT sensor error")),
    Rule("FC4", "Too many changes of operating state", STATE_ROLES, (OFF, *RUNNING), _fc4,
         "state changes in the last hour > max_state_changes",
         ("unstable control (PID tuning)", "poorly tuned sequence of operation", "hunting between modes"),
         resets=False),
    Rule("FC5", "Supply air temperature too low in heating: should be above mixed air", ("sat", "mat"), (OS1,),
         _fc5, "SAT + eSAT <= MAT - eMAT + dTSF",
         ("SAT sensor error", "MAT sensor error", "cooling coil valve leaking or stuck open",
          "heating coil fouled or its valve stuck closed")),
    Rule("FC6", "Outdoor-air fraction differs from the minimum at minimum outdoor air", ("mat", "rat", "oat"),
         (OS1, OS4), _fc6, "|%OA - %OAmin| > d%OAmin with |RAT - OAT| >= dTmin",
         ("outdoor-air damper stuck or failed", "damper actuator or linkage failed", "MAT, RAT or OAT sensor error",
          "minimum position set wrongly")),
    Rule("FC7", "Supply air temperature too low in full heating", ("sat", "sat_sp", "heating"), (OS1,), _fc7,
         "SAT < SATSP - eSAT and HC >= full",
         ("heating coil valve stuck closed or leaking by", "heating coil fouled or undersized",
          "no hot water (boiler, pump)", "SAT sensor error")),
    Rule("FC8", "Supply and mixed air temperatures should match in free cooling", ("sat", "mat"), (OS2,), _fc8,
         "|SAT - dTSF - MAT| > sqrt(eSAT^2 + eMAT^2)",
         ("SAT sensor error", "MAT sensor error", "cooling coil valve leaking", "heating coil valve leaking")),
    Rule("FC9", "Outdoor air too warm for free cooling without mechanical cooling", ("oat", "sat_sp"), (OS2,), _fc9,
         "OAT - eOAT > SATSP - dTSF + eSAT",
         ("OAT sensor error", "economiser changeover set wrongly", "cooling valve should be open")),
    Rule("FC10", "Outdoor and mixed air should match in economiser plus mechanical cooling", ("mat", "oat"), (OS3,),
         _fc10, "|MAT - OAT| > sqrt(eMAT^2 + eOAT^2)",
         ("outdoor-air damper stuck short of fully open", "damper actuator failed", "MAT or OAT sensor error")),
    Rule("FC11", "Outdoor air too cold for mechanical cooling with full outdoor air", ("oat", "sat_sp"), (OS3,),
         _fc11, "OAT + eOAT < SATSP - dTSF - eSAT",
         ("OAT sensor error", "economiser sequence wrong: should be in free cooling")),
    Rule("FC12", "Supply air temperature too high: should be below mixed air when cooling", ("sat", "mat"),
         (OS2, OS3, OS4), _fc12, "SAT - eSAT - dTSF >= MAT + eMAT",
         ("SAT sensor error", "MAT sensor error", "heating coil valve leaking", "cooling coil fouled")),
    Rule("FC13", "Supply air temperature too high in full cooling", ("sat", "sat_sp", "cooling"), (OS3, OS4), _fc13,
         "SAT > SATSP + eSAT and CC >= full",
         ("cooling coil valve stuck closed", "chilled water too warm or no flow", "cooling coil fouled or undersized",
          "SAT sensor error")),
    Rule("FC14", "Temperature drop across the inactive cooling coil", ("sat", "mat", "cooling"), (OS1, OS2), _fc14,
         "MAT + dTSF - SAT >= sqrt(eMAT^2 + eSAT^2)",
         ("cooling coil valve leaking or stuck open", "valve actuator failed", "MAT or SAT sensor error")),
    Rule("FC15", "Temperature rise across the inactive heating coil", ("sat", "mat", "heating"), (OS2, OS3, OS4),
         _fc15, "SAT - dTSF - MAT >= sqrt(eSAT^2 + eMAT^2)",
         ("heating coil valve leaking or stuck open", "valve actuator failed", "MAT or SAT sensor error")),
    Rule("FC16", "Energy recovery effectiveness out of its range", ("erv_lat", "oat", "rat"), (OS1, OS4), _fc16,
         "(ERV_LAT - OAT) / (RAT - OAT) outside [erv_min, erv_max]",
         ("heat wheel stopped or slipping (belt)", "wheel or plate fouled", "bypass damper stuck open",
          "ERV leaving air sensor error"), optional=True),
)
RULE_IDS = tuple(r.id for r in RULES)


def rule(rule_id: str) -> Rule:
    for r in RULES:
        if r.id == rule_id:
            return r
    raise KeyError(rule_id)


__all__ = ["OFF", "OS1", "OS2", "OS3", "OS4", "OS5", "RULES", "RULE_IDS", "RUNNING", "STATE_NAMES", "STATE_ROLES",
           "Rule", "oa_fraction", "operating_state", "rule"]
