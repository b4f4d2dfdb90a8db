"""The data directory is its owner's only: 0700, its databases (and their -wal, -shm) 0600."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import structlog

from bms.bacnet import DiscoveryStore
from bms.clock import ManualClock
from bms.daemon import DataDirLock
from bms.history import HistoryWriter
from bms.messages import PointValue
from bms.model import Node, NodeStore
from bms.points import Override, OverrideStore

DATABASES = ("history.db", "overrides.db", "nodes.db", "discovery.db")


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask most systems have (022): without care, files come out world-readable."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def open_site_stores(data: Path, stack: ExitStack) -> None:
    """The four stores of a site, as the daemon opens them, each with something written."""
    history = HistoryWriter(data / "history.db")
    stack.callback(history.close)
    history.append([PointValue(point_id="ahu1/sat", value=12.5, ts=1_700_000_000.0)])
    overrides = stack.enter_context(OverrideStore(data / "overrides.db"))
    overrides.put(Override(point_id="ahu1/clg_valve", priority=8, value=100.0))
    nodes = stack.enter_context(NodeStore(data / "nodes.db", ManualClock()))
    nodes.upsert(Node(id="site", type="Site", name="Site"))
    stack.enter_context(DiscoveryStore(data / "discovery.db"))


def test_the_daemons_data_directory_and_databases_are_the_owners_only(tmp_path: Path) -> None:
    data = tmp_path / "share" / "bms"
    lock = DataDirLock(data).acquire()  # the daemon's first step
    with ExitStack() as stack:
        stack.callback(lock.release)
        open_site_stores(data, stack)
        found = {p.name: mode(p) for p in data.iterdir()}
        assert mode(data) == 0o700
        for name in DATABASES:  # the stores are open: their WAL and shared memory exist
            for each in (name, f"{name}-wal", f"{name}-shm"):
                assert found.pop(each) == 0o600, each
        assert found == {"bms.lock": 0o600}


def test_a_store_alone_creates_the_data_directory_0700(tmp_path: Path) -> None:
    data = tmp_path / "fresh"
    with OverrideStore(data / "overrides.db") as store:
        store.put(Override(point_id="vav1/flow_sp", priority=8, value=300.0))
        assert mode(data) == 0o700
        assert {p.name: mode(p) for p in data.iterdir()} == {
            "overrides.db": 0o600, "overrides.db-wal": 0o600, "overrides.db-shm": 0o600,
        }


def test_wider_modes_left_by_an_older_bms_are_tightened_with_a_log_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    old = sqlite3.connect(data / "history.db")  # as an older bms left it: world-readable, with its WAL
    old.execute("PRAGMA journal_mode=WAL")
    old.execute("CREATE TABLE t (x)")
    old.commit()
    for each in ("history.db", "history.db-wal", "history.db-shm"):
        os.chmod(data / each, 0o644)
    try:
        with structlog.testing.capture_logs() as logs:
            writer = HistoryWriter(data / "history.db")
            writer.close()
    finally:
        old.close()
    assert mode(data) == 0o700
    assert all(mode(p) == 0o600 for p in data.iterdir())
    tightened = {(e["event"], Path(e["path"]).name) for e in logs if "tightened" in e["event"]}
    assert tightened == {
        ("data directory was readable by others: tightened", "data"),
        ("database file was readable by others: tightened", "history.db"),
        ("database file was readable by others: tightened", "history.db-wal"),
        ("database file was readable by others: tightened", "history.db-shm"),
    }
    assert all(e["log_level"] == "warning" and e["was"] == "0o644" for e in logs if e["path"].endswith("-wal"))


def test_the_lock_tightens_an_existing_data_directory(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    os.chmod(data, 0o775)
    with structlog.testing.capture_logs() as logs:
        lock = DataDirLock(data).acquire()
    lock.release()
    assert mode(data) == 0o700 and mode(data / "bms.lock") == 0o600
    assert [e["event"] for e in logs] == ["data directory was readable by others: tightened"]
