"""Process-level pieces of ``bms daemon``: the data directory, its lock, its records; returning free memory."""

from bms.daemon._datadir import (
    DaemonInfo,
    DataDirLock,
    private_dir,
    private_file,
    read_daemon_info,
    resolve_data_dir,
    write_daemon_info,
)
from bms.daemon._memory import TRIM_EVERY, MemoryTrim, release_free_memory

__all__ = [
    "TRIM_EVERY",
    "DaemonInfo",
    "DataDirLock",
    "MemoryTrim",
    "private_dir",
    "private_file",
    "read_daemon_info",
    "release_free_memory",
    "resolve_data_dir",
    "write_daemon_info",
]
