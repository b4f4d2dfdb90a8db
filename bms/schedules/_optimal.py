"""Optimal start: when to start conditioning a zone so that it reaches its setpoint at occupancy.

A zone's temperature moves toward its setpoint, while conditioned, at a
rate that falls as the outdoors works against it::

    rate (degrees per minute toward the setpoint) = a - b * against

``against`` is how far the zone is on the far side of the outdoor air from
its setpoint: indoor minus outdoor while warming up (heat leaks out),
outdoor minus indoor while cooling down. :func:`learn` fits ``a`` and ``b``
(least squares) to the zone's own history -- each pair of consecutive
samples where the zone was more than :data:`BAND` from its setpoint and
moving toward it -- separately for warm-up and cool-down. :func:`lead_time`
integrates the model from the zone's temperature now to its setpoint:

    T(t) = To + a/b + (T0 - To - a/b) * exp(-b t)      (warm-up; b > 0)

so ``t = ln((To + a/b - T0) / (To + a/b - Tsp)) / b``; a zone that the
model says never gets there starts :data:`MAX_LEAD` early. Few samples:
the default rates, and the answer says so.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence
from typing import NamedTuple

BAND = 0.2  # degrees from the setpoint: closer than this, the zone is there (no warm-up to learn)
MIN_SAMPLES = 5
MAX_LEAD = 240.0  # minutes
MIN_STEP, MAX_STEP = 60.0, 1800.0  # seconds between two samples that make a rate


class Rates(NamedTuple):
    """``a - b * against`` degrees per minute toward the setpoint, learned from ``samples`` pairs."""

    a: float
    b: float
    samples: int

    def at(self, against: float) -> float:
        return self.a - self.b * against


DEFAULT_WARM_UP = Rates(0.1, 0.0, 0)
DEFAULT_COOL_DOWN = Rates(0.1, 0.0, 0)


class ZoneRates(NamedTuple):
    warm_up: Rates
    cool_down: Rates

    def describe(self) -> str:
        def one(r: Rates, what: str) -> str:
            if r.samples == 0:
                return f"{what} default {r.a:g}°/min"
            return f"{what} {r.a:.3f} - {r.b:.4f}·Δt °/min ({r.samples} samples)"
        return "; ".join((one(self.warm_up, "warm-up"), one(self.cool_down, "cool-down")))


Series = Sequence[tuple[float, float]]  # (epoch s, value), oldest first


def _at(series: Series, ts: float) -> float | None:
    """The series' value at ``ts`` (the last sample at or before it; the first after it when none is)."""
    if not series:
        return None
    i = bisect.bisect_right([s[0] for s in series], ts)
    return series[i - 1][1] if i > 0 else series[0][1]


def _fit(points: list[tuple[float, float]], default: Rates) -> Rates:
    """Least squares ``rate = a - b * against``; too few points, or a fit that slows with less load: the mean."""
    n = len(points)
    if n < MIN_SAMPLES:
        return default
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx < 1e-9:
        return Rates(my, 0.0, n) if my > 0 else default
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    b = -slope
    a = my + b * mx
    if b < 0 or a <= 0:
        return Rates(my, 0.0, n) if my > 0 else default
    return Rates(a, b, n)


def learn(zone: Series, setpoint: Series, outdoor: Series,
          warm_default: Rates = DEFAULT_WARM_UP, cool_default: Rates = DEFAULT_COOL_DOWN) -> ZoneRates:
    """The zone's warm-up and cool-down rates from its recorded temperature, setpoint and the outdoor air."""
    warm: list[tuple[float, float]] = []
    cool: list[tuple[float, float]] = []
    for (t0, v0), (t1, v1) in itertools.pairwise(zone):
        step = t1 - t0
        if not MIN_STEP <= step <= MAX_STEP:
            continue
        sp = _at(setpoint, t0)
        out = _at(outdoor, (t0 + t1) / 2)
        if sp is None or out is None:
            continue
        rate = (v1 - v0) / (step / 60.0)
        middle = (v0 + v1) / 2
        if v0 < sp - BAND and rate > 0:
            warm.append((middle - out, rate))
        elif v0 > sp + BAND and rate < 0:
            cool.append((out - middle, -rate))
    return ZoneRates(_fit(warm, warm_default), _fit(cool, cool_default))


def lead_time(zone: float, setpoint: float, outdoor: float, rates: ZoneRates, max_lead: float = MAX_LEAD) -> float:
    """Minutes of conditioning that bring the zone from ``zone`` to ``setpoint`` (0..``max_lead``)."""
    if abs(setpoint - zone) <= BAND:
        return 0.0
    if zone < setpoint:
        r, start, target, out = rates.warm_up, zone, setpoint, outdoor
    else:  # cooling: the same model on the mirrored axis
        r, start, target, out = rates.cool_down, -zone, -setpoint, -outdoor
    if r.b <= 1e-9:
        minutes = (target - start) / r.a if r.a > 0 else math.inf
    else:
        ceiling = out + r.a / r.b  # where conditioning would hold the zone
        if ceiling <= target:
            return max_lead
        minutes = math.log((ceiling - start) / (ceiling - target)) / r.b
    return max(0.0, min(max_lead, minutes))


def optimal_start(occupied_at: float, zone: float, setpoint: float, outdoor: float, rates: ZoneRates,
                  max_lead: float = MAX_LEAD) -> float:
    """When to start conditioning (epoch s) to reach ``setpoint`` at ``occupied_at``."""
    return occupied_at - 60.0 * lead_time(zone, setpoint, outdoor, rates, max_lead)
