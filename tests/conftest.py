"""Shared fixtures: a platform context on a manual clock, always torn down."""

from __future__ import annotations

import errno
import os
import subprocess
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
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs mounted for the test: a real file system that a test can fill (SQLITE_FULL, ENOSPC)."""
    mount = tmp_path / "fs"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    assert done.returncode == 0, f"this test mounts a small tmpfs (it needs root, as CI has): {done.stderr.strip()}"
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(path: Path) -> None:
    """Write ``path`` until its file system has no space left (a log or a backup filling an edge box's disk)."""
    block = b"\0" * 65536
    with path.open("wb") as out:
        try:
            while True:
                out.write(block)
                out.flush()
        except OSError as err:
            assert err.errno == errno.ENOSPC, err
    os.sync()


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
