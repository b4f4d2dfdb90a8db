"""Keeping the rollup tiers in step with the raw samples, inside the insert's transaction.

Two ways, both exact:

* **increments** -- samples newer than anything recorded for their point are
  folded in Python into one aggregate per (point, 15-minute bucket), merged
  up into hours and days, and upserted (``ON CONFLICT DO UPDATE``: min, max,
  sum and count combine, ``last`` goes to the greater ts). A batch of 10,000
  one-minute samples of 10 points touches a few hundred buckets, not 30,000.
* **recompute** -- a bucket that got a late sample (out of order, or
  replacing a recorded one) is rebuilt: 15 minutes from the raw rows, an
  hour from its 15-minute buckets, a day from its hours, in that order and
  after the increments.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from bms.history._schema import TABLE, TIERS, WIDTH, RollupTier

Agg = list[float]
"""A bucket being built: ``[vmin, vmax, vsum, n, vlast, last_ts]`` (column order)."""

Key = tuple[int, float]
"""(point, bucket start)."""

_COLUMNS = "(point, bucket, vmin, vmax, vsum, n, vlast, last_ts)"


def _upsert_sql(tier: RollupTier) -> str:
    return (
        f"INSERT INTO {TABLE[tier]} {_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (point, bucket) DO UPDATE SET"
        " vmin = min(vmin, excluded.vmin), vmax = max(vmax, excluded.vmax),"
        " vsum = vsum + excluded.vsum, n = n + excluded.n,"
        " vlast = CASE WHEN excluded.last_ts >= last_ts THEN excluded.vlast ELSE vlast END,"
        " last_ts = max(last_ts, excluded.last_ts)"
    )


def _rebuild_sql(tier: RollupTier) -> str:
    """Rebuild bucket (?1 point, ?2 start) of ``tier`` from the tier below it."""
    width = WIDTH[tier]
    if tier == "15m":
        src, ts, lo, hi, total, n, last = "samples", "ts", "value", "value", "value", "count(value)", "value"
        where = f"point = ?1 AND ts >= ?2 AND ts < ?2 + {width} AND typeof(value) IN ('integer', 'real')"
    else:
        src = TABLE[TIERS[TIERS.index(tier) - 1]]
        ts, lo, hi, total, n, last = "last_ts", "vmin", "vmax", "vsum", "sum(n)", "vlast"
        where = f"point = ?1 AND bucket >= ?2 AND bucket < ?2 + {width}"
    return (
        f"INSERT INTO {TABLE[tier]} {_COLUMNS}"
        f" SELECT ?1, ?2, min({lo}), max({hi}), sum({total}), {n},"
        f" (SELECT {last} FROM {src} WHERE {where} ORDER BY {ts} DESC LIMIT 1), max({ts})"
        f" FROM {src} WHERE {where} HAVING count(*) > 0"
    )


_UPSERT = {tier: _upsert_sql(tier) for tier in TIERS}
_REBUILD = {tier: _rebuild_sql(tier) for tier in TIERS}
_CLEAR = {tier: f"DELETE FROM {TABLE[tier]} WHERE point = ? AND bucket = ?" for tier in TIERS}


def merge_up(aggs: dict[Key, Agg], width: int) -> dict[Key, Agg]:
    """Merge buckets into the enclosing ``width``-second buckets."""
    out: dict[Key, Agg] = {}
    for (point, start), a in aggs.items():
        key = (point, start - start % width)
        o = out.get(key)
        if o is None:
            out[key] = a.copy()
            continue
        if a[0] < o[0]:
            o[0] = a[0]
        if a[1] > o[1]:
            o[1] = a[1]
        o[2] += a[2]
        o[3] += a[3]
        if a[5] >= o[5]:
            o[4] = a[4]
            o[5] = a[5]
    return out


def add_increments(cur: sqlite3.Cursor, aggs15: dict[Key, Agg]) -> None:
    """Upsert the 15-minute aggregates of a batch and their hours and days."""
    aggs = aggs15
    for tier in TIERS:
        if tier != "15m":
            aggs = merge_up(aggs, WIDTH[tier])
        cur.executemany(_UPSERT[tier], [(p, b, *a) for (p, b), a in aggs.items()])


def rebuild(cur: sqlite3.Cursor, dirty: Iterable[Key]) -> None:
    """Recompute the 15-minute buckets ``dirty`` and the hours and days holding them."""
    keys = set(dirty)
    for tier in TIERS:
        width = WIDTH[tier]
        keys = {(p, b - b % width) for p, b in keys}
        rows = sorted(keys)
        cur.executemany(_CLEAR[tier], rows)
        cur.executemany(_REBUILD[tier], rows)
