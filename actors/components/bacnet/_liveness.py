"""Device liveness: when to poll a device next, when it is down, when it is back.

:class:`DeviceLiveness` is plain state on the bridge's event loop, driven by
poll outcomes and the clock's monotonic time. A device is polled every
``interval``; after ``down_after`` consecutive failed polls it is *down* and
polled with exponential backoff (interval x 2, x 4 ... up to
``max_backoff``), so a dead device costs little and never delays the others.
The first answer brings it back.
"""

from __future__ import annotations

import math


class DeviceLiveness:
    """Failures, backoff and down/recovered transitions of one device."""

    def __init__(self, interval: float, *, down_after: int = 3, max_backoff: float = 300.0) -> None:
        if interval <= 0:
            raise ValueError(f"poll interval must be > 0, got {interval}")
        self.interval = interval
        self.down_after = max(1, down_after)
        self.max_backoff = max(interval, max_backoff)
        self.failures = 0
        self.down_since: float | None = None
        self.next_due = -math.inf
        self.last_error = ""
        self.ever_answered = False

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def due(self, now: float) -> bool:
        return now >= self.next_due

    def started(self, now: float) -> None:
        """A poll starts now: the next one is an interval later (a failure may push it back)."""
        self.next_due = now + self.interval

    def succeeded(self, now: float) -> float | None:
        """The device answered. Returns how long it was down (seconds) if it just came back."""
        was_down = self.down_since
        self.failures = 0
        self.down_since = None
        self.last_error = ""
        self.ever_answered = True
        if self.next_due == -math.inf:
            self.next_due = now + self.interval
        return None if was_down is None else max(0.0, now - was_down)

    def failed(self, now: float, reason: str) -> bool:
        """The device did not answer. True if it has just gone down."""
        self.failures += 1
        self.last_error = reason
        self.next_due = now + self.backoff()
        if self.down_since is None and self.failures >= self.down_after:
            self.down_since = now
            return True
        return False

    def backoff(self) -> float:
        """Seconds to the next poll after the current number of failures."""
        over = self.failures - self.down_after + 1
        if over <= 0:
            return self.interval
        return float(min(self.max_backoff, self.interval * 2.0 ** min(over, 30)))
