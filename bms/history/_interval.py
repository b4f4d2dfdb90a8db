"""IntervalLogger: which points are due for an interval sample, on each tick.

A point with ``history.interval`` N is sampled at every multiple of N
seconds of epoch time (60 -> each whole minute, 900 -> each quarter hour),
starting with the first boundary after it is configured. The sample is the
value in force at the boundary, stamped with the boundary. When ticks come
late and several boundaries passed, only the latest is recorded: repeating
a value for boundaries already missed would invent data. A point without
any value yet is skipped. COV logging needs no help: appending the
``ValueChanged`` values is enough (the COV filter runs upstream).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from bms.clock import Clock
from bms.errors import ConfigError
from bms.messages import PointValue


class _Track:
    __slots__ = ("current", "interval", "next_due", "previous")

    def __init__(self, interval: float, next_due: float) -> None:
        self.interval = interval
        self.next_due = next_due
        self.previous: PointValue | None = None
        self.current: PointValue | None = None


class IntervalLogger:
    """Per-point interval sampling over the latest values. Not thread-safe (one owner)."""

    def __init__(self, clock: Clock, intervals: Mapping[str, float] | None = None) -> None:
        self._clock = clock
        self._tracks: dict[str, _Track] = {}
        for point_id, interval in (intervals or {}).items():
            self.set_interval(point_id, interval)

    def set_interval(self, point_id: str, interval: float | None) -> None:
        """Sample ``point_id`` every ``interval`` seconds (None: stop)."""
        if interval is None:
            self._tracks.pop(point_id, None)
            return
        if not interval > 0 or math.isinf(interval):
            raise ConfigError(f"{point_id}: history.interval must be a positive number of seconds, not {interval}")
        old = self._tracks.get(point_id)
        now = self._clock.now()
        track = self._tracks[point_id] = _Track(interval, (math.floor(now / interval) + 1) * interval)
        if old is not None:
            track.previous, track.current = old.previous, old.current

    def intervals(self) -> dict[str, float]:
        """The configured intervals by point id."""
        return {p: t.interval for p, t in self._tracks.items()}

    def observe(self, values: Iterable[PointValue]) -> None:
        """Note the latest values (others than configured points are ignored)."""
        for value in values:
            track = self._tracks.get(value.point_id)
            if track is None:
                continue
            if track.current is None or value.ts >= track.current.ts:
                track.previous, track.current = track.current, value

    def due(self, now: float | None = None) -> list[PointValue]:
        """The samples whose boundary passed by ``now`` (default: the clock), one per point."""
        at = self._clock.now() if now is None else now
        out: list[PointValue] = []
        for point_id, track in self._tracks.items():
            if at < track.next_due:
                continue
            boundary = math.floor(at / track.interval) * track.interval
            track.next_due = boundary + track.interval
            value = self._in_force(track, boundary)
            if value is not None:
                out.append(PointValue(point_id, value.value, boundary, value.flags))
        return out

    @staticmethod
    def _in_force(track: _Track, boundary: float) -> PointValue | None:
        """The value in force at ``boundary``; None if the point had none yet.

        Only the last two values are kept: when both came after the boundary
        (two changes within one tick), the older of them stands in.
        """
        current, previous = track.current, track.previous
        if current is None or current.ts <= boundary:
            return current
        return previous
