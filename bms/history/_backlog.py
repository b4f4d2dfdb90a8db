"""``Backlog``: values accepted for history that the database could not take yet.

While history.db cannot be written (disk full, locked by another process,
corrupt, read-only) the history store keeps what it was given here, in
arrival order, and writes it once the database takes writes again, so the
outage leaves no gap. The backlog is bounded: past ``max_values`` the
oldest values are dropped, counted, and their time span kept, so a loss is
never silent.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from bms.messages import PointValue


class Backlog:
    def __init__(self, max_values: int) -> None:
        if max_values < 1:
            raise ValueError(f"max_values must be at least 1, got {max_values}")
        self.max_values = max_values
        self._batches: deque[Sequence[PointValue]] = deque()
        self._head = 0  # values of the first batch already written
        self._held = 0
        self.lost = 0
        self.lost_from: float | None = None  # sample times of the values lost
        self.lost_to: float | None = None

    @property
    def held(self) -> int:
        return self._held

    def __bool__(self) -> bool:
        return self._held > 0

    def hold(self, values: Sequence[PointValue]) -> int:
        """Keep ``values`` after those held; returns how many old values were dropped to stay in bounds."""
        if not values:
            return 0
        self._batches.append(values)
        self._held += len(values)
        dropped = 0
        while self._held > self.max_values:
            first = self._batches[0]
            left = len(first) - self._head
            over = self._held - self.max_values
            n = min(left, over)
            self._lose(first[self._head:self._head + n])
            dropped += n
            self._held -= n
            if n == left:
                self._batches.popleft()
                self._head = 0
            else:
                self._head += n
        return dropped

    def _lose(self, values: Sequence[PointValue]) -> None:
        self.lost += len(values)
        for v in values:
            if self.lost_from is None or v.ts < self.lost_from:
                self.lost_from = v.ts
            if self.lost_to is None or v.ts > self.lost_to:
                self.lost_to = v.ts

    def oldest(self, limit: int) -> list[PointValue]:
        """Up to ``limit`` of the oldest values held (still held until :meth:`written`)."""
        out: list[PointValue] = []
        head = self._head
        for batch in self._batches:
            take = batch[head:head + (limit - len(out))]
            out.extend(take)
            head = 0
            if len(out) >= limit:
                break
        return out

    def written(self, n: int) -> None:
        """The ``n`` oldest values are on disk: forget them."""
        if n > self._held:
            raise ValueError(f"{n} values written but only {self._held} held")
        self._held -= n
        while n:
            first = self._batches[0]
            left = len(first) - self._head
            if n >= left:
                self._batches.popleft()
                self._head = 0
                n -= left
            else:
                self._head += n
                n = 0
