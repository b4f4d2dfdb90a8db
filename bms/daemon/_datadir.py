"""The data directory: who may read it, its lock (one daemon per directory) and ``daemon.json``.

The directory holds the site's history, commands and API token: it is
created 0700 and its databases 0600 (:func:`private_dir`,
:func:`private_file`, called by ``bms.store`` for every SQLite file, so
SQLite gives the ``-wal`` and ``-shm`` files the same mode). A directory or
file that others may read is tightened, with a log line.

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
import stat
from pathlib import Path

import msgspec

from bms.errors import DaemonError
from bms.logs import get_logger

LOCK_NAME = "bms.lock"
INFO_NAME = "daemon.json"
TOKEN_NAME = "api.token"
DIR_MODE = 0o700
FILE_MODE = 0o600
SQLITE_SIDECARS = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> Path:
    """``path`` created 0700 (its missing parents as usual), or tightened to its owner if others may enter it.

    Raises OSError when it cannot be created.
    """
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, "data directory")
    return path


def private_file(path: Path) -> Path:
    """A database file readable by its owner only: created 0600 if missing (before SQLite opens it,
    so SQLite creates its ``-wal`` and ``-shm`` 0600 too); an existing one and its side files tightened.

    Raises OSError when it cannot be created.
    """
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    for each in (path, *(path.with_name(path.name + tail) for tail in SQLITE_SIDECARS)):
        _tighten(each, "database file")
    return path


def _tighten(path: Path, what: str) -> None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if not mode & 0o077:
        return
    log = get_logger("datadir")
    try:
        path.chmod(mode & 0o700)
    except OSError as err:
        log.warning(f"{what} readable by others; cannot tighten it", path=str(path), mode=oct(mode),
                    error=err.strerror)
        return
    log.warning(f"{what} was readable by others: tightened", path=str(path), was=oct(mode), now=oct(mode & 0o700))


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
            private_dir(self.path.parent)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
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
