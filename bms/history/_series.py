"""What the history store answers with: samples, buckets, series, point summaries."""

from __future__ import annotations

import msgspec

from bms.history._schema import Tier
from bms.messages import Value

DAY = 86400.0

#: The automatic tier: the finest whose span limit (seconds) is not exceeded.
AUTO_SPAN: tuple[tuple[Tier, float], ...] = (
    ("raw", 2 * DAY),
    ("15m", 60 * DAY),
    ("1h", 730 * DAY),
)


class RawSample(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One recorded value: a number (bools as 0/1), a state name, or None."""

    ts: float
    value: Value


class Bucket(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One rollup period of the numeric samples; ``ts`` is the period's start."""

    ts: float
    min: float
    max: float
    avg: float
    last: float
    count: int


class Series(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A point over ``[start, end)``: ``samples`` when ``tier`` is raw, else ``buckets``."""

    point_id: str
    start: float
    end: float
    tier: Tier
    samples: tuple[RawSample, ...] = ()
    buckets: tuple[Bucket, ...] = ()


class PointSummary(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A recorded point: raw samples kept and their time range (None when all pruned)."""

    point_id: str
    count: int
    first_ts: float | None
    last_ts: float | None


def choose_tier(start: float, end: float) -> Tier:
    """The tier for a span by length alone: raw up to 2 days, 15m up to 60 days,
    1h up to 2 years, 1d beyond (a few thousand points at most per series)."""
    span = end - start
    for tier, limit in AUTO_SPAN:
        if span <= limit:
            return tier
    return "1d"
