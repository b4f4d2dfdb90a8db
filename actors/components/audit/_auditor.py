"""``ActorAuditor``: the API's :class:`bms.api.Auditor` over the ``audit`` actor, answered on the API's loop.

Waking a thread costs more than committing a row (~100 us of CPU under
load against ~30 us), so the auditor wakes as few as it can: the entries
recorded during one turn of the API's event loop (requests answered side by
side) go to the writer as one :class:`~bms.audit.RecordAudits`, put straight
into its inbox (a thread-safe queue, no thread-pool hop), with a reply
future that the writer sets after the commit and that completes each
request's asyncio future on the loop.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pykka
from pykka._envelope import Envelope

from actors._context import Context
from bms.audit import AuditEntry, RecordAudits
from bms.errors import NotFound, ServiceUnavailable

SERVICE = "audit"


def _resolve(target: asyncio.Future[Any], value: Any, err: BaseException | None) -> None:
    if target.done():
        return
    if err is not None:
        target.set_exception(err)
    else:
        target.set_result(value)


class _LoopReply(pykka.ThreadingFuture[Any]):
    """A pykka reply that also completes ``target`` on ``loop``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, target: asyncio.Future[Any]) -> None:
        super().__init__()
        self._loop, self._target = loop, target

    def set(self, value: Any | None = None) -> None:
        super().set(value)
        self._loop.call_soon_threadsafe(_resolve, self._target, value, None)

    def set_exception(self, exc_info: Any = None) -> None:
        super().set_exception(exc_info)
        err = exc_info[1] if exc_info is not None else sys.exc_info()[1]
        self._loop.call_soon_threadsafe(_resolve, self._target, None, err)


def _settle(waiting: list[asyncio.Future[Any]], done: asyncio.Future[Any]) -> None:
    err = done.exception() if not done.cancelled() else ServiceUnavailable(SERVICE, "stopped")
    for one in waiting:
        if not one.done():
            if err is not None:
                one.set_exception(err)
            else:
                one.set_result(None)


class ActorAuditor:
    def __init__(self, ctx: Context, timeout: float = 5.0) -> None:
        self.ctx = ctx
        self.timeout = timeout
        self._batch: list[tuple[AuditEntry, asyncio.Future[Any]]] = []

    async def record(self, entry: AuditEntry) -> None:
        loop = asyncio.get_running_loop()
        mine: asyncio.Future[Any] = loop.create_future()
        if not self._batch:
            loop.call_soon(self._send, loop)  # after the requests of this turn have added theirs
        self._batch.append((entry, mine))
        try:
            await asyncio.wait_for(asyncio.shield(mine), self.timeout)
        except TimeoutError:
            raise ServiceUnavailable(SERVICE, f"did not commit the row within {self.timeout:g} s") from None

    def _send(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self._batch = self._batch, []
        waiting = [f for _, f in batch]
        try:
            ref = self.ctx.registry.get(SERVICE)
        except NotFound:
            ref = None
        if ref is None or not ref.is_alive():
            for one in waiting:
                one.set_exception(ServiceUnavailable(SERVICE))
            return
        done: asyncio.Future[Any] = loop.create_future()
        done.add_done_callback(lambda d: _settle(waiting, d))
        ref.actor_inbox.put(Envelope(RecordAudits(entries=tuple(e for e, _ in batch)),
                                     reply_to=_LoopReply(loop, done)))
