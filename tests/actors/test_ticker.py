"""Ticker on a manual clock: ticks at intervals, drift-corrected."""

from __future__ import annotations

import threading
from collections.abc import Callable

from actors import BmsActor, ChildSpec, Context, handles
from bms.clock import ManualClock
from bms.messages import Tick
from bms.ticks import TickSchedule
from tests.conftest import wait_until


class Counter(BmsActor):
    ticks: list[Tick] = []

    @handles(Tick)
    def on_tick(self, tick: Tick) -> None:
        Counter.ticks.append(tick)


def test_ticks_follow_the_manual_clock(ctx: Context, clock: ManualClock) -> None:
    Counter.ticks = []
    ref = ctx.supervisor.start_child(ChildSpec("counter", Counter))
    assert ref is not None
    start = clock.monotonic()
    ctx.ticker.every(10.0, ref, "poll")
    assert clock.wait_for_waiters(1)
    assert Counter.ticks == []
    clock.advance(10.0)
    wait_until(lambda: len(Counter.ticks) == 1, what="first tick")
    clock.advance(25.0)  # 2.5 intervals late: one tick now, the missed one skipped
    wait_until(lambda: len(Counter.ticks) == 2, what="second tick")
    assert [t.due - start for t in Counter.ticks] == [10.0, 20.0]
    clock.advance(5.0)  # t=40: back on the grid
    wait_until(lambda: len(Counter.ticks) == 3, what="third tick")
    assert Counter.ticks[-1].due - start == 40.0
    assert all(t.timer == "poll" for t in Counter.ticks)


def test_schedule_is_drift_corrected() -> None:
    s = TickSchedule()
    s.add("a", 1.0, first_due=1.0)
    s.add("b", 2.5, first_due=2.5)
    fired = []
    for now in (1.05, 2.0, 2.6, 3.1, 4.2):
        fired += s.pop_due(now)
    # late polls (1.05, 2.6, 3.1) do not move the grid
    assert fired == [("a", 1.0), ("a", 2.0), ("b", 2.5), ("a", 3.0), ("a", 4.0)]
    assert s.next_due() == 5.0
    assert s.skipped == {}


def test_schedule_skips_a_burst_after_a_stall() -> None:
    s = TickSchedule()
    s.add("a", 1.0, first_due=1.0)
    assert s.pop_due(100.5) == [("a", 1.0)]
    assert s.skipped["a"] == 99
    assert s.next_due() == 101.0
    s.remove("a")
    assert s.next_due() is None and len(s) == 0


class _RacingWake(threading.Event):
    """The ticker's wake-up event; its first ``clear`` after arming lets a timer be added just before it runs."""

    def __init__(self) -> None:
        super().__init__()
        self.race: Callable[[], None] | None = None

    def clear(self) -> None:
        race, self.race = self.race, None
        if race is not None:
            adder = threading.Thread(target=race)
            adder.start()
            adder.join()
        super().clear()


def test_a_timer_added_while_the_ticker_goes_to_sleep_is_not_missed(ctx: Context, clock: ManualClock) -> None:
    Counter.ticks = []
    ref = ctx.supervisor.start_child(ChildSpec("counter", Counter))
    assert ref is not None
    wake = _RacingWake()
    ctx.ticker._wake = wake
    ctx.ticker.every(1000.0, ref, "far")
    assert clock.wait_for_waiters(1)  # asleep until t+1000
    wake.race = lambda: ctx.ticker.every(1.0, ref, "near")
    ctx.ticker.cancel(("not", "a timer"))  # a poke: the ticker wakes, re-reads its schedule, races the add
    wait_until(lambda: wake.race is None, what="the race to run")
    assert clock.wait_for_waiters(1)
    clock.advance(1.0)
    wait_until(lambda: [t.timer for t in Counter.ticks] == ["near"], what="the timer added during the race to fire")


def test_a_wait_until_a_deadline_is_on_time_however_far_the_clock_moved_since_it_was_computed() -> None:
    clock = ManualClock(0.0)
    deadline = clock.monotonic() + 60.0  # worked out at t=0 ...
    clock.set(30.0)  # ... and the clock moves on before the wait begins (wait(60 - 0) would end at t=90)
    woke = threading.Event()
    waiter = threading.Thread(target=lambda: clock.wait_until(deadline) and woke.set())
    waiter.start()
    assert clock.wait_for_waiters(1)
    clock.set(60.0)
    assert woke.wait(5.0)
    waiter.join(5.0)
    assert ManualClock(100.0).wait_until(50.0)  # a deadline already passed: at once
    cancel = threading.Event()
    cancel.set()
    assert not ManualClock(0.0).wait_until(10.0, cancel)


def test_a_timer_armed_for_a_due_time_fires_at_it_although_the_clock_moved_while_it_was_worked_out(
        ctx: Context, clock: ManualClock) -> None:
    Counter.ticks = []
    ref = ctx.supervisor.start_child(ChildSpec("counter", Counter))
    assert ref is not None
    computed_at = clock.now()
    due = computed_at + 60.0  # an actor's next instant, from its reading of the clock
    clock.advance(59.0)  # the clock moves before the actor arms its timer
    ctx.ticker.every(60.0, ref, "due", first_at=due)
    assert clock.wait_for_waiters(1)
    clock.advance(1.0)  # the due time itself: a delay of 60 s from the arming would still be 59 s away
    wait_until(lambda: len(Counter.ticks) == 1, what="the tick at the due time")
    assert Counter.ticks[0].due == due
