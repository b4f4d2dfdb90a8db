"""``StreamHub``: value and status changes fanned out to the API's live streams.

The hub subscribes to ValueChanged and StatusChanged with the latest-per-
point policy, so a busy site costs it one pending value per point, never a
growing mailbox; and to DiscoveryProgress (the latest step of each scan's
task) and DiscoveryScanComplete, for the feeds that follow a scan. Each open stream is an :class:`~bms.api.EventFeed` on the
API's event loop; the hub hands every change to every feed with
``call_soon_threadsafe`` and the feed keeps what its client watches,
coalesced per point. The hub holds its feeds weakly: a feed whose response
never ran (the client left first) disappears with it, and one whose loop is
gone is dropped. On stop (and before a restart) the hub closes its feeds, so
clients see the stream end and reconnect instead of waiting on a hub that
forgot them.

The hub also keeps the bridges' recent :class:`~bms.messages.WriteResult`s
(the last :data:`RESULTS_KEPT`) and hands one to a writer that waits for
it (:class:`AwaitWrite`): a result that came before the writer asked is
not lost.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import msgspec

from actors._base import BmsActor, handles
from actors._registry import latest
from bms.api import EventFeed, FeedEvent
from bms.messages import DiscoveryProgress, DiscoveryScanComplete, StatusChanged, ValueChanged, WriteResult

RESULTS_KEPT = 1000


class OpenFeed(msgspec.Struct, frozen=True):
    """Gateway -> hub: start feeding ``feed`` (answered True once it is fed)."""

    feed: EventFeed


class CloseFeed(msgspec.Struct, frozen=True):
    feed: EventFeed


class AwaitWrite(msgspec.Struct, frozen=True):
    """Gateway -> hub: call ``deliver(result)`` (any thread) with the WriteResult of ``request_id``, once."""

    request_id: str
    deliver: Any  # Callable[[WriteResult], None], thread-safe


class StreamHub(BmsActor):
    """Fans ValueChanged/StatusChanged out to the open live streams; hands WriteResults to waiting writers."""

    def setup(self) -> None:
        self.feeds: weakref.WeakSet[EventFeed] = weakref.WeakSet()
        self.results: OrderedDict[str, WriteResult] = OrderedDict()
        self.waiting: dict[str, list[Callable[[WriteResult], None]]] = {}
        for kind in (ValueChanged, StatusChanged):
            self.subscribe(kind, latest())
        self.subscribe(DiscoveryProgress, latest(key=lambda m: (m.scan, m.task)))  # the newest step of each task
        self.subscribe(DiscoveryScanComplete)
        self.subscribe(WriteResult)

    @handles(AwaitWrite)
    def await_write(self, msg: AwaitWrite) -> bool:
        result = self.results.get(msg.request_id)
        if result is not None:
            msg.deliver(result)
        else:
            self.waiting.setdefault(msg.request_id, []).append(msg.deliver)
        return True

    @handles(WriteResult)
    def write_result(self, result: WriteResult) -> None:
        self.results[result.request_id] = result
        while len(self.results) > RESULTS_KEPT:
            self.results.popitem(last=False)
        for deliver in self.waiting.pop(result.request_id, ()):
            deliver(result)

    def teardown(self) -> None:
        for feed in list(getattr(self, "feeds", ())):
            feed.close_threadsafe()
        self.feeds = weakref.WeakSet()
        self.waiting = {}  # a writer still waiting times out on its own

    @handles(OpenFeed)
    def open(self, msg: OpenFeed) -> bool:
        self.feeds.add(msg.feed)
        return True

    @handles(CloseFeed)
    def close(self, msg: CloseFeed) -> None:
        self.feeds.discard(msg.feed)

    @handles(ValueChanged, StatusChanged, DiscoveryProgress, DiscoveryScanComplete)
    def fan_out(self, event: FeedEvent) -> None:
        gone = [feed for feed in list(self.feeds) if not feed.offer_threadsafe(event)]
        for feed in gone:
            self.feeds.discard(feed)
