"""asyncio helpers that own no thread and no loop (the loop thread itself is the actor layer's).

Whoever runs a coroutine of ``bms/`` on a thread of its own uses
:class:`actors._loop.LoopThread`; the command line runs them with
``asyncio.run`` in its main thread.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` (if any) and wait until it has finished cancelling."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


__all__ = ["cancel_and_wait"]
