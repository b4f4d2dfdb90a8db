"""Injectable time.

Everything with a delay, a window or a schedule takes a :class:`Clock`.
Production uses :class:`WallClock`; tests use :class:`ManualClock` and move
time with ``advance()``, so a 15-minute delay is tested in milliseconds.

``now()`` is epoch seconds (for timestamps), ``monotonic()`` is for
intervals. ``wait(seconds, cancel)`` blocks until that much clock time has
passed or ``cancel`` is set, ``wait_until(deadline, cancel)`` until
``monotonic()`` reaches ``deadline``; on a manual clock they return when a
test advances time far enough.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...

    def monotonic(self) -> float: ...

    def wait(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        """Wait ``seconds`` of clock time. False if ``cancel`` was set first."""
        ...

    def wait_until(self, deadline: float, cancel: threading.Event | None = None) -> bool:
        """Wait until ``monotonic()`` reaches ``deadline``. False if ``cancel`` was set first.

        For a deadline computed from an earlier reading of the clock: ``wait(deadline - then)`` would
        be late by however far the clock moved since ``then``."""
        ...


class WallClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def wait(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        if seconds <= 0:
            return not (cancel is not None and cancel.is_set())
        if cancel is None:
            time.sleep(seconds)
            return True
        return not cancel.wait(seconds)

    def wait_until(self, deadline: float, cancel: threading.Event | None = None) -> bool:
        return self.wait(deadline - time.monotonic(), cancel)


class ManualClock:
    """A clock that moves only when told to. Thread-safe.

    ``now()`` and ``monotonic()`` both start at ``start`` and move together.
    Threads blocked in ``wait()`` wake when ``advance()`` passes their
    deadline; ``waiters()`` tells a test how many are blocked, so it can
    wait for a thread to reach its wait before advancing.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._t = float(start)
        self._cond = threading.Condition()
        self._waiting = 0

    def now(self) -> float:
        with self._cond:
            return self._t

    def monotonic(self) -> float:
        return self.now()

    def advance(self, seconds: float) -> float:
        with self._cond:
            self._t += seconds
            self._cond.notify_all()
            return self._t

    def set(self, t: float) -> None:
        with self._cond:
            self._t = float(t)
            self._cond.notify_all()

    def waiters(self) -> int:
        with self._cond:
            return self._waiting

    def wait_for_waiters(self, n: int = 1, timeout: float = 5.0) -> bool:
        """Block (real time) until ``n`` threads are waiting on this clock."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._waiting < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
            return True

    def wake(self) -> None:
        """Wake waiters so they re-check their cancel events."""
        with self._cond:
            self._cond.notify_all()

    def wait(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        with self._cond:
            return self._wait_until(self._t + seconds, cancel)

    def wait_until(self, deadline: float, cancel: threading.Event | None = None) -> bool:
        with self._cond:
            return self._wait_until(deadline, cancel)

    def _wait_until(self, deadline: float, cancel: threading.Event | None) -> bool:
        """The wait itself; the caller holds ``_cond``."""
        self._waiting += 1
        self._cond.notify_all()
        try:
            while self._t < deadline:
                if cancel is not None and cancel.is_set():
                    return False
                # a short real-time timeout lets a cancel set elsewhere be seen
                self._cond.wait(0.05)
            return not (cancel is not None and cancel.is_set())
        finally:
            self._waiting -= 1
            self._cond.notify_all()
