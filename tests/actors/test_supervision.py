"""Supervision: failures restart the actor in place, nothing queued is lost."""

from __future__ import annotations

import threading

import pykka
import pytest

from actors import BmsActor, ChildSpec, Context, handles
from actors._registry import LOSSLESS, merged
from bms.clock import ManualClock
from bms.errors import Conflict, StoreError, WriteRefused
from bms.messages import ActorFailed, ActorRestarted, HealthChanged, Message, PointValue, ValueChanged
from bms.supervision import Decision, RestartPolicy, RestartTracker
from tests.conftest import wait_until


class Job(Message, frozen=True):
    n: int


class Recorder(BmsActor):
    """Processes Jobs; raises on the numbers in ``fail_on`` (once each)."""

    def __init__(self, name: str, ctx: Context, fail_on: set[int], seen: list[int],
                 setups: list[int], fail_setup: int = 0, done: threading.Event | None = None) -> None:
        super().__init__(name, ctx)
        self.fail_on = fail_on
        self.seen = seen
        self.setups = setups
        self.fail_setup = fail_setup
        self.done = done

    def setup(self) -> None:
        self.setups.append(len(self.setups))
        if self.fail_setup > 0:
            self.fail_setup -= 1
            raise RuntimeError("store unavailable")

    @handles(Job)
    def job(self, msg: Job) -> int:
        if msg.n == -101 and msg.n in self.fail_on:  # a store error that goes away
            self.fail_on.discard(msg.n)
            raise StoreError("store.db: cannot write: database is locked")
        if msg.n in self.fail_on:
            self.fail_on.discard(msg.n)
            raise RuntimeError(f"boom on {msg.n}")
        if msg.n == -100:
            raise StoreError("store.db: cannot write: disk I/O error")
        if msg.n == -3:
            raise Conflict("already there")
        if msg.n < 0:
            raise WriteRefused("p", "negative")
        self.seen.append(msg.n)
        if self.done is not None and msg.n == 9:
            self.done.set()
        return msg.n * 2


class Events(BmsActor):
    def __init__(self, name: str, ctx: Context, out: list[Message]) -> None:
        super().__init__(name, ctx)
        self.out = out

    @handles(ActorFailed, ActorRestarted, HealthChanged)
    def on_event(self, msg: Message) -> None:
        self.out.append(msg)


def _start(ctx: Context, policy: RestartPolicy = RestartPolicy(), **kw: object) -> tuple[pykka.ActorRef, list[int], list[int]]:
    seen: list[int] = []
    setups: list[int] = []
    kwargs = dict(fail_on=kw.pop("fail_on", set()), seen=seen, setups=setups, **kw)
    ref = ctx.supervisor.start_child(ChildSpec("worker", Recorder, kwargs, policy))
    assert ref is not None
    return ref, seen, setups


def test_failure_on_third_of_ten_loses_nothing(ctx: Context) -> None:
    events: list[Message] = []
    ev = ctx.supervisor.start_child(ChildSpec("events", Events, dict(out=events)))
    assert ev is not None
    for t in (ActorFailed, ActorRestarted):
        ctx.registry.subscribe(t, ev, LOSSLESS)
    done = threading.Event()
    ref, seen, setups = _start(ctx, fail_on={2}, done=done)
    for n in range(10):
        ref.tell(Job(n))
    assert done.wait(5)
    assert seen == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]  # Job(2) is handled again after the restart
    assert setups == [0, 1]  # state rebuilt once
    status = ctx.health.get("worker")
    assert status is not None and status.restarts == 1 and status.state == "Healthy"
    assert "boom on 2" in status.last_error
    wait_until(lambda: len(events) >= 2, what="failure events")
    failed = [e for e in events if isinstance(e, ActorFailed)]
    assert failed[0].component == "worker" and failed[0].message_type == "Job"
    assert any(isinstance(e, ActorRestarted) for e in events)


def test_ask_gets_exception_back_and_actor_lives(ctx: Context) -> None:
    ref, seen, _ = _start(ctx, fail_on={1})
    with pytest.raises(RuntimeError, match="boom on 1"):
        ref.ask(Job(1), timeout=5)
    assert ref.ask(Job(4), timeout=5) == 8


def test_refusal_is_not_a_failure(ctx: Context) -> None:
    ref, _, setups = _start(ctx)
    with pytest.raises(WriteRefused):
        ref.ask(Job(-1), timeout=5)
    ref.tell(Job(-2))
    assert ref.ask(Job(3), timeout=5) == 6
    assert setups == [0]
    status = ctx.health.get("worker")
    assert status is not None and status.failures == 0


def test_a_conflict_is_a_refusal_too(ctx: Context) -> None:
    ref, _, setups = _start(ctx)
    with pytest.raises(Conflict):
        ref.ask(Job(-3), timeout=5)
    assert ref.ask(Job(3), timeout=5) == 6
    assert setups == [0]


