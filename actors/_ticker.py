"""The ticker: sends ``Tick`` messages to actors at their intervals.

One thread drives a drift-corrected :class:`~bms.ticks.TickSchedule` on the
platform clock; on a manual clock, ticks fire when a test advances time.
"""

from __future__ import annotations

import threading
from typing import Any, cast

import pykka

from bms.clock import Clock, ManualClock
from bms.logs import get_logger
from bms.messages import Tick
from bms.ticks import TickSchedule


class Ticker:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._schedule = TickSchedule()
        self._targets: dict[tuple[int, str], pykka.ActorRef[Any]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.log = get_logger("ticker")

    def every(self, interval: float, actor: pykka.ActorRef[Any], timer: str, first_in: float | None = None,
              first_at: float | None = None) -> tuple[int, str]:
        """Tick ``actor`` every ``interval`` s; the first tick after ``first_in`` (default: interval), or at
        ``first_at`` on the clock's wall time (``clock.now()``).

        ``first_at`` is for a due time computed from an earlier reading of the clock: a delay worked out
        from it would be late by however far the clock moved in between (a test's manual clock set by
        another thread). The monotonic time is read first, so a clock moving during the conversion makes
        the tick early (the actor looks and arms again), never late."""
        key = (id(actor), timer)
        with self._lock:
            mono = self.clock.monotonic()
            if first_at is not None:
                first = mono + (first_at - self.clock.now())
            else:
                first = mono + (interval if first_in is None else first_in)
            self._targets[key] = actor
            self._schedule.add(key, interval, first)
        self._ensure_thread()
        self._poke()
        return key

    def cancel(self, key: tuple[int, str]) -> None:
        with self._lock:
            self._schedule.remove(key)
            self._targets.pop(key, None)
        self._poke()

    def cancel_actor(self, actor: pykka.ActorRef[Any]) -> None:
        with self._lock:
            keys = [k for k, ref in self._targets.items() if ref is actor]
        for key in keys:
            self.cancel(key)

    def stop(self) -> None:
        self._stopping.set()
        self._poke()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None

    def _poke(self) -> None:
        self._wake.set()
        if isinstance(self.clock, ManualClock):
            self.clock.wake()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stopping.clear()
                self._thread = threading.Thread(target=self._run, name="bms-ticker", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            # clear the wake-up before reading the schedule: a timer added in between pokes it again,
            # and the wait below returns at once instead of waiting for the old due time
            self._wake.clear()
            with self._lock:
                nxt = self._schedule.next_due()
            now = self.clock.monotonic()
            if nxt is None:
                self._wake.wait(1.0)
                continue
            if nxt > now:
                # until the due time itself: a wait of `nxt - now` would be late by however far the clock
                # moved since `now` was read (a test's manual clock, set by another thread)
                self.clock.wait_until(nxt, self._wake)
                continue
            with self._lock:
                fired = self._schedule.pop_due(now)
                targets = [(self._targets.get(cast(tuple[int, str], key)), cast(tuple[int, str], key), due)
                           for key, due in fired]
            wall = self.clock.now()
            for ref, key, due in targets:
                if ref is None:
                    continue
                try:
                    ref.tell(Tick(timer=key[1], due=due, now=wall))
                except pykka.ActorDeadError:
                    self.cancel(key)
