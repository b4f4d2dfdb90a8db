"""Generic rule types, over a regular sample grid (``ts`` seconds, one value per sample; NaN: no value).

* ``threshold``  -- a point above ``high`` or below ``low`` for ``confirm`` seconds;
* ``stuck``      -- a point that moves less than ``tolerance`` over ``period`` while ``running`` is on;
* ``short-cycling`` -- a run point started more than ``max_starts`` times in the last hour, or ran
  (or rested) less than ``min_on`` (``min_off``) seconds;
* ``schedule-deviation`` -- a point off its scheduled ``setpoint`` point by more than ``tolerance``
  for ``period``;
* ``simultaneous`` -- ``heating`` and ``cooling`` both above ``threshold`` for ``period``;
* ``setpoint-not-met`` -- a zone temperature outside ``[low, high]`` (or ``setpoint`` +- ``band``)
  for ``period`` while ``occupied`` is on;
* any rule with ``peak = [{days = [...], start = "HH:MM", end = "HH:MM"}]`` applies only in those
  windows (demand-sensitive rules).

:func:`run_generic` gives the active flag per sample; ``conf/fdd/*.toml`` declares rules as
``[[generic]]`` tables (:func:`parse_generic`, every problem one line).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from bms.fdd._g36 import Array, Flags
from bms.fdd._params import SEVERITIES

KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (required keys, optional keys) beside name, type, severity, peak
    "threshold": (("point",), ("high", "low", "confirm")),
    "stuck": (("point", "period"), ("tolerance", "running")),
    "short-cycling": (("point",), ("max_starts", "min_on", "min_off")),
    "schedule-deviation": (("point", "setpoint", "period"), ("tolerance",)),
    "simultaneous": (("heating", "cooling", "period"), ("threshold",)),
    "setpoint-not-met": (("point", "period"), ("low", "high", "setpoint", "band", "occupied")),
}
POINT_KEYS = ("point", "running", "setpoint", "heating", "cooling", "occupied")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class PeakWindow:
    days: tuple[int, ...]
    start: time
    end: time


@dataclass(frozen=True)
class GenericRule:
    name: str
    kind: str
    points: dict[str, str]  # key (point, running, ...) -> point id
    numbers: dict[str, float]
    severity: str = "medium"
    peak: tuple[PeakWindow, ...] = ()

    def number(self, key: str, default: float) -> float:
        return self.numbers.get(key, default)


def held(cond: Flags, k: int) -> Flags:
    """True where ``cond`` has held for the last ``k`` samples."""
    if k <= 1:
        return cond.copy()
    run = np.concatenate(([0], np.cumsum(cond)))
    hi = np.arange(1, len(cond) + 1)
    out: Flags = (hi >= k) & ((run[hi] - run[np.maximum(hi - k, 0)]) == k)
    return out


def _steps(seconds: float, step: float) -> int:
    return max(1, round(seconds / step))


def in_peak(ts: Array, windows: tuple[PeakWindow, ...], tz: str) -> Flags:
    zone = ZoneInfo(tz)
    out = np.zeros(len(ts), dtype=bool)
    for i, t in enumerate(ts):
        local = datetime.fromtimestamp(float(t), zone)
        now = local.time()
        out[i] = any(local.weekday() in w.days and (w.start <= now < w.end if w.start <= w.end
                                                   else now >= w.start or now < w.end) for w in windows)
    return out


def run_generic(rule: GenericRule, ts: Array, series: Mapping[str, Array], tz: str = "UTC") -> Flags:
    """The rule's active flag at each sample (``series`` by the rule's point keys)."""
    step = float(ts[1] - ts[0]) if len(ts) > 1 else 60.0
    v = series.get("point", np.full(len(ts), np.nan))
    with np.errstate(invalid="ignore"):
        if rule.kind == "threshold":
            cond = np.zeros(len(ts), dtype=bool)
            if "high" in rule.numbers:
                cond |= v > rule.numbers["high"]
            if "low" in rule.numbers:
                cond |= v < rule.numbers["low"]
            out = held(cond, _steps(rule.number("confirm", step), step))
        elif rule.kind == "stuck":
            k = _steps(rule.numbers["period"], step)
            tol = rule.number("tolerance", 0.0)
            filled = np.where(np.isnan(v), np.nan, v)
            if len(ts) >= k:
                windows = np.lib.stride_tricks.sliding_window_view(filled, k)
                spread = np.nanmax(windows, axis=1) - np.nanmin(windows, axis=1)
                still = np.concatenate((np.zeros(k - 1, dtype=bool), spread <= tol))
            else:
                still = np.zeros(len(ts), dtype=bool)
            running = series.get("running")
            out = still & (held(running > 0.5, k) if running is not None else True)
        elif rule.kind == "short-cycling":
            on = v > 0.5
            starts = np.concatenate(([False], on[1:] & ~on[:-1]))
            stops = np.concatenate(([False], ~on[1:] & on[:-1]))
            hour = _steps(3600.0, step)
            cs = np.concatenate(([0], np.cumsum(starts)))
            hi = np.arange(1, len(ts) + 1)
            per_hour = cs[hi] - cs[np.maximum(hi - hour, 0)]
            out = per_hour > rule.number("max_starts", 4.0)
            for kind, edge, state in (("min_on", stops, on), ("min_off", starts, ~on)):
                if kind in rule.numbers:  # a run (rest) shorter than the minimum ending here
                    k = _steps(rule.numbers[kind], step)
                    before = np.concatenate(([False], held(state, k)[:-1]))
                    short = edge & ~before & np.concatenate(([False], state[:-1]))
                    shorts = np.concatenate(([0], np.cumsum(short)))
                    out |= (shorts[hi] - shorts[np.maximum(hi - hour, 0)]) > 0  # marked for an hour after
            out = out & ~np.isnan(v)
        elif rule.kind == "schedule-deviation":
            cond = np.abs(v - series["setpoint"]) > rule.number("tolerance", 1.0)
            out = held(cond, _steps(rule.numbers["period"], step))
        elif rule.kind == "simultaneous":
            threshold = rule.number("threshold", 1.0)
            cond = (series["heating"] > threshold) & (series["cooling"] > threshold)
            out = held(cond, _steps(rule.numbers["period"], step))
        elif rule.kind == "setpoint-not-met":
            if "setpoint" in series:
                band = rule.number("band", 1.0)
                cond = np.abs(v - series["setpoint"]) > band
            else:
                cond = (v < rule.number("low", -np.inf)) | (v > rule.number("high", np.inf))
            if "occupied" in series:
                cond &= series["occupied"] > 0.5
            out = held(cond, _steps(rule.numbers["period"], step))
        else:  # pragma: no cover - parse_generic refuses other kinds
            raise ValueError(rule.kind)
    if rule.peak:
        out = out & in_peak(ts, rule.peak, tz)
    return np.asarray(out, dtype=bool)


def _hhmm(text: Any) -> time | None:
    try:
        return time.fromisoformat(str(text))
    except ValueError:
        return None


def _peak(value: Any, where: str, problems: list[str]) -> tuple[PeakWindow, ...]:
    if not isinstance(value, list):
        problems.append(f"{where}: must be a list of windows")
        return ()
    found = []
    for i, w in enumerate(value):
        here = f"{where}[{i}]"
        if not isinstance(w, dict):
            problems.append(f"{here}: must be a table (days, start, end)")
            continue
        days = w.get("days", list(DAYS[:5]))
        bad = [d for d in days if d not in DAYS] if isinstance(days, list) else [days]
        start, end = _hhmm(w.get("start")), _hhmm(w.get("end"))
        if bad:
            problems.append(f"{here}.days: unknown day {bad[0]!r} (mon..sun)")
        if start is None or end is None:
            problems.append(f"{here}: start and end must be times HH:MM")
        if not bad and start is not None and end is not None:
            found.append(PeakWindow(tuple(DAYS.index(d) for d in days), start, end))
    return tuple(found)


def parse_generic(value: Any, where: str, problems: list[str]) -> list[GenericRule]:
    """``[[generic]]`` tables as rules; each problem one line in ``problems``."""
    if not isinstance(value, list):
        problems.append(f"{where}: must be an array of tables ([[generic]])")
        return []
    rules: list[GenericRule] = []
    for i, spec in enumerate(value):
        here = f"{where}[{i}]"
        if not isinstance(spec, dict):
            problems.append(f"{here}: must be a table")
            continue
        name = spec.get("name")
        if isinstance(name, str) and name:
            here = f"{where}.{name}"
        else:
            problems.append(f"{here}.name: required")
        kind = spec.get("type")
        if kind not in KINDS:
            close = difflib.get_close_matches(str(kind), list(KINDS), n=1)
            problems.append(f"{here}.type: must be one of {', '.join(KINDS)}, got {kind!r}"
                            + (f" (did you mean {close[0]!r}?)" if close else ""))
            continue
        required, optional = KINDS[kind]
        allowed = {*required, *optional, "name", "type", "severity", "peak"}
        before = len(problems)
        for key in spec:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                problems.append(f"{here}.{key}: unknown key for a {kind} rule"
                                + (f" (did you mean {close[0]!r}?)" if close else ""))
        for key in required:
            if key not in spec:
                problems.append(f"{here}.{key}: required for a {kind} rule")
        points: dict[str, str] = {}
        numbers: dict[str, float] = {}
        for key in (*required, *optional):
            if key not in spec:
                continue
            got = spec[key]
            if key in POINT_KEYS:
                if isinstance(got, str) and got:
                    points[key] = got
                else:
                    problems.append(f"{here}.{key}: must be a point id, got {got!r}")
            elif isinstance(got, int | float) and not isinstance(got, bool):
                numbers[key] = float(got)
            else:
                problems.append(f"{here}.{key}: must be a number, got {got!r}")
        if kind == "threshold" and "high" not in spec and "low" not in spec:
            problems.append(f"{here}: a threshold rule needs high or low")
        severity = spec.get("severity", "medium")
        if severity not in SEVERITIES:
            problems.append(f"{here}.severity: must be one of {', '.join(SEVERITIES)}, got {severity!r}")
        peak = _peak(spec["peak"], f"{here}.peak", problems) if "peak" in spec else ()
        if len(problems) == before and isinstance(name, str) and name:
            rules.append(GenericRule(name, kind, points, numbers, severity, peak))
    return rules


__all__ = ["KINDS", "GenericRule", "PeakWindow", "held", "in_peak", "parse_generic", "run_generic"]
