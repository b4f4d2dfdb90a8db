"""COV subscriptions: subscribe, renew before expiry, deliver, cancel.

A :class:`CovSubscription` is one SubscribeCOV on one object of one device,
identified by its subscriber process id. It renews itself at
:func:`renew_after` seconds (before the lifetime runs out) until cancelled;
when a renewal fails it retries sooner and records ``last_error``. The
client routes each notification to it; the callback receives a
:class:`CovNotification` (present value and status flags together) and a
callback that raises is logged, never fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from bms.bacnet._records import CovNotification
from bms.errors import ProtocolError
from bms.logs import get_logger
from bms.messages import Value

CovCallback = Callable[[CovNotification], None]
SubscribeFn = Callable[["CovSubscription", bool], Awaitable[None]]
"""Sends SubscribeCOV for a subscription (True: cancel it)."""

_log = get_logger("bacnet.cov")


def renew_after(lifetime: int) -> float:
    """Seconds after which to renew a subscription of ``lifetime`` seconds."""
    return max(0.5, lifetime - min(30.0, lifetime / 4))


class CovSubscription:
    """One COV subscription, renewed until :meth:`cancel`."""

    def __init__(
        self,
        address: str,
        objid: str,
        process_id: int,
        *,
        confirmed: bool,
        lifetime: int,
        callback: CovCallback,
        send: SubscribeFn,
        on_close: Callable[[CovSubscription], None],
        now: Callable[[], float],
    ) -> None:
        self.address = address
        self.objid = objid
        self.process_id = process_id
        self.confirmed = confirmed
        self.lifetime = lifetime
        self.renewals = 0
        self.notifications = 0
        self.last_error: str | None = None
        self._callback = callback
        self._send = send
        self._on_close = on_close
        self._now = now
        self._task: asyncio.Task[None] | None = None
        self._started = False
        self._closed = False

    @property
    def active(self) -> bool:
        """Subscribed and not cancelled."""
        return self._started and not self._closed

    def __repr__(self) -> str:
        state = "active" if self.active else "closed"
        return f"<CovSubscription {self.address} {self.objid} #{self.process_id} {state}>"

    async def start(self) -> None:
        """Subscribe, then keep renewing in the background (lifetime 0: never expires)."""
        await self._send(self, False)
        self._started = True
        if self.lifetime > 0:
            self._task = asyncio.create_task(self._renew(), name=f"cov-renew-{self.process_id}")

    async def _renew(self) -> None:
        delay = renew_after(self.lifetime)
        while True:
            await asyncio.sleep(delay)
            try:
                await self._send(self, False)
            except ProtocolError as err:
                self.last_error = str(err)
                delay = max(0.5, min(delay, self.lifetime / 4, 10.0))
                _log.warning("cov renewal failed", address=self.address, objid=self.objid, error=str(err))
            else:
                self.renewals += 1
                self.last_error = None
                delay = renew_after(self.lifetime)

    def deliver(self, value: Value, flags: tuple[str, ...], time_remaining: int) -> None:
        """Hand one notification to the callback."""
        if self._closed:
            return
        self.notifications += 1
        note = CovNotification(
            address=self.address, objid=self.objid, value=value, flags=flags,
            ts=self._now(), time_remaining=time_remaining,
        )
        try:
            self._callback(note)
        except Exception as err:  # a subscriber's bug must not stop the client
            _log.error("cov callback failed", address=self.address, objid=self.objid, error=repr(err))

    async def cancel(self) -> None:
        """Stop renewing and tell the device (best effort: it may be gone)."""
        if self._closed:
            return
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._on_close(self)
        with contextlib.suppress(ProtocolError):
            await self._send(self, True)

    def close_silently(self) -> None:
        """Forget the subscription without telling the device (client shutting down)."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            self._task = None
