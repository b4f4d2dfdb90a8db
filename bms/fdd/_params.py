"""The FDD library's parameters as data: ``conf/fdd/*.toml`` read and checked, every problem at once.

``g36.toml`` holds the Guideline 36 thresholds (``[g36]``), the persistence and sampling times and the
per-rule switches (``[rules.FC4] enabled = false``, ``severity = "high"``); ``rules.toml`` the site's
generic rules (:mod:`bms.fdd._generic`). Each problem is one line ``file: key: message`` (with "did
you mean" for an unknown key); :func:`load_library` raises one :class:`~bms.errors.ConfigError`
listing them all.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from bms.errors import ConfigError

SEVERITIES = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class G36Params:
    """Guideline 36 thresholds (temperatures in K, positions and speeds in %, pressures in Pa, times in s)."""

    eps_sat: float = 1.1  # supply air temperature sensor error
    eps_rat: float = 1.1  # return air temperature sensor error
    eps_mat: float = 2.8  # mixed air temperature sensor error
    eps_oat: float = 1.1  # outdoor air temperature sensor error
    eps_fan: float = 5.0  # fan speed error (%)
    eps_dsp: float = 25.0  # duct static pressure error (Pa)
    dt_supply_fan: float = 1.1  # temperature rise across the supply fan
    dt_min: float = 5.6  # least |RAT - OAT| for the outdoor-air fraction to be computed
    min_oa_fraction: float = 0.2  # the design minimum outdoor-air fraction
    delta_oa_min: float = 0.05  # tolerated error of the outdoor-air fraction
    min_damper: float = 20.0  # the damper's minimum position (%): at or below it, "minimum outdoor air"
    damper_tolerance: float = 2.0  # % around the minimum and full positions
    valve_on: float = 1.0  # % above which a valve counts as open
    valve_full: float = 99.0  # % at or above which a valve (or the fan) counts as full
    max_state_changes: float = 7.0  # operating-state changes per hour tolerated (FC4)
    erv_min: float = 0.5  # least energy-recovery effectiveness (FC16)
    erv_max: float = 0.95  # most energy-recovery effectiveness (FC16)
    sample: float = 60.0  # seconds between samples
    smoothing: float = 300.0  # rolling average of the inputs (s)
    mode_delay: float = 900.0  # no evaluation this long after an operating-state change
    window: float = 1800.0  # persistence: the moving average of a condition over this window
    persistence: float = 0.9  # ... at or above this share raises the fault
    clear_below: float = 0.1  # ... at or below this share clears it

    def samples(self, seconds: float) -> int:
        """``seconds`` as a number of samples (at least 1)."""
        return max(1, round(seconds / self.sample))


RANGES: dict[str, tuple[float, float]] = {
    "min_oa_fraction": (0.0, 1.0), "delta_oa_min": (0.0, 1.0), "min_damper": (0.0, 100.0),
    "damper_tolerance": (0.0, 50.0), "valve_on": (0.0, 100.0), "valve_full": (0.0, 100.0),
    "erv_min": (0.0, 1.0), "erv_max": (0.0, 2.0), "persistence": (0.0, 1.0), "clear_below": (0.0, 1.0),
}
POSITIVE = frozenset({"sample", "window"})


@dataclass(frozen=True)
class RuleSwitch:
    enabled: bool = True
    severity: str = "medium"


@dataclass(frozen=True)
class Library:
    """What ``conf/fdd`` says: the G36 parameters, per-rule switches, the generic rules, explicit bindings."""

    params: G36Params = G36Params()
    switches: dict[str, RuleSwitch] = field(default_factory=dict)
    generic: tuple[Any, ...] = ()
    files: tuple[str, ...] = ()

    def switch(self, rule: str) -> RuleSwitch:
        return self.switches.get(rule, RuleSwitch())


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_params(table: Any, where: str, problems: list[str]) -> G36Params:
    """``[g36]`` of a file: each bad key one problem in ``problems``; the defaults stand for those keys."""
    if not isinstance(table, dict):
        problems.append(f"{where}: must be a table")
        return G36Params()
    known = [f.name for f in fields(G36Params)]
    good: dict[str, float] = {}
    for key, value in table.items():
        if key not in known:
            problems.append(f"{where}.{key}: unknown key{_suggest(key, known)}")
        elif not _number(value):
            problems.append(f"{where}.{key}: must be a number, got {value!r}")
        elif key in RANGES and not RANGES[key][0] <= value <= RANGES[key][1]:
            low, high = RANGES[key]
            problems.append(f"{where}.{key}: must be between {low:g} and {high:g}, got {value:g}")
        elif value < 0 or (key in POSITIVE and value == 0):
            problems.append(f"{where}.{key}: must be {'> 0' if key in POSITIVE else '>= 0'}, got {value:g}")
        else:
            good[key] = float(value)
    params = replace(G36Params(), **good)
    if params.clear_below >= params.persistence:
        problems.append(f"{where}.clear_below: must be below persistence ({params.persistence:g}), "
                        f"got {params.clear_below:g}")
    if params.erv_min >= params.erv_max:
        problems.append(f"{where}.erv_min: must be below erv_max ({params.erv_max:g})")
    if params.window < params.sample:
        problems.append(f"{where}.window: must be at least one sample ({params.sample:g} s)")
    return params


def parse_switches(table: Any, where: str, rules: list[str], problems: list[str]) -> dict[str, RuleSwitch]:
    if not isinstance(table, dict):
        problems.append(f"{where}: must be a table of rules")
        return {}
    found: dict[str, RuleSwitch] = {}
    for rule, spec in table.items():
        here = f"{where}.{rule}"
        if rule not in rules:
            problems.append(f"{here}: no such rule{_suggest(rule, rules)}")
            continue
        if not isinstance(spec, dict):
            problems.append(f"{here}: must be a table (enabled, severity)")
            continue
        switch = RuleSwitch()
        for key, value in spec.items():
            if key == "enabled":
                if isinstance(value, bool):
                    switch = replace(switch, enabled=value)
                else:
                    problems.append(f"{here}.enabled: must be true or false, got {value!r}")
            elif key == "severity":
                if value in SEVERITIES:
                    switch = replace(switch, severity=value)
                else:
                    problems.append(f"{here}.severity: must be one of {', '.join(SEVERITIES)}, got {value!r}"
                                    + _suggest(str(value), list(SEVERITIES)))
            else:
                problems.append(f"{here}.{key}: unknown key{_suggest(key, ['enabled', 'severity'])}")
        found[rule] = switch
    return found


def load_library(directory: Path | None) -> Library:
    """Every ``*.toml`` of ``directory`` (None or missing: the defaults); ConfigError lists every problem."""
    from bms.fdd._g36 import RULES
    from bms.fdd._generic import parse_generic

    if directory is None or not directory.is_dir():
        return Library()
    problems: list[str] = []
    params = G36Params()
    switches: dict[str, RuleSwitch] = {}
    generic: list[Any] = []
    files = sorted(directory.glob("*.toml"))
    rule_ids = [r.id for r in RULES]
    for path in files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
            problems.append(f"{path}: {err}")
            continue
        for key, value in data.items():
            if key == "g36":
                params = parse_params(value, f"{path}: g36", problems)
            elif key == "rules":
                switches.update(parse_switches(value, f"{path}: rules", rule_ids, problems))
            elif key == "generic":
                generic.extend(parse_generic(value, f"{path}: generic", problems))
            else:
                problems.append(f"{path}: {key}: unknown section{_suggest(key, ['g36', 'rules', 'generic'])}")
    if problems:
        raise ConfigError(f"{directory}: {len(problems)} problem(s) in the FDD rules: {problems[0]}", problems)
    return Library(params, switches, tuple(generic), tuple(str(p) for p in files))


__all__ = ["SEVERITIES", "G36Params", "Library", "RuleSwitch", "load_library", "parse_params"]
