"""The read side without I/O: each query is a *plan*, a generator that yields
``(sql, params)`` and receives the rows, so the blocking and the asyncio
reader run exactly the same steps.

Ranges are half-open, ``[start, end)``. A rollup returns the buckets that
start in ``[start floored to the bucket, end)``. Unknown points give empty
answers: whether a point exists is the model's business, not history's.

Automatic tier (``tier=None``): :func:`choose_tier` by span, then, if that
tier's retention has already dropped part of the range for this point, the
next coarser tier that still covers ``start``; a point with no numbers
(only text) stays raw.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from typing import Any

from bms.errors import SchemaTooNew, StoreError
from bms.history._csv import RAW_HEADER, ROLLUP_HEADER, bucket_line, sample_line
from bms.history._schema import STORE, TABLE, TIERS, VERSION, WIDTH, RollupTier, Tier, bucket_start
from bms.history._series import Bucket, PointSummary, RawSample, Series, choose_tier

Query = tuple[str, tuple[Any, ...]]
Rows = Sequence[Sequence[Any]]

PAGE = 5000
"""Rows per statement when streaming (CSV)."""

_POINT = "point = (SELECT id FROM points WHERE point_id = ?)"
_RAW = f"SELECT ts, value FROM samples WHERE {_POINT} AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?"
_LAST = f"SELECT ts, value FROM samples WHERE {_POINT} ORDER BY ts DESC LIMIT ?"
_ROLLUP = {
    tier: f"SELECT bucket, vmin, vmax, vsum / n, vlast, n FROM {TABLE[tier]}"
    f" WHERE {_POINT} AND bucket >= ? AND bucket < ? ORDER BY bucket LIMIT ?"
    for tier in TIERS
}
_POINTS = "SELECT point_id, count, first_ts, last_ts FROM points ORDER BY point_id"
_COVERAGE = (
    "SELECT since, first_ts, "
    + ", ".join(f"(SELECT min(bucket) FROM {TABLE[t]} WHERE point = p.id)" for t in TIERS)
    + " FROM points AS p WHERE point_id = ?"
)
_ORDER: tuple[Tier, ...] = ("raw", *TIERS)


def _limit(limit: int | None) -> int:
    if limit is not None and limit < 0:
        raise ValueError("limit must not be negative")
    return -1 if limit is None else limit


def raw_query(point_id: str, start: float, end: float, limit: int | None = None) -> Query:
    return _RAW, (point_id, start, end, _limit(limit))


def rollup_query(point_id: str, tier: RollupTier, start: float, end: float, limit: int | None = None) -> Query:
    return _ROLLUP[tier], (point_id, bucket_start(start, WIDTH[tier]), end, _limit(limit))


def samples(rows: Rows) -> list[RawSample]:
    return [RawSample(ts, value) for ts, value in rows]


def buckets(rows: Rows) -> list[Bucket]:
    return [Bucket(*row) for row in rows]


def auto_tier(start: float, end: float, coverage: Sequence[Any] | None) -> Tier:
    """The tier for ``[start, end)`` given the point's ``(since, first raw ts, first bucket per tier)``."""
    chosen = choose_tier(start, end)
    if coverage is None or coverage[0] is None:
        return chosen
    since, earliest = coverage[0], dict(zip(_ORDER, coverage[1:], strict=True))
    if all(earliest[t] is None for t in TIERS):
        return "raw"
    for tier in _ORDER[_ORDER.index(chosen):]:
        width = 0 if tier == "raw" else WIDTH[tier]
        need = max(start, since)
        if width:
            need = bucket_start(need, width)
        first = earliest[tier]
        if first is not None and first <= need:
            return tier
    return chosen


def tier_plan(point_id: str, start: float, end: float, tier: Tier | None) -> Generator[Query, Rows, Tier]:
    """Resolve ``tier`` (None: automatic)."""
    if tier is not None:
        if tier not in _ORDER:
            raise ValueError(f"unknown history tier {tier!r} (one of raw, 15m, 1h, 1d)")
        return tier
    rows = yield _COVERAGE, (point_id,)
    return auto_tier(start, end, rows[0] if rows else None)


def raw_plan(point_id: str, start: float, end: float, limit: int | None) -> Generator[Query, Rows, list[RawSample]]:
    return samples((yield raw_query(point_id, start, end, limit)))


def last_plan(point_id: str, n: int) -> Generator[Query, Rows, list[RawSample]]:
    rows = yield _LAST, (point_id, _limit(n))
    return samples(rows[::-1])


def points_plan() -> Generator[Query, Rows, list[PointSummary]]:
    return [PointSummary(*row) for row in (yield _POINTS, ())]


def series_plan(point_id: str, start: float, end: float, tier: Tier | None,
                limit: int | None) -> Generator[Query, Rows, Series]:
    chosen = yield from tier_plan(point_id, start, end, tier)
    if chosen == "raw":
        got = yield from raw_plan(point_id, start, end, limit)
        return Series(point_id, start, end, chosen, samples=tuple(got))
    rows = yield rollup_query(point_id, chosen, start, end, limit)
    return Series(point_id, start, end, chosen, buckets=tuple(buckets(rows)))


def page_query(point_id: str, tier: Tier, start: float, end: float) -> Query:
    """One page of a stream (CSV) from ``start``."""
    if tier == "raw":
        return raw_query(point_id, start, end, PAGE)
    return rollup_query(point_id, tier, start, end, PAGE)


def page_lines(tier: Tier, rows: Rows) -> list[str]:
    if tier == "raw":
        return [sample_line(s) for s in samples(rows)]
    return [bucket_line(b) for b in buckets(rows)]


def next_start(tier: Tier, rows: Rows) -> float | None:
    """Where the page after ``rows`` starts (None: ``rows`` was the last page)."""
    if len(rows) < PAGE:
        return None
    after = float(rows[-1][0])
    return math.nextafter(after, math.inf) if tier == "raw" else after + WIDTH[tier]


def header(tier: Tier) -> str:
    return RAW_HEADER if tier == "raw" else ROLLUP_HEADER


def check_plan(path: str) -> Generator[Query, Rows, None]:
    """Refuse a file without history, migrated by an older or written by a newer bms."""
    rows = yield "SELECT count(*) FROM sqlite_master WHERE name = 'bms_schema'", ()
    version = 0
    if rows[0][0]:
        rows = yield "SELECT version FROM bms_schema WHERE store = ?", (STORE,)
        version = int(rows[0][0]) if rows else 0
    if version > VERSION:
        raise SchemaTooNew(f"{path}: {STORE} schema version {version} is newer than this bms "
                           f"understands ({VERSION}); upgrade bms or use another data directory")
    if version < VERSION:
        raise StoreError(f"{path}: no {STORE} database of this bms (schema version {version}, "
                         f"expected {VERSION}); the history writer creates and migrates it")
