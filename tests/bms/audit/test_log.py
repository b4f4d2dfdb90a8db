"""audit.db: append-only rows chained by SHA-256; verify names the first edited, deleted or inserted row
(the tests tamper with the file through sqlite3, as an intruder would)."""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bms.audit import GENESIS, AuditEntry, AuditLog, audited, link
from bms.audit._chain import columns
from bms.errors import BmsError, ConfigError, DeviceTimeout, StoreError


def entry(n: int, user: str = "olga", action: str = "writePoint", target: str = "ahu1/sat_sp") -> AuditEntry:
    return AuditEntry(at=1_700_000_000.0 + n, user=user, token="laptop", origin="api 10.0.0.5", action=action,
                      target=target, before='{"priority":8,"value":null}', after=f'{{"priority":8,"value":{n}}}')


@pytest.fixture
def log(tmp_path: Path) -> Iterator[AuditLog]:
    made = AuditLog(tmp_path / "audit.db")
    made.append([entry(n) for n in range(1, 11)])
    yield made
    made.close()


def tamper(path: Path, sql: str, *args: object) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute(sql, args)
    db.close()


def test_rows_are_chained_from_genesis(log: AuditLog) -> None:
    rows = log.rows()
    assert [r.seq for r in rows] == list(range(1, 11))
    assert rows[0].prev == GENESIS
    for before, row in itertools.pairwise(rows):
        assert row.prev == before.hash == link(before.prev, columns(before.seq, before.entry))
    verdict = log.verify()
    assert (verdict.rows, verdict.broken_at, verdict.intact) == (10, None, True)


def test_an_edited_row_is_named(log: AuditLog, tmp_path: Path) -> None:
    tamper(tmp_path / "audit.db", "UPDATE audit SET user = 'mallory' WHERE seq = 4")
    verdict = log.verify()
    assert (verdict.broken_at, verdict.reason) == (4, "row 4 does not match its hash (it was edited)")


def test_an_edited_row_with_its_hash_recomputed_breaks_the_next_link(log: AuditLog, tmp_path: Path) -> None:
    row = log.rows()[3]
    forged = entry(4, user="mallory")
    tamper(tmp_path / "audit.db", "UPDATE audit SET user = ?, hash = ? WHERE seq = 4",
           "mallory", link(row.prev, columns(4, forged)))
    verdict = log.verify()
    assert verdict.broken_at == 5 and "does not link to the row before it" in verdict.reason


def test_a_deleted_row_is_named(log: AuditLog, tmp_path: Path) -> None:
    tamper(tmp_path / "audit.db", "DELETE FROM audit WHERE seq = 6")
    verdict = log.verify()
    assert (verdict.broken_at, verdict.reason) == (7, "row 7 follows row 5: rows are missing before it")


def test_a_deleted_row_with_the_rest_renumbered_is_named(log: AuditLog, tmp_path: Path) -> None:
    tamper(tmp_path / "audit.db", "DELETE FROM audit WHERE seq = 6")
    tamper(tmp_path / "audit.db", "UPDATE audit SET seq = seq - 1 WHERE seq > 6")
    verdict = log.verify()
    assert verdict.broken_at == 6 and "does not link" in verdict.reason


def test_an_inserted_row_is_named(log: AuditLog, tmp_path: Path) -> None:
    rows = log.rows()
    tamper(tmp_path / "audit.db", "UPDATE audit SET seq = seq + 1000 WHERE seq > 3")
    tamper(tmp_path / "audit.db", "UPDATE audit SET seq = seq - 999 WHERE seq > 1000")
    forged = entry(99, user="mallory")
    tamper(tmp_path / "audit.db", "INSERT INTO audit VALUES (4, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
           *columns(4, forged)[1:], rows[2].hash, link(rows[2].hash, columns(4, forged)))
    verdict = log.verify()
    assert verdict.rows == 5 and verdict.broken_at == 5 and "does not link" in verdict.reason


def test_appends_after_a_reopen_continue_the_chain(log: AuditLog, tmp_path: Path) -> None:
    log.close()
    again = AuditLog(tmp_path / "audit.db")
    assert again.append([entry(11), entry(12)]) == [11, 12]
    assert again.verify().rows == 12 and again.verify().intact
    again.close()


def test_two_writers_make_one_chain(tmp_path: Path) -> None:
    logs = [AuditLog(tmp_path / "audit.db") for _ in range(2)]
    start = threading.Barrier(2)

    def write(log: AuditLog) -> None:
        start.wait()
        for n in range(50):
            log.append([entry(n)])

    threads = [threading.Thread(target=write, args=(log,)) for log in logs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    verdict = logs[0].verify()
    assert (verdict.rows, verdict.intact) == (100, True)
    for log in logs:
        log.close()


def test_rows_filter_by_user_action_target_and_time(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.db")
    log.append([entry(1, "olga"), entry(2, "bob"), entry(3, "olga", "acceptDevice", "dev-7"),
                entry(4, "olga", target="ahu10/sat_sp"), entry(5, "olga", target="ahu1")])
    assert [r.seq for r in log.rows(user="olga")] == [1, 3, 4, 5]
    assert [r.seq for r in log.rows(action="acceptDevice")] == [3]
    assert [r.seq for r in log.rows(target="ahu1")] == [1, 2, 5]  # the node and beneath, not ahu10
    assert [r.seq for r in log.rows(since=1_700_000_004.0)] == [4, 5]
    assert [r.seq for r in log.rows(limit=2)] == [4, 5]
    log.close()


def test_there_is_no_update_or_delete_path() -> None:
    assert not [name for name in dir(AuditLog) if any(w in name for w in ("update", "delete", "remove", "edit"))]


def test_a_read_only_log_must_exist(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no audit log here yet"):
        AuditLog(tmp_path / "audit.db", readonly=True)


@pytest.mark.parametrize(("error", "outcome"), [(None, "done"), (ConfigError("no such profile"), "refused"),
                                                 (DeviceTimeout("no answer"), "failed")])
def test_a_local_command_is_audited_as_the_os_user(tmp_path: Path, error: Exception | None, outcome: str) -> None:
    import getpass

    with contextlib.suppress(BmsError), audited(tmp_path, "acceptDevice", "dev-7") as change:
        change.after = {"state": "Accepted"}
        if error is not None:
            raise error
    log = AuditLog(tmp_path / "audit.db", readonly=True)
    [row] = log.rows()
    assert (row.entry.user, row.entry.origin, row.entry.action, row.entry.target, row.entry.outcome) == (
        getpass.getuser(), "cli", "acceptDevice", "dev-7", outcome)
    assert row.entry.after == '{"state":"Accepted"}' and row.entry.detail == (str(error) if error else "")
    log.close()
