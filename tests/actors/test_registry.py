"""Registry: each delivery policy under a deliberately stalled subscriber."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from actors import LOSSLESS, BmsActor, ChildSpec, Context, drop_oldest, handles, latest, merged
from bms.errors import NotFound
from bms.messages import DeviceDown, Message, PointValue, StatusChanged, ValueChanged
from tests.conftest import wait_until


class Sink(BmsActor):
    """Collects what it receives; blocks on ``gate`` while it is clear."""

    instances: dict[str, Sink] = {}

    def __init__(self, name: str, ctx: Context, gate: threading.Event) -> None:
        super().__init__(name, ctx)
        Sink.instances[name] = self
        self.gate = gate
        self.got: list[Any] = []
        self.entered = threading.Event()

    @handles(Message)
    def on_any(self, msg: Any) -> None:
        self.entered.set()
        assert self.gate.wait(10)
        self.got.append(msg)


def _sink(ctx: Context, name: str, open_: bool = True) -> tuple[Any, Sink]:
    gate = threading.Event()
    if open_:
        gate.set()
    ref = ctx.supervisor.start_child(ChildSpec(name, Sink, dict(gate=gate)))
    assert ref is not None
    return ref, Sink.instances.pop(name)


def _batch(i: int, points: int = 10) -> ValueChanged:
    return ValueChanged(values=tuple(PointValue(f"p{k}", float(i), float(i)) for k in range(points)))


@pytest.fixture
def stalled(ctx: Context) -> tuple[Any, Sink]:
    return _sink(ctx, "slow", open_=False)


def test_lossless_stalled_subscriber_does_not_stall_others(ctx: Context, stalled: tuple[Any, Sink]) -> None:
    slow_ref, slow = stalled
    fast_ref, fast = _sink(ctx, "fast")
    slow_sub = ctx.registry.subscribe(ValueChanged, slow_ref, LOSSLESS, name="slow")
    ctx.registry.subscribe(ValueChanged, fast_ref, LOSSLESS, name="fast")
    for i in range(2000):
        ctx.registry.publish(_batch(i))
    wait_until(lambda: len(fast.got) == 2000, what="fast subscriber got everything")
    assert slow.entered.wait(5)
    assert slow_sub.depth() >= 1998  # backpressure is measured
    status = ctx.health.get("slow")
    assert status is not None and status.queue_depth >= 1998
    slow.gate.set()
    wait_until(lambda: len(slow.got) == 2000, what="slow subscriber caught up")
    assert [m.values[0].value for m in slow.got] == [float(i) for i in range(2000)]


def test_latest_coalesces_per_point_and_stays_bounded(ctx: Context, stalled: tuple[Any, Sink]) -> None:
    slow_ref, slow = stalled
    fast_ref, fast = _sink(ctx, "fast")
    sub = ctx.registry.subscribe(ValueChanged, slow_ref, latest(), name="slow")
    ctx.registry.subscribe(ValueChanged, fast_ref, LOSSLESS, name="fast")
    ctx.registry.publish(_batch(-1))
    assert slow.entered.wait(5)  # stuck inside the first delivery
    for i in range(5000):
        ctx.registry.publish(_batch(i))
        assert sub.pending() <= 10  # one value per point, whatever the load
    assert sub.depth() <= 1  # no mailbox growth either
    wait_until(lambda: len(fast.got) == 5001, what="fast subscriber")
    slow.gate.set()
    wait_until(lambda: len(slow.got) == 2, what="coalesced delivery")
    newest = slow.got[1]
    assert isinstance(newest, ValueChanged)
    assert sorted((v.point_id, v.value) for v in newest.values) == [(f"p{k}", 4999.0) for k in range(10)]
    assert sub.dropped > 0


def test_latest_keyed_on_plain_events(ctx: Context, stalled: tuple[Any, Sink]) -> None:
    slow_ref, slow = stalled
    sub = ctx.registry.subscribe(StatusChanged, slow_ref, latest(), name="slow")
    ctx.registry.publish(StatusChanged("a", ("fault",), 0.0))
    assert slow.entered.wait(5)
    for i in range(100):
        ctx.registry.publish(StatusChanged("a" if i % 2 else "b", (), float(i)))
    assert sub.pending() == 2
    slow.gate.set()
    wait_until(lambda: len(slow.got) == 3, what="coalesced status")
    assert {(m.point_id, m.ts) for m in slow.got[1:]} == {("a", 99.0), ("b", 98.0)}


def test_drop_oldest_bounds_and_counts(ctx: Context, stalled: tuple[Any, Sink]) -> None:
    slow_ref, slow = stalled
    sub = ctx.registry.subscribe(DeviceDown, slow_ref, drop_oldest(5), name="slow")
    ctx.registry.publish(DeviceDown("modbus", "first", 0.0))
    assert slow.entered.wait(5)
    for i in range(100):
        ctx.registry.publish(DeviceDown("modbus", f"d{i}", float(i)))
        assert sub.pending() <= 5
    assert sub.dropped == 95
    slow.gate.set()
    wait_until(lambda: len(slow.got) == 6, what="ring delivered")
    assert [m.device_id for m in slow.got[1:]] == [f"d{i}" for i in range(95, 100)]
    assert sub.stats()["dropped"] == 95


def test_merged_joins_queued_batches_in_order_and_loses_nothing(ctx: Context, stalled: tuple[Any, Sink]) -> None:
    slow_ref, slow = stalled
    sub = ctx.registry.subscribe(ValueChanged, slow_ref, merged(25), name="slow")
    ctx.registry.publish(_batch(0))
    assert slow.entered.wait(5)  # the first batch is being handled; the rest queue in the subscription
    for i in range(1, 11):
        ctx.registry.publish(_batch(i))
    assert sub.pending() == 10 and slow_ref.actor_inbox.qsize() == 1  # one Drain note, not ten messages
    slow.gate.set()
    wait_until(lambda: sum(len(m.values) for m in slow.got) == 110, what="every value delivered")
    assert [len(m.values) for m in slow.got] == [10, 20, 20, 20, 20, 20]  # joined up to 25 values
    assert [v.ts for m in slow.got for v in m.values][::10] == [float(i) for i in range(11)]
    assert sub.dropped == 0 and sub.stats()["policy"] == "lossless(merged <= 25)"


def test_filter_narrows_or_skips(ctx: Context) -> None:
    ref, sink = _sink(ctx, "watch")
    wanted = {"p1", "p3"}

    def only_wanted(msg: ValueChanged) -> ValueChanged | None:
        values = tuple(v for v in msg.values if v.point_id in wanted)
        return ValueChanged(values=values) if values else None

    ctx.registry.subscribe(ValueChanged, ref, LOSSLESS, filter=only_wanted)
    ctx.registry.publish(_batch(1, points=5))
    ctx.registry.publish(ValueChanged(values=(PointValue("zz", 1.0, 1.0),)))
    ctx.registry.publish(DeviceDown("x", "y", 0.0))  # another type: not delivered
    wait_until(lambda: len(sink.got) == 1)
    assert [v.point_id for v in sink.got[0].values] == ["p1", "p3"]


def test_unsubscribe_and_names(ctx: Context) -> None:
    ref, sink = _sink(ctx, "svc")
    sub = ctx.registry.subscribe(DeviceDown, ref)
    assert ctx.registry.publish(DeviceDown("m", "d", 0.0)) == 1
    ctx.registry.unsubscribe(sub)
    assert ctx.registry.publish(DeviceDown("m", "d", 0.0)) == 0
    assert ctx.registry.get("svc") is ref
    with pytest.raises(NotFound, match="nosuch"):
        ctx.registry.get("nosuch")


def test_broken_filter_does_not_stop_publisher(ctx: Context) -> None:
    ref, sink = _sink(ctx, "a")
    ref2, sink2 = _sink(ctx, "b")
    ctx.registry.subscribe(DeviceDown, ref, filter=lambda m: 1 / 0)
    ctx.registry.subscribe(DeviceDown, ref2)
    assert ctx.registry.publish(DeviceDown("m", "d", 0.0)) == 1
    wait_until(lambda: len(sink2.got) == 1)


class _CountingRef:
    """Stands in for an actor's ref: the counters are what is under test, not delivery."""

    def __init__(self) -> None:
        self.told = 0

    def tell(self, _msg: Any) -> None:
        self.told += 1


@pytest.mark.parametrize("policy", [LOSSLESS, merged(10), latest(), drop_oldest(5)], ids=repr)
def test_offered_is_exact_under_concurrent_publishers(policy: Any) -> None:
    from actors._registry import Subscription

    sub = Subscription(DeviceDown, _CountingRef(), policy, None, "sink")  # type: ignore[arg-type]
    event = DeviceDown(protocol="modbus", device_id="d1", reason="x", ts=0.0)
    start = threading.Barrier(4)

    def publish() -> None:
        start.wait()
        for _ in range(100_000):
            sub.offer(event)

    threads = [threading.Thread(target=publish) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sub.offered == 400_000
