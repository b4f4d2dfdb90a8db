"""The G36 rule set over one year of 1-minute data for 10 AHUs (~5.3 million rows) in batch mode through
bms.fdd, beside a plain vectorised numpy evaluation of the same conditions measured in the same run;
then the live engine's cost per AHU per minute.

    python bench/fdd.py [--ahus 10] [--days 365] [--rounds 3]

The floor: the same rolling averages, operating states, FC1-FC15 equations and persistence (moving
average of each condition over the window) written as bare numpy expressions, without bms.fdd's rule
objects, per-rule state-change resets and mode delay, NaN handling or the active-state bookkeeping.
The ratio is bms.fdd's rows/s over the floor's (goal >= 25%). Rounds alternate; the best of each counts.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bms.fdd import RULES, G36Params, LiveUnit, evaluate

P = G36Params()


def synthetic(n: int, seed: int) -> dict[str, np.ndarray]:
    """A year of minutes of one air handler: seasons and days, a control loop's commands, some faults."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) * 60.0
    day = (t % 86_400) / 86_400
    oat = 12 + 10 * np.sin(2 * np.pi * (t / (365 * 86_400) - 0.3)) + 6 * np.cos(2 * np.pi * (day - 0.6))
    oat += rng.normal(0, 0.3, n)
    rat = 23 + rng.normal(0, 0.2, n)
    occupied = (day > 0.25) & (day < 0.75)
    cooling = np.clip((oat - 14) * 8, 0, 100) * occupied
    heating = np.clip((10 - oat) * 8, 0, 100) * occupied
    damper = np.where(cooling > 0, np.where(oat < 20, 100.0, 20.0), np.where(heating > 0, 20.0, 50.0))
    mat = rat + damper / 100 * (oat - rat) + rng.normal(0, 0.2, n)
    sat = mat + heating / 100 * 20 - cooling / 100 * 12 + 1.1 + rng.normal(0, 0.2, n)
    fan = np.where(occupied, 60.0, 0.0)
    sat_sp = np.full(n, 13.0)
    dsp = 700 * (fan / 100) ** 2 + rng.normal(0, 3, n)
    faulty = rng.integers(0, n - 3000, 6)
    for start in faulty:  # a few days of drifted mixed-air sensor here and there
        mat[start:start + 3000] += 8.0
    return {"oat": oat, "rat": rat, "mat": mat, "sat": sat, "sat_sp": sat_sp, "fan_speed": fan,
            "oa_damper": damper, "cooling": cooling, "heating": heating, "dsp": dsp, "dsp_sp": np.full(n, 250.0)}


def _roll(a: np.ndarray, k: int) -> np.ndarray:
    c = np.concatenate(([0.0], np.cumsum(a)))
    hi = np.arange(1, len(a) + 1)
    lo = np.maximum(hi - k, 0)
    return (c[hi] - c[lo]) / (hi - lo)