def test_a_store_error_is_a_failure_not_a_refusal(ctx: Context) -> None:
    ref, seen, setups = _start(ctx, RestartPolicy(max_restarts=5, within=60, backoff_initial=0.0), fail_on={-101})
    with pytest.raises(StoreError, match="disk I/O error"):  # the caller still gets it
        ref.ask(Job(-100), timeout=5)
    ref.tell(Job(-101))  # an event: handled again after the restart (then refused as negative)
    assert ref.ask(Job(5), timeout=5) == 10
    assert setups == [0, 1, 2]  # restarted (state rebuilt from its store) after each
    status = ctx.health.get("worker")
    assert status is not None and status.failures == 2 and status.restarts == 2
    assert "database is locked" in status.last_error


def test_an_event_that_fails_again_after_the_restart_is_dropped_counted_and_the_actor_goes_on(ctx: Context) -> None:
    ref, seen, setups = _start(ctx, RestartPolicy(max_restarts=3, within=60, backoff_initial=0.0))
    ref.tell(Job(-100))  # the disk stays broken for this one
    ref.tell(Job(7))
    assert ref.ask(Job(8), timeout=5) == 16
    assert seen == [7, 8] and setups == [0, 1]
    status = ctx.health.get("worker")
    assert status is not None and status.state == "Healthy" and status.failures == 2 and status.lost == 1
    assert status.reason.startswith("a Job failed again after a restart and was dropped: StoreError(")


def test_a_store_that_stays_broken_ends_down_with_its_losses_counted(ctx: Context) -> None:
    ref, seen, setups = _start(ctx, RestartPolicy(max_restarts=3, within=60, backoff_initial=0.0))
    for _ in range(3):
        ref.tell(Job(-100))
    ref.tell(Job(7))
    wait_until(lambda: not ref.is_alive(), what="actor stopped")
    status = ctx.health.get("worker")
    assert status is not None and status.state == "Down" and "disk I/O error" in status.reason
    assert status.lost == 4 and seen == []  # every Job: two failed twice, two were queued when it stopped


def test_intensity_exceeded_marks_down(ctx: Context) -> None:
    policy = RestartPolicy(max_restarts=2, within=60, backoff_initial=0.0)
    ref, seen, _ = _start(ctx, policy, fail_on={1, 2, 3})
    for n in (1, 2, 3, 4):
        ref.tell(Job(n))
    wait_until(lambda: not ref.is_alive(), what="actor stopped")
    status = ctx.health.get("worker")
    assert status is not None and status.state == "Down"
    assert seen == [1, 2]  # each retried after its restart; Job(3) fails past the intensity
    assert "2 queued messages not processed" in status.reason  # Job(3) and Job(4), reported, not silently lost
    assert status.lost == 2


def test_escalation_calls_handler(ctx: Context) -> None:
    got: list[str] = []
    ctx.supervisor.on_escalate = lambda name, err: got.append(name)
    policy = RestartPolicy(strategy="escalate")
    ref, _, _ = _start(ctx, policy, fail_on={1})
    ref.tell(Job(1))
    wait_until(lambda: got == ["worker"], what="escalation")
    assert ctx.supervisor.escalated.is_set()


def test_backoff_waits_on_the_clock(ctx: Context, clock: ManualClock) -> None:
    policy = RestartPolicy(max_restarts=5, within=600, backoff_initial=10.0, backoff_factor=2.0)
    ref, seen, setups = _start(ctx, policy, fail_on={1, 2})
    ref.tell(Job(1))  # first failure: immediate restart
    ref.tell(Job(2))  # second failure: waits 10 s of clock time
    ref.tell(Job(3))
    assert clock.wait_for_waiters(1)
    assert seen == [1] and setups == [0, 1]  # Job(1) handled again after its restart
    clock.advance(9.9)
    assert clock.wait_for_waiters(1)  # still waiting
    assert seen == [1]
    clock.advance(0.2)
    wait_until(lambda: seen == [1, 2, 3], what="jobs after backoff")
    assert setups == [0, 1, 2]


def test_setup_failure_at_start_retries_then_runs(ctx: Context) -> None:
    ref, seen, setups = _start(ctx, RestartPolicy(backoff_initial=0.0), fail_setup=2)
    assert ref.ask(Job(5), timeout=5) == 10
    assert setups == [0, 1, 2]


def test_setup_failure_past_intensity_is_down_and_rest_runs(ctx: Context) -> None:
    seen: list[int] = []
    bad = ctx.supervisor.start_child(
        ChildSpec("broken", Recorder, dict(fail_on=set(), seen=[], setups=[], fail_setup=99),
                  RestartPolicy(max_restarts=1, backoff_initial=0.0))
    )
    assert bad is None
    status = ctx.health.get("broken")
    assert status is not None and status.state == "Down" and "store unavailable" in status.reason
    good = ctx.supervisor.start_child(ChildSpec("good", Recorder, dict(fail_on=set(), seen=seen, setups=[])))
    assert good is not None and good.ask(Job(1), timeout=5) == 2


