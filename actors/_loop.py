"""An asyncio event loop on a thread of its own: what bridges and simulators run their I/O on.

The actor layer owns every thread; ``bms/`` only holds the coroutines that
run here (clients, sessions, simulators as plain async servers).

The owner (a bridge actor, a simulator wrapper) starts it, hands it work
with :meth:`LoopThread.submit` (a coroutine, a thread-safe future back),
:meth:`LoopThread.spawn` (a coroutine whose outcome it handles itself: a
poll), :meth:`LoopThread.run` (the same, waiting for the result) or
:meth:`LoopThread.call` (a plain callable, soon), and stops it:
:meth:`LoopThread.stop` runs a last ``closing`` coroutine or callable on
the loop (close connections), cancels what is still running, shuts the
loop down and joins the thread. An exception nobody awaited is logged,
never lost.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import inspect
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from bms.logs import get_logger

T = TypeVar("T")


class LoopThread:
    """One asyncio loop in one daemon thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._log = get_logger(name)
        self._spawned: collections.deque[Coroutine[Any, Any, Any]] = collections.deque()
        self._wake_pending = False
        self._tasks: set[asyncio.Task[Any]] = set()  # the loop keeps only weak references

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError(f"{self.name}: the event loop is not running")
        return self._loop

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 5.0) -> LoopThread:
        """Start the thread and wait until its loop runs (again after a stop)."""
        if self.running:
            return self
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"{self.name}: the event loop did not start within {timeout:g} s")
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.set_exception_handler(self._unhandled)
        self._loop = loop
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self._loop = None

    def _unhandled(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self._log.warning("unhandled error on the I/O loop", message=context.get("message"),
                          error=repr(context.get("exception")))

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the loop; the future is thread-safe (RuntimeError, ``coro`` closed, if the loop is not running)."""
        try:
            return asyncio.run_coroutine_threadsafe(coro, self.loop)
        except RuntimeError:
            coro.close()
            raise

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Start ``coro`` as a task on the loop, soon; nothing comes back (an exception is logged).

        Coroutines spawned before the loop has started the earlier ones share
        one wake-up of the loop (a write to its self-pipe, a system call),
        so a burst of polls due together costs one, not one each; and no
        thread-safe future is made for a result nobody waits for. The
        coroutine is closed, not leaked, if the loop is not running.
        """
        loop = self._loop
        if loop is None:
            coro.close()
            raise RuntimeError(f"{self.name}: the event loop is not running")
        self._spawned.append(coro)
        if not self._wake_pending:
            self._wake_pending = True
            try:
                loop.call_soon_threadsafe(self._start_spawned)
            except RuntimeError:  # the loop is closing: stop() closes what is queued
                self._wake_pending = False
                raise

    def _start_spawned(self) -> None:
        """On the loop: start what :meth:`spawn` queued (the flag first, so a racing spawn wakes us again)."""
        self._wake_pending = False
        loop, spawned, tasks = self.loop, self._spawned, self._tasks
        while spawned:
            task = loop.create_task(spawned.popleft())
            tasks.add(task)
            task.add_done_callback(self._spawned_done)

    def _spawned_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._log.warning("a task on the I/O loop failed", error=repr(task.exception()))

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coro`` on the loop and wait for its result."""
        return self.submit(coro).result(timeout)

    def call(self, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn(*args)`` on the loop, soon."""
        self.loop.call_soon_threadsafe(fn, *args)

    def stop(self, closing: Callable[[], Awaitable[Any] | None] | None = None, timeout: float = 5.0) -> None:
        """Run ``closing()`` on the loop (awaited if it is a coroutine), cancel the rest, stop and join."""
        thread, loop = self._thread, self._loop
        if thread is None:
            return
        if closing is not None and loop is not None and thread.is_alive():
            async def last() -> None:
                outcome = closing()
                if inspect.isawaitable(outcome):
                    await outcome

            try:
                self.run(last(), timeout)
            except Exception as err:  # a hung or failing close must not hang the stop
                self._log.warning("the I/O loop did not close cleanly", error=repr(err))
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if thread.is_alive():
            self._log.error("the I/O loop thread did not stop", timeout=timeout)
            return
        self._thread = None
        self._wake_pending = False
        while self._spawned:  # spawned as the loop stopped: never started
            self._spawned.popleft().close()
