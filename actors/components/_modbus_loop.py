"""An asyncio event loop on a thread of its own, owned by one actor.

The actor submits coroutines with :meth:`IoLoop.submit` (thread-safe) and
gets results back as messages told by the coroutines themselves, so its
state stays in its own thread. :meth:`IoLoop.stop` runs a last coroutine
(closing connections), cancels whatever is still running and joins.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any

from bms.logs import get_logger


class IoLoop:
    def __init__(self, name: str) -> None:
        self.name = name
        self.loop = asyncio.new_event_loop()
        self._log = get_logger(name)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.set_exception_handler(self._unhandled)
        self.loop.run_forever()

    def _unhandled(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self._log.warning("unhandled error on the I/O loop", message=context.get("message"),
                          error=repr(context.get("exception")))

    def submit(self, coro: Coroutine[Any, Any, Any]) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self, closing: Callable[[], None] | None = None, timeout: float = 5.0) -> None:
        """Run ``closing()`` on the loop, cancel the remaining tasks, stop and join."""
        if not self._thread.is_alive():
            return

        async def finish() -> None:
            if closing is not None:
                closing()
            me = asyncio.current_task()
            tasks = [t for t in asyncio.all_tasks() if t is not me]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            self.submit(finish()).result(timeout)
        except Exception as err:  # a hung close must not hang the stop
            self._log.warning("I/O loop did not finish cleanly", error=repr(err))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._log.error("I/O loop thread did not stop", timeout=timeout)
            return
        self.loop.close()