def test_stop_all_stops_in_reverse_and_leaves_nothing(ctx: Context) -> None:
    _start(ctx)
    ctx.supervisor.start_child(ChildSpec("other", Recorder, dict(fail_on=set(), seen=[], setups=[])))
    assert ctx.supervisor.stop_all() == []
    assert pykka.ActorRegistry.get_all() == []


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        ([0], [Decision("restart", 0.0, 1)]),
        ([0, 1], [Decision("restart", 0.0, 1), Decision("restart", 1.0, 2)]),
        ([0, 1, 2], [Decision("restart", 0.0, 1), Decision("restart", 1.0, 2), Decision("restart", 2.0, 3)]),
        ([0, 1, 2, 3], [Decision("restart", 0.0, 1), Decision("restart", 1.0, 2), Decision("restart", 2.0, 3),
                        Decision("stop", 0.0, 4)]),
        ([0, 100], [Decision("restart", 0.0, 1), Decision("restart", 0.0, 1)]),  # window expired
    ],
)
def test_restart_tracker(times: list[float], expected: list[Decision]) -> None:
    tracker = RestartTracker(RestartPolicy(max_restarts=3, within=60, backoff_initial=1.0, backoff_factor=2.0))
    assert [tracker.on_failure(t) for t in times] == expected


def test_backoff_is_capped() -> None:
    tracker = RestartTracker(RestartPolicy(max_restarts=50, within=1e9, backoff_initial=1.0, backoff_max=5.0))
    delays = [tracker.on_failure(float(t)).delay for t in range(10)]
    assert delays[-1] == 5.0 and max(delays) == 5.0


class Listener(BmsActor):
    """Subscribes to Jobs in setup(); fails on the numbers in ``fail_on``; a restart's setup waits for ``release``."""

    def __init__(self, name: str, ctx: Context, fail_on: set[int], seen: list[int],
                 restarting: threading.Event, release: threading.Event) -> None:
        super().__init__(name, ctx)
        self.fail_on, self.seen, self.restarting, self.release = fail_on, seen, restarting, release
        self.setups = 0

    def setup(self) -> None:
        self.setups += 1
        if self.setups > 1:  # rebuilding state takes a while (a store reopening)
            self.restarting.set()
            assert self.release.wait(10)
        self.subscribe(Job)

    @handles(Job)
    def job(self, msg: Job) -> None:
        if msg.n in self.fail_on:
            self.fail_on.discard(msg.n)
            raise RuntimeError(f"boom on {msg.n}")
        self.seen.append(msg.n)


def test_what_is_published_while_an_actor_restarts_reaches_it(ctx: Context) -> None:
    seen: list[int] = []
    restarting, release = threading.Event(), threading.Event()
    ref = ctx.supervisor.start_child(ChildSpec("listener", Listener, {
        "fail_on": {1}, "seen": seen, "restarting": restarting, "release": release}))
    assert ref is not None
    ctx.registry.publish(Job(1))  # fails: torn down, then set up again
    assert restarting.wait(5)
    for n in range(2, 7):
        ctx.registry.publish(Job(n))  # published while the actor rebuilds its state
    release.set()
    wait_until(lambda: seen == [1, 2, 3, 4, 5, 6], what="the failed job again, then every job published meanwhile")
    assert len(ctx.registry.subscriptions()) == 1  # the same subscription, not a second one
    ctx.supervisor.stop_all()
    assert ctx.registry.subscriptions() == []  # gone when the actor stops for good


class BatchWriter(BmsActor):
    """Takes ValueChanged through a merged subscription; the first batch it sees fails once (a store hiccup)."""

    def __init__(self, name: str, ctx: Context, got: list[float], hiccups: list[int]) -> None:
        super().__init__(name, ctx)
        self.got, self.hiccups = got, hiccups

    def setup(self) -> None:
        self.subscribe(ValueChanged, merged(1_000))

    @handles(ValueChanged)
    def write(self, batch: ValueChanged) -> None:
        if self.hiccups:
            self.hiccups.pop()
            raise StoreError("values.db: database is locked")
        self.got.extend(v.value for v in batch.values)  # type: ignore[misc]


def test_a_drained_batch_that_failed_is_written_after_the_restart(ctx: Context) -> None:
    got: list[float] = []
    ref = ctx.supervisor.start_child(ChildSpec("writer", BatchWriter, {"got": got, "hiccups": [1]},
                                               RestartPolicy(backoff_initial=0.0)))
    assert ref is not None
    for i in range(50):
        ctx.registry.publish(ValueChanged(values=(PointValue("p", float(i), float(i)),)))
    wait_until(lambda: len(got) == 50, what="every value written")
    assert got == [float(i) for i in range(50)]
    status = ctx.health.get("writer")
    assert status is not None and status.restarts == 1 and status.lost == 0
