"""EventFeed: per-client pending events, coalesced per point, filtered, closable."""

from __future__ import annotations

import asyncio
import threading

from bms.api import EventFeed
from bms.messages import DiscoveryProgress, DiscoveryScanComplete, PointValue, StatusChanged, ValueChanged


def value(point_id: str, v: float, ts: float = 1.0) -> ValueChanged:
    return ValueChanged(values=(PointValue(point_id=point_id, value=v, ts=ts),))


def test_a_slow_client_gets_the_latest_value_per_point() -> None:
    async def scenario() -> None:
        feed = EventFeed(None, asyncio.get_running_loop())
        for i in range(1000):
            feed.offer(value("a/x", float(i)))
            feed.offer(value("b/y", float(-i)))
        feed.offer(StatusChanged(point_id="a/x", flags=("stale",), ts=1.0))
        feed.offer(StatusChanged(point_id="a/x", flags=(), ts=2.0))
        batch = await feed.next(1.0)
        assert batch == [
            ValueChanged(values=(PointValue(point_id="a/x", value=999.0, ts=1.0),
                                 PointValue(point_id="b/y", value=-999.0, ts=1.0))),
            StatusChanged(point_id="a/x", flags=(), ts=2.0),
        ]
        assert feed.coalesced == 2 * 999 + 1

    asyncio.run(scenario())


def test_points_not_watched_are_ignored() -> None:
    async def scenario() -> None:
        feed = EventFeed(frozenset({"a/x"}), asyncio.get_running_loop())
        feed.offer(ValueChanged(values=(PointValue(point_id="a/x", value=1, ts=1.0),
                                        PointValue(point_id="b/y", value=2, ts=1.0))))
        feed.offer(StatusChanged(point_id="b/y", flags=("fault",), ts=1.0))
        assert await feed.next(1.0) == [ValueChanged(values=(PointValue(point_id="a/x", value=1, ts=1.0),))]
        feed.offer(value("b/y", 3.0))
        assert await feed.next(0.01) == []  # nothing for this client: a keep-alive is due

    asyncio.run(scenario())


def step(scan: str, task: str, done: int, objects: int = 0) -> DiscoveryProgress:
    return DiscoveryProgress(scan=scan, network="lan", task=task, done=done, total=10, ts=1.0, devices=1, objects=objects)


def test_a_feed_follows_the_progress_of_its_scans_only_the_latest_step_of_each_task() -> None:
    async def scenario() -> None:
        feed = EventFeed(frozenset(), asyncio.get_running_loop(), scans=frozenset({"s1"}))
        for done in range(1, 6):
            feed.offer(step("s1", "device 7", done, objects=done - 1))
        feed.offer(step("s1", "who-is", 1))
        feed.offer(step("s2", "device 7", 9))  # another client's scan
        feed.offer(value("a/x", 1.0))  # no points asked for
        assert await feed.next(1.0) == [step("s1", "device 7", 5, objects=4), step("s1", "who-is", 1)]
        assert feed.coalesced == 4
        plain = EventFeed(None, asyncio.get_running_loop())  # a feed of every point follows no scan
        plain.offer(step("s1", "who-is", 1))
        assert await plain.next(0.01) == []
        end = DiscoveryScanComplete(protocol="bacnet", found=1, duration=1.0, ts=2.0, network="lan", scan="s1")
        feed.offer(DiscoveryScanComplete(protocol="bacnet", found=0, duration=1.0, ts=2.0, scan="s2"))
        feed.offer(step("s1", "device 7", 10, objects=9))
        feed.offer(end)
        assert await feed.next(1.0) == [step("s1", "device 7", 10, objects=9), end]
        assert await feed.next(1.0) is None  # its only scan ended: the feed ends

    asyncio.run(scenario())


def test_a_batch_from_several_publishers_says_coalesced() -> None:
    async def scenario() -> None:
        feed = EventFeed(None, asyncio.get_running_loop())
        feed.offer(ValueChanged(values=(PointValue(point_id="a/x", value=1, ts=1.0),), source="bacnet"))
        assert await feed.next(1.0) == [ValueChanged(values=(PointValue(point_id="a/x", value=1, ts=1.0),),
                                                     source="bacnet")]
        feed.offer(ValueChanged(values=(PointValue(point_id="a/x", value=2, ts=2.0),), source="bacnet"))
        feed.offer(ValueChanged(values=(PointValue(point_id="b/y", value=3, ts=2.0),), source="modbus"))
        (batch,) = await feed.next(1.0) or []
        assert isinstance(batch, ValueChanged) and batch.source == "coalesced"

    asyncio.run(scenario())


def test_close_delivers_what_is_pending_then_ends() -> None:
    async def scenario() -> None:
        feed = EventFeed(None, asyncio.get_running_loop())
        feed.offer(value("a/x", 1.0))
        feed.close()
        assert await feed.next(1.0) == [value("a/x", 1.0)]
        assert await feed.next(1.0) is None
        feed.offer(value("a/x", 2.0))  # after close: dropped
        assert await feed.next(1.0) is None

    asyncio.run(scenario())


def test_offers_from_another_thread_wake_the_reader() -> None:
    async def scenario() -> None:
        feed = EventFeed(None, asyncio.get_running_loop())
        producer = threading.Thread(target=lambda: [feed.offer_threadsafe(value("a/x", float(i))) for i in range(3)])
        producer.start()
        got: list[float] = []
        while len(got) < 1 or got[-1] != 2.0:
            batch = await feed.next(5.0)
            assert batch
            got += [v.value for e in batch if isinstance(e, ValueChanged) for v in e.values]  # type: ignore[misc]
        producer.join()
        feed.close_threadsafe()
        assert await feed.next(5.0) is None

    asyncio.run(scenario())


def test_offer_after_the_loop_closed_reports_false() -> None:
    loop = asyncio.new_event_loop()
    feed = EventFeed(None, loop)
    loop.close()
    assert feed.offer_threadsafe(value("a/x", 1.0)) is False
    feed.close_threadsafe()
    assert feed.closed
