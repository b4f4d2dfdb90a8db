"""A simulator serving from a thread and event loop of its own (:class:`~actors._loop.LoopThread`).

The simulators of :mod:`bms.sim` are plain async servers (``await
start()`` / ``await stop()``); this runs one on a thread for the sim
components and the tests. Every method may be called from any thread.
Starting waits until the simulator serves and raises with the reason if
it cannot (a port in use); stopping closes it on its loop first.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, Protocol, Self, TypeVar

from actors._loop import LoopThread

T = TypeVar("T")


class Servable(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


S = TypeVar("S", bound=Servable)


class ServedThread(Generic[S]):
    """``simulator`` started on its own loop thread; ``what`` names it in errors."""

    what = "simulator"

    def __init__(self, simulator: S, timeout: float = 5.0, name: str = "sim") -> None:
        self.simulator = simulator
        self.timeout = timeout
        self._io = LoopThread(name).start()
        try:
            self._io.run(simulator.start(), timeout)
        except concurrent.futures.TimeoutError:
            self._io.stop(simulator.stop, timeout)
            raise RuntimeError(f"the {self.what} did not start within {timeout:g} s") from None
        except BaseException as err:  # bacpypes3's errors derive from BaseException
            self._io.stop(timeout=timeout)
            raise RuntimeError(f"the {self.what} failed to start: {err}") from err

    def call(self, make: Callable[[], Awaitable[T]], timeout: float | None = None) -> T:
        """Run ``make()`` on the simulator's loop and return its result."""

        async def run() -> T:
            return await make()

        return self._io.run(run(), self.timeout if timeout is None else timeout)

    def run(self, fn: Callable[[], T], timeout: float | None = None) -> T:
        """Run the plain function ``fn()`` on the simulator's loop."""

        async def run() -> T:
            return fn()

        return self._io.run(run(), self.timeout if timeout is None else timeout)

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return self._io.submit(coro)

    def stop(self, timeout: float | None = None) -> None:
        """Stop the simulator and join the thread."""
        if self._io.running:
            self._io.stop(self.simulator.stop, self.timeout if timeout is None else timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
