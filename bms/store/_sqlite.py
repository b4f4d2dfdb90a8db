"""Opening a store's SQLite file: WAL, schema versions, migrations, clear errors.

Each store owns one database file and is its only writer. ``open_database``
creates the file if needed, applies the pragmas every store wants (WAL,
synchronous=NORMAL, foreign keys, a bounded WAL), records the schema version in
``bms_schema`` and runs the migrations that are missing. A file written by a
newer bms is refused (:class:`SchemaTooNew`); a file that is not a SQLite
database is reported with its path (:class:`StoreError`), never a traceback.

Every file a store writes is its owner's only: the directory is created
0700 and the database 0600 before SQLite opens it (``bms.daemon.private_dir``
and ``private_file``); wider modes found on them are tightened.

The WAL: SQLite checkpoints it into the database every 1,000 pages and then
starts writing it again from the beginning, but never shrinks the file, so
one large transaction (a 100,000-point model: 64 MB) leaves a WAL that size
for good. Every connection sets ``journal_size_limit`` (:data:`WAL_LIMIT`):
the file is cut back to that size each time the WAL restarts. A store that
has just written a large transaction and may write nothing for a long time
(the model at start-up) calls :func:`bound_wal`, which checkpoints and
truncates the file at once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from bms.daemon import private_dir, private_file
from bms.errors import SchemaTooNew, StoreError

Migration = Callable[[Connection], None] | str
"""A migration step: SQL text (``;``-separated statements) or a callable."""

WAL_LIMIT = 4 * 1024 * 1024
"""Bytes a store's WAL file is cut back to when it restarts (about SQLite's 1,000-page checkpoint)."""


def _set_pragmas(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
    cur.close()


def wal_size(path: str | Path) -> int:
    """Bytes in the WAL file of the database at ``path`` (0 when there is none)."""
    try:
        return Path(f"{path}-wal").stat().st_size
    except FileNotFoundError:
        return 0


def bound_wal(conn: sqlite3.Connection, path: str | Path, limit: int = WAL_LIMIT) -> bool:
    """Checkpoint the database and truncate its WAL if the file has grown past ``limit`` bytes.

    For after a large transaction: ``conn`` must be outside a transaction.
    True if the WAL was emptied; False if it was small enough, or if a
    reader still needed it (it is then cut back at the next restart).
    """
    if wal_size(path) <= limit:
        return False
    busy, _log, _moved = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return bool(busy == 0)


def connect_raw(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A plain sqlite3 connection with the store pragmas (for hot paths and readers)."""
    p = Path(path)
    try:
        if readonly:
            conn = sqlite3.connect(f"file:{p}?mode=ro", uri=True, check_same_thread=False)
        else:
            conn = sqlite3.connect(_private(p), check_same_thread=False)
        conn.isolation_level = None  # explicit BEGIN/COMMIT
        _set_pragmas(conn, None)
    except sqlite3.DatabaseError as err:
        raise StoreError(f"{p}: cannot open database: {err}") from err
    return conn


def _private(path: Path) -> Path:
    try:
        return private_file(path)
    except OSError as err:
        raise StoreError(f"{path}: cannot create database: {err.strerror}") from err


def make_engine(path: str | Path) -> Engine:
    """A SQLAlchemy engine on ``path`` with the store pragmas set per connection."""
    engine = sa.create_engine(f"sqlite:///{Path(path)}", future=True)
    event.listen(engine, "connect", _set_pragmas)
    return engine


def open_database(
    path: str | Path, store: str, migrations: Sequence[Migration]
) -> Engine:
    """Open (or create) ``path`` for ``store`` and migrate it to ``len(migrations)``.

    ``migrations[i]`` takes the schema from version ``i`` to ``i + 1``.
    """
    p = Path(path).expanduser()
    try:
        private_dir(p.parent)
    except OSError as err:
        raise StoreError(f"{p.parent}: cannot create data directory: {err.strerror}") from err
    engine = make_engine(_private(p))
    target = len(migrations)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE TABLE IF NOT EXISTS bms_schema ("
                " store TEXT PRIMARY KEY, version INTEGER NOT NULL)"
            )
            row = conn.exec_driver_sql(
                "SELECT version FROM bms_schema WHERE store = ?", (store,)
            ).first()
            current = int(row[0]) if row else 0
            if current > target:
                raise SchemaTooNew(
                    f"{p}: {store} schema version {current} is newer than this bms "
                    f"understands ({target}); upgrade bms or use another data directory"
                )
            for version in range(current, target):
                step = migrations[version]
                if isinstance(step, str):
                    for statement in step.split(";"):
                        if statement.strip():
                            conn.exec_driver_sql(statement)
                else:
                    step(conn)
            if row is None:
                conn.exec_driver_sql(
                    "INSERT INTO bms_schema (store, version) VALUES (?, ?)", (store, target)
                )
            elif current != target:
                conn.exec_driver_sql(
                    "UPDATE bms_schema SET version = ? WHERE store = ?", (target, store)
                )
    except SchemaTooNew:
        engine.dispose()
        raise
    except sa.exc.DatabaseError as err:
        engine.dispose()
        detail = str(err.orig) if err.orig is not None else str(err)
        raise StoreError(f"{p}: not a usable {store} database ({detail})") from err
    return engine
