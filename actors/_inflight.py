"""Device writes a bridge handed to its loop: each one is answered, whatever happens to the loop.

A bridge answers every :class:`~bms.messages.DeviceWrite` with a
:class:`~bms.messages.WriteResult` (the point store and a writer that waits
rely on it). Its write coroutines publish the result themselves; one that
never ran, or was cancelled when the loop stopped (a restart, a stop), has
published nothing. :class:`WritesInFlight` keeps the futures of the writes
on the loop, and after the loop has stopped names those still unanswered,
so the bridge answers them with a failure.
"""

from __future__ import annotations

import concurrent.futures
from typing import Any

from bms.messages import DeviceWrite, WriteResult


def refused(msg: DeviceWrite, reason: str) -> WriteResult:
    """A failed WriteResult for ``msg`` (its request id kept)."""
    return WriteResult(point_id=msg.point_id, ok=False, request_id=msg.request_id, error=reason)


class WritesInFlight:
    """The writes on a bridge's loop; the actor's thread only."""

    def __init__(self) -> None:
        self._writes: list[tuple[DeviceWrite, concurrent.futures.Future[Any]]] = []

    def add(self, msg: DeviceWrite, future: concurrent.futures.Future[Any]) -> None:
        self._writes = [w for w in self._writes if not w[1].done()]
        self._writes.append((msg, future))

    def __len__(self) -> int:
        return sum(1 for _, future in self._writes if not future.done())

    def unanswered(self) -> list[DeviceWrite]:
        """The writes whose coroutine did not finish (never ran, cancelled or broken); forgets them all."""
        writes, self._writes = self._writes, []
        return [msg for msg, future in writes
                if not future.done() or future.cancelled() or future.exception() is not None]
