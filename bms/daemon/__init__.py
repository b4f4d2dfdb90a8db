"""Process-level pieces of ``bms daemon``: the data directory, its lock, its records."""

from bms.daemon._datadir import (
    DaemonInfo,
    DataDirLock,
    private_dir,
    private_file,
    read_daemon_info,
    resolve_data_dir,
    write_daemon_info,
)

__all__ = [
    "DaemonInfo",
    "DataDirLock",
    "private_dir",
    "private_file",
    "read_daemon_info",
    "resolve_data_dir",
    "write_daemon_info",
]
