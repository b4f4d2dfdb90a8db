"""One live-stream client's pending events, coalesced per point.

A feed lives on the API's event loop. The producer (another thread) hands
it events with :meth:`EventFeed.offer_threadsafe`; the client's response
takes them with :meth:`EventFeed.next`. Pending events are kept as the
latest value and the latest status per point, so a slow client costs at most
two entries per point it watches and sees the newest state when it catches
up; ``coalesced`` counts what it skipped. A batch keeps its ``source`` when
all its values came from one publisher, else says ``coalesced``. A feed
that follows discovery scans (``scans``) also keeps the latest
:class:`~bms.messages.DiscoveryProgress` of each of their tasks, and each
one's :class:`~bms.messages.DiscoveryScanComplete`; a feed that follows
scans and no point closes once they have all ended.
"""

from __future__ import annotations

import asyncio
from typing import Union

from bms.messages import DiscoveryProgress, DiscoveryScanComplete, PointValue, StatusChanged, ValueChanged

FeedEvent = Union[ValueChanged, StatusChanged, DiscoveryProgress, DiscoveryScanComplete]


class EventFeed:
    """Pending ValueChanged/StatusChanged events of one client, filtered by point id, and its scans' progress."""

    def __init__(self, points: frozenset[str] | None, loop: asyncio.AbstractEventLoop,
                 scans: frozenset[str] = frozenset()) -> None:
        self.points = points  # None: every point
        self.scans = scans  # discovery scans whose progress the client follows
        self.loop = loop
        self.coalesced = 0
        self.closed = False
        self._values: dict[str, PointValue] = {}
        self._source = ""  # of the pending values; "coalesced" when they came from several
        self._status: dict[str, StatusChanged] = {}
        self._progress: dict[tuple[str, str], DiscoveryProgress] = {}  # (scan, task) -> latest
        self._ended: list[DiscoveryScanComplete] = []
        self._running = set(scans)  # followed scans not ended yet
        self._wake = asyncio.Event()

    def wants(self, point_id: str) -> bool:
        return self.points is None or point_id in self.points

    # ------------------------------------------------------------- producer
    def offer(self, event: FeedEvent) -> None:
        """Take an event (on the loop's thread); what the client does not watch is ignored."""
        if self.closed:
            return
        if isinstance(event, ValueChanged):
            for value in event.values:
                if self.wants(value.point_id):
                    if not self._values:
                        self._source = event.source
                    elif self._source != event.source:
                        self._source = "coalesced"
                    if self._values.pop(value.point_id, None) is not None:
                        self.coalesced += 1
                    self._values[value.point_id] = value
        elif isinstance(event, DiscoveryProgress):
            if event.scan in self.scans:
                key = (event.scan, event.task)
                if self._progress.pop(key, None) is not None:
                    self.coalesced += 1
                self._progress[key] = event
        elif isinstance(event, DiscoveryScanComplete):
            if event.scan in self._running:
                self._running.discard(event.scan)
                self._ended.append(event)
                if not self._running and self.points == frozenset():  # nothing more to follow
                    self.closed = True
        elif self.wants(event.point_id):
            if self._status.pop(event.point_id, None) is not None:
                self.coalesced += 1
            self._status[event.point_id] = event
        if self._values or self._status or self._progress or self._ended or self.closed:
            self._wake.set()

    def offer_threadsafe(self, event: FeedEvent) -> bool:
        """Hand an event over from another thread. False once the loop is gone."""
        if self.closed:
            return False
        try:
            self.loop.call_soon_threadsafe(self.offer, event)
        except RuntimeError:  # the loop is closed: the server has stopped
            return False
        return True

    def close(self) -> None:
        """End the stream (on the loop's thread); pending events are still delivered."""
        self.closed = True
        self._wake.set()

    def close_threadsafe(self) -> None:
        try:
            self.loop.call_soon_threadsafe(self.close)
        except RuntimeError:
            self.closed = True

    # ------------------------------------------------------------- consumer
    async def next(self, timeout: float) -> list[FeedEvent] | None:
        """Pending events, oldest change first; ``[]`` after ``timeout`` idle seconds;
        None once the feed is closed and drained."""
        if not (self._values or self._status or self._progress or self._ended or self.closed):
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                return []
        self._wake.clear()
        events: list[FeedEvent] = []
        if self._values:
            values, self._values = self._values, {}
            events.append(ValueChanged(values=tuple(values.values()), source=self._source))
        if self._status:
            status, self._status = self._status, {}
            events.extend(status.values())
        if self._progress:
            progress, self._progress = self._progress, {}
            events.extend(progress.values())
        if self._ended:
            ended, self._ended = self._ended, []
            events.extend(ended)
        if not events and self.closed:
            return None
        return events
