"""One live alarm stream's pending events, on the API's event loop.

The alarm engine (another thread) hands each event it publishes to every
open feed with :meth:`AlarmFeed.offer_threadsafe`; the client's response
takes them with :meth:`AlarmFeed.next`. Unlike point values, alarm events
are not coalesced: each raise, ack and shelve counts. A client too slow
for ``limit`` pending events loses the oldest (``dropped`` counts them)
rather than the daemon's memory.
"""

from __future__ import annotations

import asyncio
from collections import deque

from bms.messages import Message


class AlarmFeed:
    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int = 10_000) -> None:
        self.loop = loop
        self.closed = False
        self.dropped = 0
        self._pending: deque[Message] = deque()
        self._limit = limit
        self._wake = asyncio.Event()

    def offer(self, event: Message) -> None:
        if self.closed:
            return
        if len(self._pending) >= self._limit:
            self._pending.popleft()
            self.dropped += 1
        self._pending.append(event)
        self._wake.set()

    def offer_threadsafe(self, event: Message) -> bool:
        """From another thread; False once the loop is gone (drop the feed)."""
        if self.closed:
            return False
        try:
            self.loop.call_soon_threadsafe(self.offer, event)
        except RuntimeError:
            return False
        return True

    def close(self) -> None:
        self.closed = True
        self._wake.set()

    def close_threadsafe(self) -> None:
        try:
            self.loop.call_soon_threadsafe(self.close)
        except RuntimeError:
            self.closed = True

    async def next(self, timeout: float) -> list[Message] | None:
        """Pending events, oldest first; ``[]`` after ``timeout`` idle seconds; None once closed and drained."""
        if not self._pending and not self.closed:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                return []
        self._wake.clear()
        if not self._pending:
            return None if self.closed else []
        events = list(self._pending)
        self._pending.clear()
        return events
