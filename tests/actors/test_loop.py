"""LoopThread: work handed to a loop on its own thread, and spawn's shared wake-ups."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import structlog.testing

from actors._loop import LoopThread

DEADLINE = 10.0


@pytest.fixture()
def io() -> Iterator[LoopThread]:
    loop = LoopThread("test-io").start()
    try:
        yield loop
    finally:
        loop.stop()


def block(io: LoopThread) -> threading.Event:
    """Hold the loop in a callback until the returned event is set."""
    release, held = threading.Event(), threading.Event()

    def hold() -> None:
        held.set()
        release.wait(DEADLINE)

    io.call(hold)
    assert held.wait(DEADLINE)
    return release


def test_submit_and_run_give_results_back(io: LoopThread) -> None:
    async def double(x: int) -> int:
        await asyncio.sleep(0)
        return 2 * x

    assert io.run(double(21), DEADLINE) == 42
    assert io.submit(double(2)).result(DEADLINE) == 4


def test_spawned_coroutines_run_in_order_and_a_burst_wakes_the_loop_once(io: LoopThread) -> None:
    ran: list[int] = []
    done = threading.Event()
    wakes = 0
    real = io.loop.call_soon_threadsafe

    def counting(callback: Any, *args: Any) -> Any:
        nonlocal wakes
        wakes += 1
        return real(callback, *args)

    async def record(n: int) -> None:
        ran.append(n)
        if n == 49:
            done.set()

    release = block(io)
    io.loop.call_soon_threadsafe = counting  # type: ignore[method-assign]
    try:
        for n in range(50):  # the loop is busy: all 50 wait for one wake-up
            io.spawn(record(n))
        assert wakes == 1
    finally:
        io.loop.call_soon_threadsafe = real  # type: ignore[method-assign]
        release.set()
    assert done.wait(DEADLINE)
    assert ran == list(range(50))
    io.spawn(record(50))  # the loop caught up: the next spawn wakes it again
    io.run(asyncio.sleep(0), DEADLINE)


def test_a_failing_spawned_coroutine_is_logged_and_the_loop_goes_on(io: LoopThread) -> None:
    async def fail() -> None:
        raise RuntimeError("boom")

    with structlog.testing.capture_logs() as logs:
        io.spawn(fail())
        io.run(asyncio.sleep(0.01), DEADLINE)
    assert any(e["event"] == "a task on the I/O loop failed" and "boom" in e["error"] for e in logs)
    assert io.run(asyncio.sleep(0, result="alive"), DEADLINE) == "alive"


def test_spawned_work_still_queued_at_stop_is_cancelled_without_warnings() -> None:
    io = LoopThread("test-stop").start()
    started = threading.Event()

    async def forever() -> None:
        started.set()
        await asyncio.sleep(3600)

    io.spawn(forever())
    assert started.wait(DEADLINE)
    release = block(io)
    for _ in range(5):  # queued behind the blocked callback
        io.spawn(forever())
    release.set()
    io.stop()  # -W error: a coroutine never awaited would fail the test
    assert not io.running
    with pytest.raises(RuntimeError, match="not running"):
        io.spawn(forever())
