"""The rules over recorded history: the retro-commissioning run (``bms fdd run --since 30d``).

Each bound role's history is read from history.db (raw samples, or the 15-minute / hourly rollups'
averages when the sample period is that long or longer), put on the sample grid (the last value at or
before each sample, for at most ``STALE`` samples), and run through :func:`~bms.fdd.evaluate` and the
generic rules. The result gives fault hours per rule and equipment (active while the unit runs) and
the fault periods, worst first, each with its explanation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from bms.fdd._binding import EquipBinding
from bms.fdd._evaluate import evaluate, explain
from bms.fdd._g36 import OFF, RULES, STATE_NAMES, Array, Flags
from bms.fdd._generic import GenericRule, run_generic
from bms.fdd._params import Library

STALE = 15  # samples a value stands for after it was recorded (COV points report seldom)


class SeriesSource:
    """Where the run reads a point's history: ``(point, start, end, tier) -> (ts, values)``."""

    def __init__(self, read: Callable[[str, float, float, str], tuple[Array, Array]]) -> None:
        self.read = read


def tier_for(sample: float) -> str:
    return "1h" if sample >= 3600 else "15m" if sample >= 900 else "raw"


def on_grid(ts: Array, values: Array, grid: Array, sample: float) -> Array:
    """The last value at or before each grid time, NaN when none within ``STALE`` samples."""
    if len(ts) == 0:
        return np.full(len(grid), np.nan)
    at = np.searchsorted(ts, grid, side="right") - 1
    found = np.where(at >= 0, values[np.maximum(at, 0)], np.nan)
    age = grid - ts[np.maximum(at, 0)]
    return np.where((at >= 0) & (age <= STALE * sample), found, np.nan)


@dataclass(frozen=True)
class Period:
    start: float
    end: float
    explanation: str

    @property
    def hours(self) -> float:
        return (self.end - self.start) / 3600.0


@dataclass
class Outcome:
    """One rule on one equipment over the run."""

    equip: str
    rule: str
    title: str
    hours: float
    periods: list[Period]
    roles: tuple[str, ...] = ()
    causes: tuple[str, ...] = ()


@dataclass
class RunResult:
    start: float
    end: float
    sample: float
    tier: str
    outcomes: list[Outcome] = field(default_factory=list)
    grids: dict[str, Array] = field(default_factory=dict)  # equip -> sample times
    inputs: dict[str, dict[str, Array]] = field(default_factory=dict)  # equip -> role -> values on the grid
    skipped: list[str] = field(default_factory=list)

    def faulted(self) -> list[Outcome]:
        return sorted((o for o in self.outcomes if o.hours > 0), key=lambda o: -o.hours)


def periods_of(active: Flags, grid: Array, sample: float) -> list[tuple[int, int]]:
    """(first, last) sample index of each run of ``active``."""
    edges = np.diff(np.concatenate(([0], active.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def run_history(source: SeriesSource, bindings: Sequence[EquipBinding], library: Library, start: float, end: float,
                generic: Sequence[GenericRule] = (), progress: Callable[[str], None] | None = None,
                tz: str = "UTC") -> RunResult:
    p = library.params
    tier = tier_for(p.sample)
    grid = np.arange(np.ceil(start / p.sample) * p.sample, end, p.sample)
    result = RunResult(start, end, p.sample, tier)
    lookback = STALE * p.sample
    for b in bindings:
        raw: dict[str, Array] = {}
        for role, point in b.roles.items():
            ts, values = source.read(point, start - lookback, end, tier)
            raw[role] = on_grid(ts, values, grid, p.sample)
        if progress is not None:
            progress(b.equip)
        rules = [r for r in RULES if r.id in b.runnable]
        if not rules:
            result.skipped.append(f"{b.equip}: no rule can run (missing {', '.join(b.missing)})")
            continue
        batch = evaluate(raw, p, rules)
        result.grids[b.equip] = grid
        result.inputs[b.equip] = {**raw, "state": batch.state.astype(np.float64)}
        running = batch.state != OFF
        w = p.samples(p.window)
        for r in rules:
            active = batch.active.get(r.id)
            if active is None:
                continue
            spans = periods_of(active, grid, p.sample)
            periods = []
            for first, last in spans:
                lo = max(0, first - w + 1)
                means = {k: float(np.nanmean(v[lo:first + 1])) if np.isfinite(v[lo:first + 1]).any() else np.nan
                         for k, v in batch.inputs.items()}
                state = int(batch.state[first])
                periods.append(Period(float(grid[first]), float(grid[last]) + p.sample,
                                      explain(r, means, state, w * p.sample)))
            hours = float(np.count_nonzero(active & running)) * p.sample / 3600.0
            result.outcomes.append(Outcome(b.equip, r.id, r.title, hours, sorted(periods, key=lambda q: -q.hours),
                                           r.roles, r.causes))
    for g in generic:
        series: dict[str, Array] = {}
        for key, point in g.points.items():
            ts, values = source.read(point, start - lookback, end, tier)
            series[key] = on_grid(ts, values, grid, p.sample)
        if progress is not None:
            progress(g.name)
        active = run_generic(g, grid, series, tz)
        equip = next(iter(g.points.values())).split("/")[0]
        result.grids.setdefault(equip, grid)
        result.inputs.setdefault(equip, {}).update({g.points[k]: v for k, v in series.items()})
        periods = [Period(float(grid[a]), float(grid[z]) + p.sample,
                          f"{g.name}: {g.kind} rule on {', '.join(g.points.values())} held")
                   for a, z in periods_of(active, grid, p.sample)]
        result.outcomes.append(Outcome(equip, g.name, f"{g.kind} rule", float(active.sum()) * p.sample / 3600.0,
                                       sorted(periods, key=lambda q: -q.hours), tuple(g.points.values())))
    return result


def state_name(code: float) -> str:
    return STATE_NAMES.get(int(code), "?") if code == code else "?"


def reader_source(reader: object) -> SeriesSource:
    """A :class:`SeriesSource` over a :class:`bms.history.HistoryReader`."""
    from bms.history import HistoryReader

    assert isinstance(reader, HistoryReader)

    def read(point: str, start: float, end: float, tier: str) -> tuple[Array, Array]:
        if tier == "raw":
            rows = [(s.ts, float(s.value)) for s in reader.raw(point, start, end)
                    if isinstance(s.value, int | float)]
        else:
            series = reader.rollup(point, start, end, tier)  # type: ignore[arg-type]
            rows = [(b.ts, b.avg) for b in series.buckets]
        if not rows:
            return np.empty(0), np.empty(0)
        arr = np.array(rows, dtype=np.float64)
        return arr[:, 0], arr[:, 1]

    return SeriesSource(read)


def counts(result: RunResult) -> Mapping[str, float]:
    """Fault hours per equipment."""
    found: dict[str, float] = {}
    for o in result.outcomes:
        found[o.equip] = found.get(o.equip, 0.0) + o.hours
    return found


__all__ = ["STALE", "Outcome", "Period", "RunResult", "SeriesSource", "counts", "on_grid", "periods_of",
           "reader_source", "run_history", "state_name", "tier_for"]
