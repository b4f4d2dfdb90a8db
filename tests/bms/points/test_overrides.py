"""OverrideStore: levels survive a restart; expired ones are dropped on load."""

from __future__ import annotations

from pathlib import Path

import pytest

from bms.clock import ManualClock
from bms.errors import StoreError
from bms.points import CommandTable, Override, OverrideStore


def _table(clock: ManualClock) -> CommandTable:
    table = CommandTable(clock)
    table.add("ahu1/sat_sp", 13.0)
    table.add("ahu1/fan_cmd", False)
    table.add("ahu1/mode", "auto")
    return table


def test_commands_survive_a_restart(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "data" / "overrides.db"
    table = _table(clock)
    with OverrideStore(path) as store:
        for done in (
            table.write("ahu1/sat_sp", 17.5, priority=8, user="ann"),
            table.write("ahu1/sat_sp", 21.0, priority=4, duration=600, user="bob"),
            table.write("ahu1/fan_cmd", True, priority=1),
            table.write("ahu1/mode", "occupied", priority=10),
            table.write("ahu1/mode", "night", priority=12),
            table.relinquish("ahu1/mode", 12),
        ):
            store.apply(done)
    before = {p: table.effective(p) for p in table.point_ids()}

    with OverrideStore(path) as store:
        loaded = store.load(clock.now())
    again = _table(clock)
    assert again.restore(loaded) == []
    after = {p: again.effective(p) for p in again.point_ids()}
    assert after == before == {"ahu1/sat_sp": 21.0, "ahu1/fan_cmd": True, "ahu1/mode": "occupied"}
    assert type(after["ahu1/fan_cmd"]) is bool and type(after["ahu1/sat_sp"]) is float
    assert again.snapshot() == table.snapshot()


def test_expired_levels_are_gone_after_a_restart(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "overrides.db"
    table = _table(clock)
    with OverrideStore(path) as store:
        store.apply(table.write("ahu1/sat_sp", 17.0, priority=8))
        store.apply(table.write("ahu1/sat_sp", 21.0, priority=4, duration=300))
        store.apply(table.write("ahu1/fan_cmd", True, priority=8, duration=900))
    clock.advance(600)  # the process was down for ten minutes
    with OverrideStore(path) as store:
        loaded = store.load(clock.now())
        assert [(o.point_id, o.priority) for o in loaded] == [("ahu1/fan_cmd", 8), ("ahu1/sat_sp", 8)]
        assert store.load(clock.now()) == loaded  # the expired row was deleted, not just skipped
    again = _table(clock)
    again.restore(loaded)
    assert again.effective("ahu1/sat_sp") == 17.0
    assert again.next_expiry() == loaded[0].expires_at


def test_replace_and_purge(tmp_path: Path, clock: ManualClock) -> None:
    now = clock.now()
    with OverrideStore(tmp_path / "o.db") as store:
        store.put(Override(point_id="a/x", priority=8, value=1, written_at=now))
        store.replace([
            Override(point_id="b/y", priority=9, value="on", expires_at=now + 5, written_at=now),
            Override(point_id="b/z", priority=16, value=True, written_at=now),
        ])
        assert store.purge(now + 10) == 1
        loaded = store.load(now)
    assert loaded == [Override(point_id="b/z", priority=16, value=True, written_at=now)]


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "overrides.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"overrides\.db"):
        OverrideStore(path)
