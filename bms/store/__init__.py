"""SQLite plumbing shared by every store: pragmas, schema versions, migrations."""

from bms.store._sqlite import WAL_LIMIT, Migration, bound_wal, connect_raw, make_engine, open_database, wal_size

__all__ = ["WAL_LIMIT", "Migration", "bound_wal", "connect_raw", "make_engine", "open_database", "wal_size"]
