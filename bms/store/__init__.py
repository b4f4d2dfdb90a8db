"""SQLite plumbing shared by every store: pragmas, schema versions, migrations."""

from bms.store._sqlite import Migration, connect_raw, make_engine, open_database

__all__ = ["Migration", "connect_raw", "make_engine", "open_database"]