def floor(raw: dict[str, np.ndarray], p: G36Params) -> int:
    """The same conditions as bare numpy: how many (rule, sample) faults are active."""
    k, w = p.samples(p.smoothing), p.samples(p.window)
    x = {r: _roll(v, k) for r, v in raw.items()}
    hc, cc = x["heating"] > p.valve_on, x["cooling"] > p.valve_on
    at_min = x["oa_damper"] <= p.min_damper + p.damper_tolerance
    full = x["oa_damper"] >= 100 - p.damper_tolerance
    state = np.full(len(hc), 5, dtype=np.int8)
    state[~hc & ~cc & ~at_min] = 2
    state[~cc & at_min] = 1
    state[~hc & cc & full] = 3
    state[~hc & cc & at_min] = 4
    state[x["fan_speed"] <= 0] = 0
    sat, mat, rat, oat, sp = x["sat"], x["mat"], x["rat"], x["oat"], x["sat_sp"]
    e_sm, e_mo = np.hypot(p.eps_sat, p.eps_mat), np.hypot(p.eps_mat, p.eps_oat)
    with np.errstate(divide="ignore", invalid="ignore"):
        oaf = (mat - rat) / (oat - rat)
    changes = np.concatenate(([0.0], (state[1:] != state[:-1]).astype(np.float64)))
    conds = [
        ((x["dsp"] < x["dsp_sp"] - p.eps_dsp) & (x["fan_speed"] >= p.valve_full - p.eps_fan), state > 0),
        (mat + p.eps_mat < np.minimum(rat - p.eps_rat, oat - p.eps_oat), state > 0),
        (mat - p.eps_mat > np.maximum(rat + p.eps_rat, oat + p.eps_oat), state > 0),
        (_roll(changes, p.samples(3600)) * p.samples(3600) > p.max_state_changes, state >= 0),
        (sat + p.eps_sat <= mat - p.eps_mat + p.dt_supply_fan, state == 1),
        ((np.abs(rat - oat) >= p.dt_min) & (np.abs(oaf - p.min_oa_fraction) > p.delta_oa_min),
         (state == 1) | (state == 4)),
        ((sat < sp - p.eps_sat) & (x["heating"] >= p.valve_full), state == 1),
        (np.abs(sat - p.dt_supply_fan - mat) > e_sm, state == 2),
        (oat - p.eps_oat > sp - p.dt_supply_fan + p.eps_sat, state == 2),
        (np.abs(mat - oat) > e_mo, state == 3),
        (oat + p.eps_oat < sp - p.dt_supply_fan - p.eps_sat, state == 3),
        (sat - p.eps_sat - p.dt_supply_fan >= mat + p.eps_mat, (state >= 2) & (state <= 4)),
        ((sat > sp + p.eps_sat) & (x["cooling"] >= p.valve_full), (state == 3) | (state == 4)),
        (mat + p.dt_supply_fan - sat >= e_sm, (state == 1) | (state == 2)),
        (sat - p.dt_supply_fan - mat >= e_sm, (state >= 2) & (state <= 4)),
    ]
    total = 0
    for cond, gate in conds:
        share = _roll((cond & gate).astype(np.float64), w)
        total += int(np.count_nonzero(share >= p.persistence))
    return total


def batch(raw: dict[str, np.ndarray], p: G36Params) -> int:
    result = evaluate(raw, p)
    return sum(int(a.sum()) for a in result.active.values())


def live_cost(raw: dict[str, np.ndarray], samples: int) -> float:
    """CPU seconds per sample of one AHU through LiveUnit (the engine's work per AHU per minute)."""
    unit = LiveUnit(raw.keys(), P)
    rows = [{k: float(v[i]) for k, v in raw.items()} for i in range(samples)]
    start = time.process_time()
    for i, row in enumerate(rows):
        unit.sample(i * 60.0, row)
    return (time.process_time() - start) / samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ahus", type=int, default=10)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    n = args.days * 1440
    units = [synthetic(n, seed) for seed in range(args.ahus)]
    rows = n * args.ahus
    print(f"{args.ahus} AHUs x {args.days} days of 1-minute samples = {rows:,} rows, "
          f"{len(units[0])} inputs, {len([r for r in RULES if not r.optional])} G36 rules")
    best_ours, best_floor = float("inf"), float("inf")
    ours_faults = floor_faults = 0
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        ours_faults = sum(batch(u, P) for u in units)
        t1 = time.perf_counter()
        floor_faults = sum(floor(u, P) for u in units)
        t2 = time.perf_counter()
        best_ours, best_floor = min(best_ours, t1 - t0), min(best_floor, t2 - t1)
    print(f"bms.fdd batch:   {best_ours:6.2f} s  {rows / best_ours / 1e6:6.2f} M rows/s  "
          f"({ours_faults:,} rule-samples in fault)")
    print(f"numpy floor:     {best_floor:6.2f} s  {rows / best_floor / 1e6:6.2f} M rows/s  "
          f"({floor_faults:,} rule-samples over the persistence share)")
    print(f"ratio: bms.fdd at {best_floor / best_ours:.0%} of the numpy floor's rate (goal >= 25%)")
    per_sample = live_cost(units[0], min(n, 20_000))
    print(f"live: {per_sample * 1e6:,.0f} us of CPU per AHU per minute (one sample, all rules); "
          f"{args.ahus} AHUs at one sample a minute: {per_sample * args.ahus / 60:.4%} of one core")


if __name__ == "__main__":
    main()
