"""``ActorGateway``: the API's :class:`bms.api.Gateway` over the running actors.

Coroutines on the API's event loop ask the named services (``points``,
``nodes``; a component's slice asks its own through :meth:`ask`) through a small thread pool, so a slow answer never
blocks the loop; a service that is not registered, dead or silent is a
:class:`~bms.api.ServiceUnavailable` naming it. History is read straight
from ``history.db`` (see :mod:`actors.components.api._history`), never
through the writer's mailbox. Live streams are feeds of the ``stream`` hub.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncGenerator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import msgspec
import pykka

from actors._context import Context
from actors.components.api._history import HistoryReads
from actors.components.api._hub import AwaitWrite, CloseFeed, OpenFeed
from bms import logs
from bms.api import EventFeed, HealthReport, HistorySeries, LogLevel, ServiceUnavailable
from bms.errors import BmsError, NotFound, ProtocolError
from bms.messages import (
    DEVICE_READ_TIMEOUT,
    DevicePriority,
    GetNode,
    GetPoint,
    GetPriorityArray,
    ListNodes,
    ListPoints,
    PointState,
    PriorityArrayView,
    QueryHistory,
    ReadDevicePriority,
    RelinquishPoint,
    WriteAccepted,
    WritePoint,
    WriteResult,
)
from bms.model import Node

ASK_TIMEOUT = 5.0
DEVICE_ASK_MARGIN = 1.0
"""Seconds the API waits for a bridge beyond the time it gives the bridge to read a device
(client < bridge < API < the CLI's HTTP timeout)."""
STREAM = "stream"


def _ask(ref: pykka.ActorRef[Any], msg: Any, timeout: float) -> Any:
    return ref.ask(msg, block=False).get(timeout=timeout)


def _ask_both(ref: pykka.ActorRef[Any], first: Any, then: Any, timeout: float) -> tuple[Any, Any]:
    """Two asks in flight at once: the actor answers them in order, with nothing between them.
    A refusal of ``first`` (a BmsError) answers None for it; ``then``'s answer or error is the caller's."""
    early, late = ref.ask(first, block=False), ref.ask(then, block=False)
    try:
        answer = early.get(timeout=timeout)
    except BmsError:
        answer = None
    return answer, late.get(timeout=timeout)


class ActorGateway:
    """Answers the API from the actors of ``ctx``; see :class:`bms.api.Gateway`."""

    def __init__(self, ctx: Context, history_db: Path, *, timeout: float = ASK_TIMEOUT, workers: int = 16) -> None:
        self.ctx = ctx
        self.timeout = timeout
        self._history = HistoryReads(history_db)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="api-ask")
        self._feeds: weakref.WeakSet[EventFeed] = weakref.WeakSet()  # open streams, on the loop's thread

    async def ask(self, service: str, message: Any, timeout: float | None = None) -> Any:
        try:
            ref = self.ctx.registry.get(service)
        except NotFound:
            raise ServiceUnavailable(service) from None
        wait = self.timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        try:
            reply = await loop.run_in_executor(self._pool, _ask, ref, message, wait)
        except pykka.ActorDeadError:
            raise ServiceUnavailable(service) from None
        except pykka.Timeout:
            raise ServiceUnavailable(service, f"did not answer within {wait:g} s") from None
        if reply is None:  # the actor has no handler for this message
            raise ServiceUnavailable(service, f"does not answer {type(message).__name__}")
        return reply

    # ------------------------------------------------------------- site
    async def health(self) -> HealthReport:
        board = self.ctx.health
        return HealthReport(status=board.overall().value, components=tuple(board.snapshot()))

    async def set_log_level(self, level: LogLevel) -> None:
        logs.set_level(level)

    # ------------------------------------------------------------ model
    async def nodes(self, query: ListNodes) -> list[Node]:
        return list(await self.ask("nodes", query))

    async def node(self, node_id: str) -> Node:
        found: Node = await self.ask("nodes", GetNode(node_id=node_id))
        return found

    # ----------------------------------------------------------- points
    async def points(self, query: ListPoints) -> list[PointState]:
        return list(await self.ask("points", query))

    async def point(self, point_id: str) -> PointState:
        state: PointState = await self.ask("points", GetPoint(point_id=point_id))
        return state

    async def levels(self, point_id: str) -> PriorityArrayView:
        view: PriorityArrayView = await self.ask("points", GetPriorityArray(point_id=point_id))
        return view

    async def priority_array(self, point_id: str) -> PriorityArrayView:
        """Our priority array of the point, with the device's own levels where its bridge can read them.

        A device that does not answer within :data:`~bms.messages.DEVICE_READ_TIMEOUT` leaves our
        levels shown, with ``device_error`` saying so.
        """
        view: PriorityArrayView = await self.ask("points", GetPriorityArray(point_id=point_id))
        read = ReadDevicePriority(point_id=point_id, timeout=DEVICE_READ_TIMEOUT)
        for name in self.ctx.registry.names():
            if not name.startswith("bacnet."):
                continue
            try:
                held: DevicePriority = await self.ask(name, read, timeout=DEVICE_READ_TIMEOUT + DEVICE_ASK_MARGIN)
            except ServiceUnavailable:
                continue
            except ProtocolError as err:  # the device did not answer in time
                return msgspec.structs.replace(view, device_error=str(err))
            if held.levels is not None:
                return msgspec.structs.replace(view, device_levels=held.levels)
        return view

    async def write(self, command: WritePoint, wait: float = 0.0) -> WriteAccepted:
        """Command the point; with ``wait`` > 0, wait that long for the device's answer (``device``)."""
        accepted: WriteAccepted = await self.ask("points", command)
        return await self._device_answer(accepted, wait)

    async def levels_and_write(self, command: WritePoint,
                               wait: float = 0.0) -> tuple[PriorityArrayView | None, WriteAccepted]:
        """The levels just before the write and the write's answer, asked of the points actor at once."""
        try:
            ref = self.ctx.registry.get("points")
        except NotFound:
            raise ServiceUnavailable("points") from None
        loop = asyncio.get_running_loop()
        get = GetPriorityArray(point_id=command.point_id)
        try:
            view, accepted = await loop.run_in_executor(self._pool, _ask_both, ref, get, command, self.timeout)
        except pykka.ActorDeadError:
            raise ServiceUnavailable("points") from None
        except pykka.Timeout:
            raise ServiceUnavailable("points", f"did not answer within {self.timeout:g} s") from None
        if accepted is None:
            raise ServiceUnavailable("points", "does not answer WritePoint")
        return view, await self._device_answer(accepted, wait)

    async def relinquish(self, command: RelinquishPoint, wait: float = 0.0) -> WriteAccepted:
        """Release the level; with ``wait`` > 0, wait for the device's answer as a write does."""
        accepted: WriteAccepted = await self.ask("points", command)
        return await self._device_answer(accepted, wait)

    async def _device_answer(self, accepted: WriteAccepted, wait: float) -> WriteAccepted:
        """The WriteResult of the command's own id (the hub keeps results that came before we asked)."""
        if wait <= 0 or accepted.request_id is None:
            return accepted
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[WriteResult] = loop.create_future()

        def settle(result: WriteResult) -> None:  # on the loop
            if not answer.done():
                answer.set_result(result)

        def deliver(result: WriteResult) -> None:  # on the hub's thread
            try:
                loop.call_soon_threadsafe(settle, result)
            except RuntimeError:  # the API's loop has stopped
                pass

        try:
            await self.ask(STREAM, AwaitWrite(accepted.request_id, deliver))
            result = await asyncio.wait_for(answer, wait)
        except (ServiceUnavailable, TimeoutError):
            return accepted  # accepted into the priority array; no answer from the device (yet)
        return msgspec.structs.replace(accepted, device=result)

    # ---------------------------------------------------------- history
    async def history(self, query: QueryHistory) -> HistorySeries:
        await self.point(query.point_id)  # an unknown point is a 404, not an empty series
        return await self._history.series(query)

    async def history_csv(self, query: QueryHistory) -> AsyncGenerator[str, None]:
        await self.point(query.point_id)
        return await self._history.csv(query)

    # ----------------------------------------------------------- stream
    async def open_feed(self, points: frozenset[str] | None, scans: frozenset[str] = frozenset()) -> EventFeed:
        feed = EventFeed(points, asyncio.get_running_loop(), scans)
        await self.ask(STREAM, OpenFeed(feed))
        self._feeds.add(feed)
        return feed

    def close_feed(self, feed: EventFeed) -> None:
        self._feeds.discard(feed)
        hub = self.ctx.registry.find(STREAM)
        if hub is not None:
            try:
                hub.tell(CloseFeed(feed))
            except pykka.ActorDeadError:
                pass

    def end_streams(self) -> None:
        """Close every open live stream (on the loop's thread, before the server stops)."""
        for feed in list(self._feeds):
            feed.close()

    # --------------------------------------------------------- lifecycle
    async def aclose(self) -> None:
        await self._history.close()

    def shutdown(self) -> None:
        """Release the ask threads (after the server has stopped)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
