"""Bounded WAL files: every store connection cuts its WAL back; a large write is checkpointed at once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bms.clock import ManualClock
from bms.config import ModbusBinding
from bms.model import Binding, Node, NodeStore
from bms.store import WAL_LIMIT, bound_wal, connect_raw, make_engine, wal_size

BLOB = b"x" * 4000  # about one page a row


def big_transaction(conn: sqlite3.Connection, megabytes: int) -> None:
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, data BLOB)")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO t (data) VALUES (?)", [(BLOB,)] * (megabytes * 250))
    conn.execute("COMMIT")


def small_write(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN")
    conn.execute("INSERT INTO t (data) VALUES (?)", (b"y",))
    conn.execute("COMMIT")


def test_every_store_connection_limits_its_wal(tmp_path: Path) -> None:
    raw = connect_raw(tmp_path / "a.db")
    assert raw.execute("PRAGMA journal_size_limit").fetchone() == (WAL_LIMIT,)
    raw.close()
    engine = make_engine(tmp_path / "b.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_size_limit").first() == (WAL_LIMIT,)
    engine.dispose()


def test_a_wal_grown_by_a_large_transaction_is_cut_back_when_it_restarts(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    conn = connect_raw(path)
    big_transaction(conn, 12)
    assert wal_size(path) > 12_000_000  # the whole transaction went through the WAL
    for _ in range(3):  # the commit checkpointed it; the next writes start the WAL again, cut back
        small_write(conn)
    assert 0 < wal_size(path) <= WAL_LIMIT
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (12 * 250 + 3,)
    conn.close()


def test_bound_wal_checkpoints_and_empties_a_large_wal_at_once(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    conn = connect_raw(path)
    big_transaction(conn, 8)
    assert wal_size(path) > WAL_LIMIT
    assert bound_wal(conn, path) is True
    assert wal_size(path) == 0
    conn.close()
    with sqlite3.connect(path) as again:  # everything is in the database file
        assert again.execute("SELECT count(*) FROM t").fetchone() == (8 * 250,)


def test_bound_wal_leaves_a_small_wal_alone(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    conn = connect_raw(path)
    big_transaction(conn, 1)
    before = wal_size(path)
    assert 0 < before <= WAL_LIMIT
    assert bound_wal(conn, path) is False
    assert wal_size(path) == before
    conn.close()


def test_the_model_store_empties_its_wal_after_a_large_load(tmp_path: Path) -> None:
    """A site's model written at start-up (here 15,000 points) leaves no WAL behind; reopening finds it all."""
    nodes = [Node(id="site", type="Site", name="Site"), Node(id="dev", type="Equip", name="Device", parent="site")]
    nodes += [Node(id=f"dev/p{i}", type="Point", name=f"Point {i}", parent="dev", tags=("point", "sensor"),
                   properties={"key": f"p{i}", "kind": "number"},
                   binding=Binding.of("modbus", "dev", ModbusBinding(table="holding", address=i)))
              for i in range(15_000)]
    path = tmp_path / "nodes.db"
    with NodeStore(path, ManualClock()) as store:
        store.upsert_many(nodes)
        assert wal_size(path) <= WAL_LIMIT
    with NodeStore(path, ManualClock()) as store:
        assert len(store) == len(nodes)
        assert store.get("dev/p14999").binding == nodes[-1].binding
