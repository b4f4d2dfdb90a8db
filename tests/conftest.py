"""Shared fixtures: a platform context on a manual clock, always torn down."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pykka
import pytest

from actors import Context, make_context
from bms.clock import ManualClock

ROOT = Path(__file__).resolve().parent.parent


def wait_until(predicate: Callable[[], object], timeout: float = 5.0, what: str = "condition") -> None:
    """Poll ``predicate`` until true, failing the test after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.002)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def ctx(clock: ManualClock, tmp_path: Path) -> Iterator[Context]:
    context = make_context(clock, tmp_path)
    try:
        yield context
    finally:
        context.supervisor.stop_all(timeout=5)
        pykka.ActorRegistry.stop_all(block=True, timeout=5)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run that selects no tests (e.g. -k with no match) is not a failure."""
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.OK
