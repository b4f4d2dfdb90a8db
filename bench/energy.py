"""Daily rollups and a change-point baseline for many meters over years of 15-minute data:
through bms.energy beside the same computation in plain numpy, in the same run.

    python bench/energy.py [--meters 100] [--years 3] [--rounds 2]

Per meter: 15-minute kW readings (3 years: 105,120) -> kWh per interval (the trapezoid rule, gaps
not bridged) -> kWh per local day (Europe/London, DST days of 23 and 25 hours) -> a 5-parameter
change-point model of daily kWh against the daily mean outdoor temperature (balance temperatures
searched on a 0.5 degree grid) with R2, CV(RMSE), NMBE.

The plain-numpy floor does the same work the way one writes it by hand for this data: it knows the
readings are evenly spaced and aligned to the quarter hours (no splitting at boundaries, no gap
check), groups days by precomputed boundaries, and fits each candidate pair of balance
temperatures with ``numpy.linalg.lstsq``. The ratio is bms rate / numpy rate (goal >= 30 %).
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from bms.energy import Periods, boundaries, fit, power_intervals, rollup
from bms.sim._history import Building, generate

TZ = ZoneInfo("Europe/London")


def data(meters: int, years: float) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    end = datetime(2026, 12, 1, tzinfo=TZ).timestamp()
    ts, oat, kw, _ = generate(365 * years, end, TZ, Building(noise=0.0))
    rng = np.random.default_rng(1)
    loads = [np.maximum(0.0, kw * rng.uniform(0.2, 2.0) * (1 + 0.03 * rng.normal(0, 1, len(kw))))
             for _ in range(meters)]
    return ts, oat, loads


def daily_oat(ts: np.ndarray, oat: np.ndarray, edges: np.ndarray) -> np.ndarray:
    idx = np.searchsorted(edges, ts, side="right") - 1
    return np.bincount(idx, weights=oat, minlength=len(edges) - 1)[: len(edges) - 1] / np.maximum(
        np.bincount(idx, minlength=len(edges) - 1)[: len(edges) - 1], 1)


def with_bms(ts: np.ndarray, temps: np.ndarray, kw: np.ndarray, span: tuple[float, float]) -> tuple[float, float]:
    starts, kwh, _gaps = power_intervals(ts, kw, max_gap=1800.0)
    days = rollup(starts, kwh, "day", TZ, span)
    full = days.quarters >= days.expected - 1
    model = fit(Periods.daily(days.kwh[full], temps[full]), "5P", step=0.5)
    return float(days.kwh.sum()), model.cvrmse


def with_numpy(ts: np.ndarray, temps: np.ndarray, kw: np.ndarray, edges: np.ndarray) -> tuple[float, float]:
    seg = (kw[:-1] + kw[1:]) / 2.0 * np.diff(ts) / 3600.0
    idx = np.searchsorted(edges, ts[:-1], side="right") - 1
    n = len(edges) - 1
    daily = np.bincount(idx, weights=seg, minlength=n)[:n]
    count = np.bincount(idx, minlength=n)[:n]
    expected = np.round(np.diff(edges) / 900.0)
    full = count >= expected - 1
    y, t = daily[full], temps[full]
    grid = np.arange(np.ceil(t.min() * 2) / 2, t.max() + 0.25, 0.5)
    best = (np.inf, 0.0, 0.0)
    ones = np.ones(len(y))
    for th in grid:
        h = np.maximum(0.0, th - t)
        for tc in grid[grid >= th]:
            x = np.column_stack([ones, h, np.maximum(0.0, t - tc)])
            coef, res, *_ = np.linalg.lstsq(x, y, rcond=None)
            if coef[1] > 0 and coef[2] > 0 and len(res) and res[0] < best[0]:
                best = (float(res[0]), th, tc)
    cv = np.sqrt(best[0] / (len(y) - 5)) / y.mean()
    return float(daily.sum()), float(cv)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=100)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    ts, oat, loads = data(args.meters, args.years)
    span = (float(ts[0]), float(ts[-1]) + 900.0)
    edges = boundaries(span[0], span[1], "day", TZ)
    edges = edges[(edges >= span[0]) | (np.arange(len(edges)) == 0)]
    temps = daily_oat(ts, oat, edges)
    samples = len(ts) * args.meters
    print(f"{args.meters} meters x {len(ts):,} readings ({args.years:g} years of 15-minute kW), "
          f"{len(edges) - 1} days, 5P baseline on a 0.5 degree grid")
    bms_rates, np_rates = [], []
    for rnd in range(1, args.rounds + 1):
        for name, fn in (("bms.energy", lambda kw: with_bms(ts, temps, kw, span)),
                         ("plain numpy", lambda kw: with_numpy(ts, temps, kw, edges))):
            started = time.perf_counter()
            results = [fn(kw) for kw in loads]
            seconds = time.perf_counter() - started
            rate = args.meters / seconds
            (bms_rates if name == "bms.energy" else np_rates).append(rate)
            total = sum(r[0] for r in results)
            print(f"round {rnd} {name:12s} {seconds:6.2f} s  {rate:7.1f} meters/s  {samples / seconds / 1e6:5.2f}M "
                  f"readings/s  total {total / 1e6:,.2f} GWh  mean CV(RMSE) {np.mean([r[1] for r in results]):.3f}")
    ratio = max(bms_rates) / max(np_rates)
    print(f"bms.energy / plain numpy: {100 * ratio:.0f} % of numpy's rate (goal >= 30 %)")


if __name__ == "__main__":
    main()
