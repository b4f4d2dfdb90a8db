"""Generated history for the demo: a year (or more) of weather and of a building's electricity.

Weather: a daily mean outdoor temperature following the seasons (``mean`` +- ``swing`` °C, coldest in
mid-January) with day-to-day weather (an autoregressive wander) and a daily cycle. The building:
the office load of :func:`~bms.sim._meter.load_fraction` between ``base_kw`` and ``peak_kw``, plus
electric heating below ``heat_below`` °C and cooling above ``cool_above`` °C, noise on top. The
meter's kWh counter integrates the kW (trapezoids). Samples every ``step`` seconds up to ``end``,
all as plain arrays; :func:`write_history` puts them into history.db through the writer's bulk
path (one transaction per batch, rollups kept), which is what ``bms sim history`` does.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from bms.messages import PointValue
from bms.sim._meter import load_fraction

FloatArray = npt.NDArray[np.float64]
DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Building:
    base_kw: float = 40.0
    peak_kw: float = 180.0
    heat_below: float = 15.0
    heat_kw_per_degree: float = 6.0
    cool_above: float = 21.0
    cool_kw_per_degree: float = 8.0
    noise: float = 0.03
    mean: float = 11.0
    swing: float = 7.0
    energy_kwh: float = 5_000_000.0


def generate(days: float, end: float, tz: ZoneInfo, building: Building = Building(), step: float = 900.0,
             seed: int = 1) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(timestamps, outdoor temperature °C, power kW, energy counter kWh) over the ``days`` before ``end``."""
    stop = math.floor(end / step) * step
    ts = np.arange(stop - days * DAY, stop, step, dtype=np.float64)
    rng = np.random.default_rng(seed)
    b = building
    day_index = np.floor((ts - ts[0]) / DAY).astype(np.int64)
    ndays = int(day_index[-1]) + 1 if len(ts) else 0
    wander = np.zeros(ndays)
    shocks = rng.normal(0.0, 1.6, ndays)
    for i in range(1, ndays):
        wander[i] = 0.75 * wander[i - 1] + shocks[i]
    offsets = np.array([_offset(tz, t) for t in ts[:: int(DAY // step) or 1]])
    local = ts + np.repeat(offsets, int(DAY // step) or 1)[: len(ts)]
    doy = (local / DAY + 4.0) % 365.25  # 1970-01-01 is day 0; ~4 days to the year's coldest phase offset
    hour = (local % DAY) / 3600.0
    oat = (b.mean - b.swing * np.cos(2 * np.pi * (doy - 15.0) / 365.25) + wander[day_index]
           - 3.0 * np.cos(2 * np.pi * (hour - 3.0) / 24.0))
    weekend = (np.floor(local / DAY + 3) % 7) >= 5
    share = np.array([load_fraction(h, w) for h, w in zip(hour.tolist(), weekend.tolist(), strict=True)])
    kw = b.base_kw + (b.peak_kw - b.base_kw) * share
    kw += b.heat_kw_per_degree * np.maximum(0.0, b.heat_below - oat)
    kw += b.cool_kw_per_degree * np.maximum(0.0, oat - b.cool_above)
    kw *= 1.0 + b.noise * rng.normal(0.0, 1.0, len(ts))
    kw = np.maximum(kw, 0.0)
    kwh = b.energy_kwh + np.concatenate(([0.0], np.cumsum((kw[1:] + kw[:-1]) / 2.0 * step / 3600.0)))
    return ts, np.round(oat, 2), np.round(kw, 2), np.round(kwh, 1)


def _offset(tz: ZoneInfo, ts: float) -> float:
    offset = datetime.fromtimestamp(ts, tz).utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


def batches(series: Mapping[str, tuple[FloatArray, FloatArray]], size: int = 50_000) -> Iterator[list[PointValue]]:
    """The series as PointValue batches in time order (for the history writer's bulk path)."""
    rows: list[PointValue] = []
    for point_id, (ts, values) in series.items():
        rows += [PointValue(point_id, v, t) for t, v in zip(ts.tolist(), values.tolist(), strict=True)]
    rows.sort(key=lambda pv: pv.ts)
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def write_history(path: Path, series: Mapping[str, tuple[FloatArray, FloatArray]]) -> int:
    """Append ``series`` to the history.db at ``path``; how many values were written."""
    from bms.history import HistoryWriter

    written = 0
    with HistoryWriter(path) as writer:
        for batch in batches(series):
            written += writer.append(batch)
    return written


__all__ = ["Building", "batches", "generate", "write_history"]
