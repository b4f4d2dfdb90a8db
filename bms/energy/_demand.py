"""Demand: the average power over 15-minute windows, its peak, load factor, base load and a projection.

* fixed windows: each interval's kWh times four (the windows a utility's meter uses: :00, :15, :30, :45);
* sliding windows: a 15-minute window moved by a sub-interval (5 minutes by default) over kWh per
  sub-interval; a window is counted only when every sub-interval in it has data;
* the billing-period peak (its kW and the start of its window), load factor (average kW / peak kW),
  base load (the lowest hourly average in the night hours, local time), peak-to-base ratio;
* the projected demand of the window under way: the energy so far plus the present power held to
  the window's end, as kW -- what a load-shedding program compares with the demand limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

QUARTER = 900.0
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class DemandSummary:
    """Demand figures of a span of intervals (kW; times are window starts, epoch seconds)."""

    peak_kw: float
    peak_at: float | None
    average_kw: float
    load_factor: float | None
    base_kw: float | None
    peak_to_base: float | None
    kwh: float
    intervals: int


def fixed_demand(kwh: FloatArray, window: float = QUARTER) -> FloatArray:
    """kW of each fixed window from its kWh."""
    return np.asarray(kwh, dtype=np.float64) * (3600.0 / window)


def sliding_demand(starts: FloatArray, kwh: FloatArray, step: float = 300.0,
                   window: float = QUARTER) -> tuple[FloatArray, FloatArray]:
    """(window starts, kW) of every complete sliding window over kWh per ``step``-long sub-interval."""
    per = round(window / step)
    starts = np.asarray(starts, dtype=np.float64)
    if len(starts) < per:
        return np.empty(0), np.empty(0)
    keys = np.round(starts / step).astype(np.int64)
    base = keys[0]
    dense = np.full(int(keys[-1] - base) + 1, np.nan)
    dense[keys - base] = kwh
    sums = np.convolve(np.nan_to_num(dense), np.ones(per), mode="valid")
    complete = np.convolve(np.isfinite(dense).astype(np.float64), np.ones(per), mode="valid") == per
    window_starts = (base + np.arange(len(sums))) * step
    return window_starts[complete].astype(np.float64), sums[complete] * (3600.0 / window)


def peak(starts: FloatArray, kw: FloatArray) -> tuple[float, float | None]:
    """The highest demand and the start of its window (the first, on a tie); (0, None) with no data."""
    if len(kw) == 0:
        return 0.0, None
    i = int(np.argmax(kw))
    return float(kw[i]), float(starts[i])


def base_load(starts: FloatArray, kwh: FloatArray, tz: ZoneInfo, night: tuple[int, int] = (0, 5)) -> float | None:
    """The lowest hourly average kW whose hour starts in ``night`` (local hours, ``[from, to)``)."""
    hours: dict[float, list[float]] = {}
    for start, value in zip(starts.tolist(), kwh.tolist(), strict=True):
        local = datetime.fromtimestamp(start, tz)
        if night[0] <= local.hour < night[1]:
            hours.setdefault(start // 3600.0, []).append(value)
    full = [sum(v) for v in hours.values() if len(v) == 4]  # four quarters: one hour's kWh = its average kW
    return min(full) if full else None


def summarise(starts: FloatArray, kwh: FloatArray, tz: ZoneInfo, span: float | None = None,
              night: tuple[int, int] = (0, 5)) -> DemandSummary:
    """Demand figures of 15-minute intervals. ``span`` (seconds) is the period's length for the
    average (default: the intervals present); load factor = average kW / peak kW."""
    starts = np.asarray(starts, dtype=np.float64)
    kwh = np.asarray(kwh, dtype=np.float64)
    kw = fixed_demand(kwh)
    top, at = peak(starts, kw)
    total = float(kwh.sum())
    hours = (span if span is not None else len(kwh) * QUARTER) / 3600.0
    average = total / hours if hours > 0 else 0.0
    base = base_load(starts, kwh, tz, night)
    return DemandSummary(peak_kw=top, peak_at=at, average_kw=average,
                         load_factor=average / top if top > 0 else None, base_kw=base,
                         peak_to_base=top / base if base else None, kwh=total, intervals=len(kwh))


def projected_demand(window_start: float, now: float, kwh_so_far: float, kw_now: float,
                     window: float = QUARTER) -> float:
    """kW the window starting at ``window_start`` will show if the present power holds to its end."""
    remaining = max(0.0, window_start + window - now)
    return (kwh_so_far + kw_now * remaining / 3600.0) * 3600.0 / window


__all__ = ["DemandSummary", "base_load", "fixed_demand", "peak", "projected_demand", "sliding_demand", "summarise"]
