"""Helpers to run `bms daemon` as a real subprocess in tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest

from bms.daemon import read_daemon_info
from tests.conftest import ROOT, wait_until

SITE = ROOT / "tests/data/site.toml"


class DaemonProcess:
    """A `bms daemon` child process whose JSON log lines are collected."""

    def __init__(self, data: Path, config: Path | None = None, *args: str, env: dict[str, str] | None = None) -> None:
        cmd = [sys.executable, "-m", "bms", "daemon", "--data", str(data), "--api-port", "0", *args]
        if config is not None:
            cmd += ["--config", str(config)]
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env)
        self.lines: list[dict[str, object]] = []
        self.raw: list[str] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, args=(self.proc.stderr,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            with self._cond:
                self.raw.append(line)
                try:
                    self.lines.append(json.loads(line))
                except ValueError:
                    pass
                self._cond.notify_all()

    def wait_for_event(self, event: str, timeout: float = 30.0) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for rec in self.lines:
                    if rec.get("event") == event:
                        return rec
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"daemon never logged {event!r}; output:\n{''.join(self.raw)[-4000:]}")
                self._cond.wait(min(left, 0.1))

    def terminate(self, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._reader.join(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@contextmanager
def running(data: Path, config: Path) -> Iterator[DaemonProcess]:
    """A daemon on ``data`` with ``config`` (a settings or scenario file), running and answering; stopped with
    SIGTERM (exit 0) at the end."""
    daemon = DaemonProcess(data, config)
    try:
        daemon.wait_for_event("running")
        wait_until(lambda: read_daemon_info(data) is not None, timeout=10, what="daemon.json")
        yield daemon
        assert daemon.terminate() == 0
    finally:
        daemon.close()


def virtual_room(folder: Path, extra: str = "", timezone: str | None = None) -> Path:
    """The virtual-room scenario of tests/data written to ``folder`` (``extra``: TOML appended), its path."""
    text = (ROOT / "tests/data/site.toml").read_text().replace(
        'profile_dirs = ["profiles"]', f'profile_dirs = ["{ROOT / "tests/data/profiles"}"]')
    if timezone is not None:
        text = text.replace('name = "Test site"', f'name = "Test site"\ntimezone = "{timezone}"')
    scenario = folder / "site.toml"
    scenario.write_text(text + extra)
    return scenario


@contextmanager
def virtual_site(factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A daemon running the virtual-room site (tests/data/site.toml) on a fresh data dir; stopped with SIGTERM."""
    path = factory.mktemp("daemon")
    daemon = DaemonProcess(path, SITE)
    try:
        daemon.wait_for_event("running")
        wait_until(lambda: read_daemon_info(path) is not None and (path / "api.token").exists(),
                   timeout=10, what="daemon.json and api.token")
        yield path
        assert daemon.terminate() == 0
    finally:
        daemon.close()
    assert read_daemon_info(path) is None  # cleared on exit
