"""From meter readings to energy per 15-minute interval: kW by the trapezoid rule, kWh counters by differences.

Power (kW): the energy between two readings is the trapezoid ``(p0 + p1) / 2 * dt``; a segment that
crosses an interval boundary is split there (the power interpolated linearly), so each interval gets
exactly its share. Two readings further apart than ``max_gap`` are not joined: nothing is integrated
across the gap and it is reported as a :class:`Gap` (never filled silently).

Counters (kWh totalizers): consumption is the difference of successive readings, spread evenly over
the time between them. A reading lower than the one before is never negative consumption: it is a
rollover when the counter was near its ``rollover`` value (the delta goes through the wrap); a drop to
near zero (under a tenth of the reading before) is a reset or a meter replacement (the new counter's
reading is what was used since it started); any other drop counts nothing (a glitch, a re-programmed
meter). Each is reported as a :class:`CounterEvent`. A counter's delta across a long gap is real energy: it is kept
(spread over the gap) and the gap is reported with it.

Two forms with one meaning: the incremental integrators (a live feed, one reading at a time) and the
vectorised functions over arrays (backfill from history, the benchmark); the tests hold them equal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

QUARTER = 900.0
ROLLOVER_NEAR = 0.9  # a drop from above this share of the rollover value is a rollover
RESET_NEAR = 0.1  # a drop to below this share of the reading before is a reset or a new meter
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Gap:
    """No readings from ``start`` to ``end`` (longer than the gap limit); ``kwh`` a counter's delta across it."""

    start: float
    end: float
    kwh: float = 0.0


@dataclass(frozen=True, slots=True)
class CounterEvent:
    """A counter went down at ``ts``: ``rollover`` (wrapped past its maximum), ``reset`` (reset or replaced)
    or ``drop`` (went back, not to near zero: nothing counted)."""

    ts: float
    kind: str
    before: float
    after: float


@dataclass(slots=True)
class Contributions:
    """What one or more readings add: kWh by interval start, gaps and counter events."""

    kwh: dict[float, float] = field(default_factory=dict)
    gaps: list[Gap] = field(default_factory=list)
    events: list[CounterEvent] = field(default_factory=list)

    def add(self, start: float, kwh: float) -> None:
        self.kwh[start] = self.kwh.get(start, 0.0) + kwh


def _split_trapezoid(t0: float, p0: float, t1: float, p1: float, width: float, out: Contributions) -> None:
    slope = (p1 - p0) / (t1 - t0)
    a, pa = t0, p0
    while a < t1:
        bucket = math.floor(a / width) * width
        b = min(bucket + width, t1)
        pb = p1 if b == t1 else p0 + slope * (b - t0)
        out.add(bucket, (pa + pb) / 2.0 * (b - a) / 3600.0)
        a, pa = b, pb


def _spread(t0: float, t1: float, kwh: float, width: float, out: Contributions) -> None:
    rate = kwh / (t1 - t0)
    a = t0
    while a < t1:
        bucket = math.floor(a / width) * width
        b = min(bucket + width, t1)
        out.add(bucket, rate * (b - a))
        a = b


def counter_delta(before: float, after: float, rollover: float | None) -> tuple[float, str]:
    """The consumption between two counter readings, and ``""``, ``rollover`` or ``reset``."""
    if after >= before:
        return after - before, ""
    if rollover is not None and before >= ROLLOVER_NEAR * rollover:
        return rollover - before + after, "rollover"
    if after <= RESET_NEAR * before:
        return max(after, 0.0), "reset"
    return 0.0, "drop"  # went back but not to near zero: nothing known was used (a glitch, a re-programmed meter)


class PowerIntegrator:
    """kW readings, one at a time, into kWh per interval (the trapezoid rule, gaps not bridged)."""

    def __init__(self, max_gap: float, width: float = QUARTER) -> None:
        self.max_gap = max_gap
        self.width = width
        self.last: tuple[float, float] | None = None

    def add(self, ts: float, kw: float, out: Contributions) -> None:
        if not math.isfinite(kw):
            return
        last = self.last
        if last is not None and ts <= last[0]:
            return  # late or repeated: the segment it belongs to is already integrated
        self.last = (ts, kw)
        if last is None:
            return
        t0, p0 = last
        if ts - t0 > self.max_gap:
            out.gaps.append(Gap(t0, ts))
            return
        _split_trapezoid(t0, p0, ts, kw, self.width, out)

    @property
    def kw(self) -> float:
        return self.last[1] if self.last is not None else 0.0


