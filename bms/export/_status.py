"""What a target says of itself: its state (idle, live, catching up, backfilling, error), buffer and rates."""

from __future__ import annotations

from collections import deque
from typing import Literal

import msgspec

TargetState = Literal["idle", "live", "catching up", "backfilling", "error"]


class BackfillProgress(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    id: str
    since: float
    until: float
    sent: int
    total: int
    done: bool
    rate: float = 0.0  # rows/s over the last seconds
    error: str = ""
    resumed: bool = False  # the answer to a new request: an earlier, unfinished backfill goes on instead


class TargetStatus(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One export target as ``bms export status`` and ``GET /api/export`` show it."""

    name: str
    kind: str  # influx, postgres
    state: TargetState
    reason: str = ""  # why it is in error (the target's own words)
    buffered: int = 0  # rows waiting in the outbox
    oldest_age: float = 0.0  # seconds the oldest buffered row has waited
    rate: float = 0.0  # rows/s written over the last seconds
    sent: int = 0  # rows written since the daemon started
    failures: int = 0  # failed attempts in a row
    last_sent: float | None = None
    backfill: BackfillProgress | None = None

    def summary(self) -> str:
        """One line for the health board (and so ``bms status``)."""
        text = f"{self.state}: {self.buffered} buffered"
        if self.buffered:
            text += f" (oldest {self.oldest_age:.0f} s)"
        text += f", {self.rate:.0f} rows/s"
        if self.backfill is not None and not self.backfill.done:
            text += f", backfill {self.backfill.sent}/{self.backfill.total}"
        if self.reason:
            text += f"; {self.reason}"
        return text


def state_of(*, error: str, backfilling: bool, buffered: int, batch: int, sent: int) -> TargetState:
    """The state: an error wins; then a running backfill; a backlog of more than a batch is catching up."""
    if error:
        return "error"
    if backfilling:
        return "backfilling"
    if buffered > batch:
        return "catching up"
    return "live" if sent else "idle"


class Throughput:
    """Rows per second over a sliding window of ``window`` seconds (times from the caller's clock)."""

    def __init__(self, window: float = 10.0) -> None:
        self.window = window
        self._events: deque[tuple[float, int]] = deque()
        self.total = 0

    def add(self, now: float, n: int) -> None:
        self._events.append((now, n))
        self.total += n
        self._trim(now)

    def rate(self, now: float) -> float:
        self._trim(now)
        if not self._events:
            return 0.0
        span = max(now - self._events[0][0], 1.0)
        return sum(n for _, n in self._events) / span

    def _trim(self, now: float) -> None:
        while self._events and self._events[0][0] < now - self.window:
            self._events.popleft()
