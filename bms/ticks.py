"""Drift-corrected periodic timers, as a pure schedule.

Each timer fires at ``start + k * interval``: a late tick does not push the
next one later (no drift). A timer that fell more than one interval behind
(a stalled process, a suspended machine) skips the missed ticks and counts
them instead of firing a burst.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Hashable


class TickSchedule:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Hashable]] = []
        self._timers: dict[Hashable, tuple[float, int]] = {}  # key -> (interval, generation)
        self._gen = itertools.count()
        self.skipped: dict[Hashable, int] = {}

    def add(self, key: Hashable, interval: float, first_due: float) -> None:
        if interval <= 0:
            raise ValueError(f"timer {key!r}: interval must be > 0, got {interval}")
        gen = next(self._gen)
        self._timers[key] = (interval, gen)
        heapq.heappush(self._heap, (first_due, gen, key))

    def remove(self, key: Hashable) -> None:
        self._timers.pop(key, None)

    def __len__(self) -> int:
        return len(self._timers)

    def next_due(self) -> float | None:
        self._discard_stale()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> list[tuple[Hashable, float]]:
        """Timers due at ``now`` as (key, due time); reschedules each one."""
        fired: list[tuple[Hashable, float]] = []
        while True:
            self._discard_stale()
            if not self._heap or self._heap[0][0] > now:
                return fired
            due, gen, key = heapq.heappop(self._heap)
            interval = self._timers[key][0]
            fired.append((key, due))
            nxt = due + interval
            if nxt <= now:  # fell behind by more than one interval: skip, don't burst
                missed = math.floor((now - nxt) / interval) + 1
                self.skipped[key] = self.skipped.get(key, 0) + missed
                nxt += missed * interval
            heapq.heappush(self._heap, (nxt, gen, key))

    def _discard_stale(self) -> None:
        while self._heap:
            _, gen, key = self._heap[0]
            timer = self._timers.get(key)
            if timer is not None and timer[1] == gen:
                return
            heapq.heappop(self._heap)
