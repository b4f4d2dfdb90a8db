"""The data directory: its lock (one daemon per directory) and ``daemon.json``.

The lock is an ``flock`` on ``bms.lock``, which also records the holder's
pid. The kernel drops the flock when a process dies, so a stale lock left by
a killed daemon is simply taken over (and said so in the log).
``daemon.json`` tells the CLI and the shell where the API listens.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from pathlib import Path

import msgspec

from bms.errors import DaemonError

LOCK_NAME = "bms.lock"
INFO_NAME = "daemon.json"
TOKEN_NAME = "api.token"


def resolve_data_dir(option: str | Path | None, configured: str) -> Path:
    """--data wins, then BMS_DATA, then the settings file."""
    raw = option if option is not None else os.environ.get("BMS_DATA") or configured
    return Path(raw).expanduser().resolve()


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None
        self.stale_pid: int | None = None

    def acquire(self) -> DataDirLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise DaemonError(f"{self.path.parent}: cannot use data directory: {err.strerror}") from err
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EAGAIN, errno.EACCES):
                pid = self.holder()
                who = f" (pid {pid})" if pid else ""
                raise DaemonError(
                    f"another bms daemon is already running on {self.path.parent}{who}; "
                    "stop it first or use another --data directory"
                ) from None
            raise DaemonError(f"{self.path}: cannot lock: {err.strerror}") from err
        previous = self.holder_from_fd(fd)
        if previous and previous != os.getpid():
            self.stale_pid = previous
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    @staticmethod
    def holder_from_fd(fd: int) -> int | None:
        try:
            text = os.pread(fd, 32, 0).decode().strip()
            return int(text) if text else None
        except (OSError, ValueError):
            return None

    def holder(self) -> int | None:
        try:
            text = self.path.read_text().strip()
            return int(text) if text else None
        except (OSError, ValueError):
            return None

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None


class DaemonInfo(msgspec.Struct, frozen=True):
    pid: int
    api_url: str
    started: float
    version: str
    scenario: str = ""


def write_daemon_info(data_dir: Path, info: DaemonInfo) -> None:
    tmp = data_dir / (INFO_NAME + ".tmp")
    tmp.write_bytes(msgspec.json.encode(info))
    tmp.replace(data_dir / INFO_NAME)


def read_daemon_info(data_dir: Path) -> DaemonInfo | None:
    try:
        return msgspec.json.decode((data_dir / INFO_NAME).read_bytes(), type=DaemonInfo)
    except (OSError, msgspec.DecodeError, json.JSONDecodeError):
        return None


def clear_daemon_info(data_dir: Path) -> None:
    try:
        (data_dir / INFO_NAME).unlink()
    except FileNotFoundError:
        pass
