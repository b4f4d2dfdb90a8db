"""Interval data: 15-minute kWh rolled up into hours, days, weeks and months, and a meter hierarchy.

``rollup`` groups 15-minute buckets into local periods (see :mod:`._periods`); each period says how
many quarters it holds of how many it has, and whether it is *final*: its end has passed and the
meter has reported since (``covered_to`` at or after the end). A period that is not final is still
being filled as data arrive.

``Hierarchy``: meters arranged in a tree (site, building, equipment, end use); a node's
*unmetered* consumption is its own minus the sum of its children's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from bms.energy._periods import QUARTER, Period, boundaries

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Rollup:
    """Periods of one meter: starts, ends, kWh, quarters with data, quarters in the period, final."""

    starts: FloatArray
    ends: FloatArray
    kwh: FloatArray
    quarters: npt.NDArray[np.int64]
    expected: npt.NDArray[np.int64]
    final: npt.NDArray[np.bool_]


def rollup(starts: FloatArray, kwh: FloatArray, period: Period, tz: ZoneInfo, span: tuple[float, float],
           covered_to: float | None = None) -> Rollup:
    """15-minute buckets (their UTC starts) summed into the ``period`` s overlapping ``span``."""
    edges = boundaries(span[0], span[1], period, tz)
    starts = np.asarray(starts, dtype=np.float64)
    kwh = np.asarray(kwh, dtype=np.float64)
    inside = (starts >= edges[0]) & (starts < edges[-1])
    idx = np.searchsorted(edges, starts[inside], side="right") - 1
    count = len(edges) - 1
    sums = np.asarray(np.bincount(idx, weights=kwh[inside], minlength=count)[:count], dtype=np.float64)
    quarters = np.bincount(idx, minlength=count)[:count].astype(np.int64)
    expected = np.round(np.diff(edges) / QUARTER).astype(np.int64)
    ends = edges[1:]
    final = ends <= covered_to if covered_to is not None else np.zeros(count, dtype=bool)
    return Rollup(edges[:-1], ends, sums, quarters, expected, np.asarray(final, dtype=bool))


class Hierarchy:
    """Meters in a tree: ``parents`` maps a meter to its parent (None at the top)."""

    def __init__(self, parents: Mapping[str, str | None]) -> None:
        self.parents = dict(parents)
        self.children: dict[str, list[str]] = {m: [] for m in self.parents}
        for meter, parent in self.parents.items():
            if parent is not None:
                self.children.setdefault(parent, []).append(meter)

    def problems(self) -> list[str]:
        out = [f"{m}: parent {p!r} is not a meter" for m, p in self.parents.items()
               if p is not None and p not in self.parents]
        for meter in self.parents:
            seen = {meter}
            parent = self.parents.get(meter)
            while parent is not None and parent in self.parents:
                if parent in seen:
                    out.append(f"{meter}: its parents make a loop")
                    break
                seen.add(parent)
                parent = self.parents.get(parent)
        return out

    def under(self, node: str) -> list[str]:
        """``node`` and every meter below it, depth first."""
        out = [node]
        for child in sorted(self.children.get(node, ())):
            out += self.under(child)
        return out

    def depth(self, meter: str) -> int:
        d, parent = 0, self.parents.get(meter)
        while parent is not None:
            d, parent = d + 1, self.parents.get(parent)
        return d

    def unmetered(self, totals: Mapping[str, float]) -> dict[str, float]:
        """Per meter with children: its kWh minus its children's (the consumption no sub-meter sees)."""
        return {m: totals.get(m, 0.0) - sum(totals.get(c, 0.0) for c in kids)
                for m, kids in self.children.items() if kids}


def merge(parts: Iterable[tuple[FloatArray, FloatArray]]) -> tuple[FloatArray, FloatArray]:
    """Sum several meters' 15-minute series into one (by interval start)."""
    starts: list[FloatArray] = []
    values: list[FloatArray] = []
    for s, v in parts:
        starts.append(np.asarray(s, dtype=np.float64))
        values.append(np.asarray(v, dtype=np.float64))
    if not starts:
        return np.empty(0), np.empty(0)
    all_s = np.concatenate(starts)
    keys, inverse = np.unique(all_s, return_inverse=True)
    return keys, np.asarray(np.bincount(inverse, weights=np.concatenate(values)), dtype=np.float64)


__all__ = ["Hierarchy", "Rollup", "merge", "rollup"]
