"""Process-level pieces of ``bms daemon``: the data directory, its lock, its records."""

from bms.daemon._datadir import DaemonInfo, DataDirLock, read_daemon_info, resolve_data_dir, write_daemon_info

__all__ = ["DaemonInfo", "DataDirLock", "read_daemon_info", "resolve_data_dir", "write_daemon_info"]
