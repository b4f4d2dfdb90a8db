"""Who holds an address:port: ``/proc/net/{udp,tcp}[6]`` give the socket's inode, ``/proc/<pid>/fd`` its process.

Linux only; elsewhere (or for another user's process, whose descriptors we
may not read) the holder is unknown and callers say "another process".
"""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from bms.daemon._datadir import LOCK_NAME

if TYPE_CHECKING:
    from bms.ports._claim import Endpoint

PROC = Path("/proc")
WILDCARDS = frozenset({"0.0.0.0", "::"})
TCP_LISTEN = "0A"


def holders_of(endpoint: Endpoint, exclude: Collection[int] = ()) -> list[str]:
    """The processes holding ``endpoint`` (or its port on the wildcard address), described; [] when unknown.

    A TCP endpoint is held by a listener only. ``exclude``: socket inodes that do not count (our own).
    """
    inodes = [inode for inode in _bound_inodes(endpoint) if inode not in exclude]
    if not inodes:
        return []
    owners = _owners(set(inodes))
    pids = list(dict.fromkeys(owners[i] for i in inodes if i in owners))
    return [describe_process(pid) for pid in pids] or ["another process"]


def holder_of(endpoint: Endpoint) -> str | None:
    """The first process holding ``endpoint``, described; None when none is found."""
    found = holders_of(endpoint)
    return found[0] if found else None


def describe_process(pid: int) -> str:
    """``bms daemon pid 1234 (data /srv/bms)``, ``bms sim bacnet pid 1234``, ``python3 pid 1234``."""
    if pid == os.getpid():
        return f"this process (pid {pid})"
    data = _data_dir_of(pid)
    if data is not None:
        return f"bms daemon pid {pid} (data {data})"
    return f"{_command_of(pid)} pid {pid}"


# ------------------------------------------------------------------ /proc/net


def _bound_inodes(endpoint: Endpoint) -> Iterator[int]:
    for name in (endpoint.transport, endpoint.transport + "6"):
        for host, port, state, inode in _table(PROC / "net" / name):
            if port != endpoint.port or inode == 0:
                continue
            if endpoint.transport == "tcp" and state != TCP_LISTEN:
                continue
            if host == endpoint.host or host in WILDCARDS or endpoint.host in WILDCARDS:
                yield inode


def _table(path: Path) -> Iterator[tuple[str, int, str, int]]:
    """(local host, local port, state, inode) of each socket in a ``/proc/net`` table."""
    try:
        lines = path.read_text().splitlines()[1:]
    except OSError:
        return
    for line in lines:
        fields = line.split()
        if len(fields) < 10:
            continue
        address, _, port = fields[1].partition(":")
        try:
            yield _host(address), int(port, 16), fields[3], int(fields[9])
        except (ValueError, OSError):
            continue


def _host(hexed: str) -> str:
    """An address as ``/proc/net`` writes it (32-bit words in the host's byte order), as text."""
    words = b"".join(struct.pack("=I", int(hexed[i:i + 8], 16)) for i in range(0, len(hexed), 8))
    if len(words) == 4:
        return socket.inet_ntop(socket.AF_INET, words)
    text = socket.inet_ntop(socket.AF_INET6, words)
    return text.removeprefix("::ffff:") if text.startswith("::ffff:") and "." in text else text


# ------------------------------------------------------------------ /proc/<pid>


def _owners(inodes: set[int]) -> dict[int, int]:
    """Socket inode -> pid, for the processes whose descriptors we may read."""
    wanted = {f"socket:[{inode}]": inode for inode in inodes}
    found: dict[int, int] = {}
    for pid in _pids():
        for link in _fd_links(pid):
            inode = wanted.get(link)
            if inode is not None and inode not in found:
                found[inode] = pid
                if len(found) == len(wanted):
                    return found
    return found


def _pids() -> Iterator[int]:
    try:
        names = os.listdir(PROC)
    except OSError:
        return
    own = os.getpid()
    yield own  # ours first: the likely holder in tests, and cheap
    for name in names:
        if name.isdigit() and int(name) != own:
            yield int(name)


def _fd_links(pid: int) -> Iterator[str]:
    fd_dir = PROC / str(pid) / "fd"
    try:
        fds = os.listdir(fd_dir)
    except OSError:  # gone, or another user's
        return
    for fd in fds:
        try:
            yield os.readlink(fd_dir / fd)
        except OSError:
            continue


def _data_dir_of(pid: int) -> str | None:
    """The data directory of a bms daemon: the one whose ``bms.lock`` it keeps open."""
    for link in _fd_links(pid):
        if link.endswith(f"/{LOCK_NAME}"):
            return str(Path(link).parent)
    return None


def _command_of(pid: int) -> str:
    """``bms sim bacnet`` for a bms command (``bms`` or ``python -m bms``), else the program's name."""
    try:
        argv = (PROC / str(pid) / "cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return "another process"
    argv = [a for a in argv if a]
    for i, arg in enumerate(argv):
        if os.path.basename(arg) in ("bms", "bms-sim") or (arg == "bms" and i > 0 and argv[i - 1] == "-m"):
            words = [os.path.basename(arg)]
            for word in argv[i + 1:]:
                if word.startswith("-") or len(words) == 3:
                    break
                words.append(word)
            return " ".join(words)
    return os.path.basename(argv[0]) if argv else "another process"
