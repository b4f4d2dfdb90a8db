"""Calendar periods in a site's time zone: 15-minute, hourly, daily, weekly and monthly boundaries.

Interval data are kept as 15-minute buckets keyed by their UTC epoch start (a multiple of 900 s);
longer periods are local: a day is midnight to midnight in the site's zone (23 or 25 hours on the
days the clocks change), a week starts on Monday, a month on its first day. ``boundaries`` gives the
epoch starts of every period touching a span, so grouping 15-minute buckets into days is a
``searchsorted`` (no time-zone call per bucket).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

Period = Literal["15m", "hour", "day", "week", "month"]
PERIODS: tuple[Period, ...] = ("15m", "hour", "day", "week", "month")
QUARTER = 900.0
HOUR = 3600.0

FloatArray = npt.NDArray[np.float64]


def _local_start(at: datetime, period: Period) -> datetime:
    if period == "hour":
        return at.replace(minute=0, second=0, microsecond=0)
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next(start: datetime, period: Period) -> datetime:
    if period == "hour":
        return start + timedelta(hours=1)
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)


def period_start(ts: float, period: Period, tz: ZoneInfo) -> float:
    """The epoch start of the ``period`` holding ``ts`` in zone ``tz``."""
    if period == "15m":
        return float(ts // QUARTER * QUARTER)
    if period == "hour":  # an hour is an hour in UTC too, except in zones offset by a part of an hour
        local = datetime.fromtimestamp(ts, tz)
        return local.replace(minute=0, second=0, microsecond=0).timestamp()
    return _wall(_local_start(datetime.fromtimestamp(ts, tz), period), tz)


def _wall(local: datetime, tz: ZoneInfo) -> float:
    """The epoch of a local wall-clock time (midnight that does not exist: the first instant after)."""
    naive = local.replace(tzinfo=None)
    return datetime(naive.year, naive.month, naive.day, naive.hour, naive.minute, tzinfo=tz).timestamp()


def period_end(start: float, period: Period, tz: ZoneInfo) -> float:
    """The epoch end of the period starting at ``start``."""
    if period == "15m":
        return start + QUARTER
    if period == "hour":
        return start + HOUR
    local = datetime.fromtimestamp(start, tz)
    return _wall(_next(_local_start(local, period), period), tz)


def boundaries(start: float, end: float, period: Period, tz: ZoneInfo) -> FloatArray:
    """Epoch starts of every ``period`` overlapping ``[start, end)``, and the end of the last one."""
    if period == "15m":
        first = start // QUARTER * QUARTER
        count = int(np.ceil((end - first) / QUARTER))
        return first + QUARTER * np.arange(count + 1, dtype=np.float64)
    out = [period_start(start, period, tz)]
    while out[-1] < end:
        out.append(period_end(out[-1], period, tz))
    if len(out) == 1:
        out.append(period_end(out[0], period, tz))
    return np.asarray(out, dtype=np.float64)


def label(start: float, period: Period, tz: ZoneInfo) -> str:
    """How a period is named in tables and CSV: 2026-11-03 14:15, 2026-11-03 14:00, 2026-11-03, 2026-W45, 2026-11."""
    local = datetime.fromtimestamp(start, tz)
    if period in ("15m", "hour"):
        return local.strftime("%Y-%m-%d %H:%M")
    if period == "day":
        return local.strftime("%Y-%m-%d")
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return local.strftime("%Y-%m")


def month_span(month: str, tz: ZoneInfo) -> tuple[float, float]:
    """``2026-11`` -> the epoch start and end of that month in ``tz``; ValueError naming the text otherwise."""
    try:
        first = datetime.strptime(month, "%Y-%m")
    except ValueError as err:
        raise ValueError(f"{month!r} is not a month (YYYY-MM)") from err
    start = _wall(first, tz)
    return start, period_end(start, "month", tz)


__all__ = ["PERIODS", "Period", "boundaries", "label", "month_span", "period_end", "period_start"]
