"""The live stream: Server-Sent Events of value and status changes, and of discovery scans.

Each event is one ``data:`` line of tagged JSON (``bms.messages.encode``):
a ``ValueChanged`` batch or a ``StatusChanged``; with ``scan``, the
``DiscoveryProgress`` of that discovery scan and its ``DiscoveryScanComplete``
too (alone, when no points or tags are asked for: the stream then ends with
the scan). The points asked for must
exist (an unknown one is a 404, as an unknown tag is) and the subscription
is live before the response starts (so an unavailable hub is a 503, not a
broken stream); the stream opens with a ``: connected`` comment (a client that
waits for it misses no change made afterwards) and carries a
``: keep-alive`` comment after every ``keepalive`` idle seconds. The feed
is given back when the stream ends or the client goes away.
"""

from __future__ import annotations

import asyncio
import typing
from collections.abc import AsyncIterator, Awaitable, Callable

import msgspec
from litestar import Router, get
from litestar.response import Stream

from bms.api._auth import requires
from bms.api._errors import error_responses
from bms.api._feed import EventFeed
from bms.api._gateway import Gateway
from bms.api._params import PointList, ScanId, TagList
from bms.errors import NotFound
from bms.messages import ListPoints, encode

CONNECTED = b": connected\n\n"
KEEPALIVE = b": keep-alive\n\n"


def split_list(text: str | None) -> list[str]:
    """``"a/b, c/d"`` -> ``["a/b", "c/d"]``; empty items dropped."""
    return [item.strip() for item in (text or "").split(",") if item.strip()]


async def known_points(gateway: Gateway, point_ids: list[str]) -> None:
    """NotFound unless every point exists (one unknown point: the gateway's own line, with its hint)."""
    ids = list(dict.fromkeys(point_ids))
    answers = await asyncio.gather(*(gateway.point(p) for p in ids), return_exceptions=True)
    unknown: list[tuple[str, NotFound]] = []
    for point_id, answer in zip(ids, answers, strict=True):
        if isinstance(answer, NotFound):
            unknown.append((point_id, answer))
        elif isinstance(answer, BaseException):
            raise answer  # the points service is unavailable: 503
    if len(unknown) == 1:
        raise unknown[0][1]
    if unknown:
        raise NotFound(f"unknown points {', '.join(repr(p) for p, _ in unknown)}")


class Batches(typing.Protocol):
    """A feed an engine fills (``bms.alarms.AlarmFeed``): pending events, ``[]`` when idle, None once closed."""

    async def next(self, timeout: float) -> list[typing.Any] | None: ...

    def close(self) -> None: ...


async def feed_events(feed: Batches, give_back: Callable[[], Awaitable[object]], keepalive: float = 15.0,
                      encode_event: Callable[[typing.Any], bytes] = msgspec.json.Encoder().encode,
                      ) -> AsyncIterator[bytes]:
    """The SSE body of an engine's own stream (alarms, logic...): announce, then every event until the feed
    closes; then the feed is closed and ``give_back`` tells its engine (an engine already gone is no error)."""
    try:
        yield CONNECTED
        while True:
            batch = await feed.next(keepalive)
            if batch is None:
                return
            if not batch:
                yield KEEPALIVE
            for event in batch:
                yield b"data: " + encode_event(event) + b"\n\n"
    finally:
        feed.close()
        try:
            await give_back()
        except Exception:
            pass


async def events(gateway: Gateway, feed: EventFeed, keepalive: float) -> AsyncIterator[bytes]:
    """The SSE body of the live stream: :func:`feed_events`, the feed given back to the gateway at the end."""

    async def give_back() -> None:
        gateway.close_feed(feed)

    async for chunk in feed_events(feed, give_back, keepalive, encode):
        yield chunk


def stream_router(gateway: Gateway, keepalive: float) -> Router:
    @get("/stream", operation_id="stream", **requires("read"), media_type="text/event-stream",
         responses=error_responses(404, 503))
    async def stream(points: PointList = None, tags: TagList = None, scan: ScanId = None) -> Stream:
        """Live ValueChanged / StatusChanged events (Server-Sent Events) for the
        comma-separated ``points`` and the points carrying all ``tags``; all points
        when neither is given (none when only ``scan`` is). With ``scan``, the
        DiscoveryProgress events of that discovery scan and its DiscoveryScanComplete
        (a stream of the scan alone ends there)."""
        wanted, tag_list = split_list(points), split_list(tags)
        scans = frozenset([scan]) if scan else frozenset()
        ids: frozenset[str] | None = None if not scans else frozenset()
        if wanted or tag_list:
            await known_points(gateway, wanted)
            found = set(wanted)
            if tag_list:
                tagged = await gateway.points(ListPoints(tags=tuple(tag_list)))
                if not tagged:
                    raise NotFound(f"no point carries the tags {', '.join(tag_list)}")
                found.update(p.point_id for p in tagged)
            ids = frozenset(found)
        feed = await (gateway.open_feed(ids, scans) if scans else gateway.open_feed(ids))
        return Stream(events(gateway, feed, keepalive), media_type="text/event-stream",
                      headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return Router("/api", route_handlers=[stream], tags=["stream"])
