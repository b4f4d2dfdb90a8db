"""Fixtures and helpers of the history store tests: real SQLite files in tmp_path."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from bms.clock import ManualClock
from bms.history import HistoryReader, HistoryWriter
from bms.messages import PointValue, Value

T0 = 1_700_006_400.0
"""A UTC midnight (2023-11-15T00:00:00Z)."""

WIDTHS = {"15m": 900, "1h": 3600, "1d": 86400}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "history.db"


@pytest.fixture
def writer(db: Path) -> Iterator[HistoryWriter]:
    with HistoryWriter(db, clock=ManualClock(T0)) as w:
        yield w


@pytest.fixture
def reader(writer: HistoryWriter, db: Path) -> Iterator[HistoryReader]:
    with HistoryReader(db) as r:
        yield r


def pv(point_id: str, value: Value, ts: float) -> PointValue:
    return PointValue(point_id, value, ts)


BucketTuple = tuple[float, float, float, float, float, int]


def expected_buckets(series: Mapping[float, Value], width: int) -> list[BucketTuple]:
    """(start, min, max, avg, last, count) per bucket of the numbers in ``series``, by brute force."""
    groups: dict[float, list[tuple[float, float]]] = {}
    for ts, value in sorted(series.items()):
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, int | float) and math.isfinite(value):
            groups.setdefault(ts - ts % width, []).append((ts, float(value)))
    out = []
    for start, rows in sorted(groups.items()):
        nums = [v for _, v in rows]
        out.append((start, min(nums), max(nums), sum(nums) / len(nums), rows[-1][1], len(nums)))
    return out


def bucket_tuples(reader: HistoryReader, point_id: str, tier: str, start: float = 0.0, end: float = 4e9) -> list[BucketTuple]:
    series = reader.rollup(point_id, start, end, tier)  # type: ignore[arg-type]
    return [(b.ts, b.min, b.max, b.avg, b.last, b.count) for b in series.buckets]


def assert_rollups_match(reader: HistoryReader, point_id: str, series: Mapping[float, Value]) -> None:
    """Every tier of ``point_id`` equals the brute-force buckets of ``series`` (avg to 1e-9)."""
    for tier, width in WIDTHS.items():
        got = bucket_tuples(reader, point_id, tier)
        want = expected_buckets(series, width)
        assert [g[:3] + g[4:] for g in got] == [w[:3] + w[4:] for w in want], tier
        assert [g[3] for g in got] == pytest.approx([w[3] for w in want], rel=1e-9), tier