class CounterIntegrator:
    """kWh counter readings, one at a time, into kWh per interval (rollover and replacement handled)."""

    def __init__(self, max_gap: float, rollover: float | None = None, width: float = QUARTER) -> None:
        self.max_gap = max_gap
        self.rollover = rollover
        self.width = width
        self.last: tuple[float, float] | None = None
        self.kw = 0.0  # the rate between the last two readings

    def add(self, ts: float, reading: float, out: Contributions) -> None:
        if not math.isfinite(reading):
            return
        last = self.last
        if last is not None and ts <= last[0]:
            return
        self.last = (ts, reading)
        if last is None:
            return
        t0, r0 = last
        delta, kind = counter_delta(r0, reading, self.rollover)
        if kind:
            out.events.append(CounterEvent(ts, kind, r0, reading))
        if ts - t0 > self.max_gap:
            out.gaps.append(Gap(t0, ts, delta))
        self.kw = delta * 3600.0 / (ts - t0)
        _spread(t0, ts, delta, self.width, out)


# ---------------------------------------------------------------- vectorised


def _sub_segments(ts: FloatArray, width: float) -> tuple[FloatArray, FloatArray, npt.NDArray[np.intp]]:
    """Every segment of ``ts`` cut at the interval boundaries: (starts, ends, index of the parent segment)."""
    first = np.floor(ts[0] / width) * width
    inner = first + width * np.arange(1, int(np.ceil((ts[-1] - first) / width)) + 1, dtype=np.float64)
    inner = inner[(inner > ts[0]) & (inner < ts[-1])]
    cuts = np.union1d(ts, inner)
    seg = np.searchsorted(ts, cuts[:-1], side="right") - 1
    return cuts[:-1], cuts[1:], seg


def power_intervals(ts: FloatArray, kw: FloatArray, max_gap: float,
                    width: float = QUARTER) -> tuple[FloatArray, FloatArray, list[Gap]]:
    """kW readings (``ts`` increasing) -> (interval starts, kWh in each, gaps): the trapezoid rule."""
    ts, kw = _clean(ts, kw)
    if len(ts) < 2:
        return np.empty(0), np.empty(0), []
    dt = np.diff(ts)
    long = dt > max_gap
    gaps = [Gap(float(ts[i]), float(ts[i + 1])) for i in np.flatnonzero(long)]
    a, b, seg = _sub_segments(ts, width)
    pa = np.interp(a, ts, kw)
    pb = np.interp(b, ts, kw)
    # at a reading, interp gives the reading itself; inside a segment, the straight line between its ends
    kwh = (pa + pb) / 2.0 * (b - a) / 3600.0
    kwh[long[seg]] = 0.0
    starts, sums, _ = _bucket(a, kwh, width, valid=~long[seg])
    return starts, sums, gaps


def counter_intervals(ts: FloatArray, readings: FloatArray, max_gap: float, rollover: float | None = None,
                      width: float = QUARTER) -> tuple[FloatArray, FloatArray, list[Gap], list[CounterEvent]]:
    """Counter readings -> (interval starts, kWh in each, gaps, rollover/reset events)."""
    ts, readings = _clean(ts, readings)
    if len(ts) < 2:
        return np.empty(0), np.empty(0), [], []
    dt = np.diff(ts)
    delta = np.diff(readings)
    events: list[CounterEvent] = []
    for i in np.flatnonzero(delta < 0):
        fixed, kind = counter_delta(float(readings[i]), float(readings[i + 1]), rollover)
        delta[i] = fixed
        events.append(CounterEvent(float(ts[i + 1]), kind, float(readings[i]), float(readings[i + 1])))
    gaps = [Gap(float(ts[i]), float(ts[i + 1]), float(delta[i])) for i in np.flatnonzero(dt > max_gap)]
    a, b, seg = _sub_segments(ts, width)
    kwh = delta[seg] * (b - a) / dt[seg]
    starts, sums, _ = _bucket(a, kwh, width)
    return starts, sums, gaps, events


def _clean(ts: FloatArray, values: FloatArray) -> tuple[FloatArray, FloatArray]:
    ts = np.asarray(ts, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    keep = np.isfinite(values) & np.isfinite(ts)
    ts, values = ts[keep], values[keep]
    if len(ts) > 1 and not np.all(np.diff(ts) > 0):
        order = np.argsort(ts, kind="stable")
        ts, values = ts[order], values[order]
        first = np.concatenate(([True], np.diff(ts) > 0))
        ts, values = ts[first], values[first]
    return ts, values


def _bucket(a: FloatArray, kwh: FloatArray, width: float,
            valid: npt.NDArray[np.bool_] | None = None) -> tuple[FloatArray, FloatArray, list[Gap]]:
    keys = np.floor(a / width).astype(np.int64)
    base = keys[0]
    sums = np.bincount(keys - base, weights=kwh)
    touched = np.bincount(keys - base, weights=np.ones_like(kwh) if valid is None else valid.astype(np.float64)) > 0
    starts = (base + np.arange(len(sums), dtype=np.int64)).astype(np.float64) * width
    return starts[touched], np.asarray(sums[touched], dtype=np.float64), []


__all__ = [
    "Contributions",
    "CounterEvent",
    "CounterIntegrator",
    "Gap",
    "PowerIntegrator",
    "counter_delta",
    "counter_intervals",
    "power_intervals",
]
