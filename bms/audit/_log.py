"""``AuditLog``: the append-only audit log in ``audit.db``.

There is no update and no delete here: :meth:`AuditLog.append` adds rows
in one transaction, each chained to the one before it (``bms.audit._chain``)
and :meth:`AuditLog.verify` walks the whole chain. The tail the next row
links to is read inside the writing transaction, so two writers (the CLI
working on a data directory with no daemon, twice at once) still make one
chain, and a process killed mid-transaction leaves the last committed row
as the tail: no broken link.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from bms.audit._chain import GENESIS, columns, first_break, link
from bms.audit.messages import AuditEntry, AuditRow, AuditVerdict
from bms.errors import StoreError
from bms.store import connect_raw, open_database

AUDIT_DB = "audit.db"
_FIELDS = "seq, at, user, token, origin, action, target, before, after, outcome, detail, prev, hash"
MIGRATIONS = [
    "CREATE TABLE audit (seq INTEGER PRIMARY KEY, at REAL NOT NULL, user TEXT NOT NULL, token TEXT NOT NULL,"
    " origin TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, before TEXT NOT NULL,"
    " after TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL);"
    "CREATE INDEX audit_at ON audit (at)",
]


def _row(r: tuple[object, ...]) -> AuditRow:
    entry = AuditEntry(at=r[1], user=r[2], token=r[3], origin=r[4], action=r[5], target=r[6],  # type: ignore[arg-type]
                       before=r[7], after=r[8], outcome=r[9], detail=r[10])  # type: ignore[arg-type]
    return AuditRow(seq=r[0], entry=entry, prev=r[11], hash=r[12])  # type: ignore[arg-type]


class AuditLog:
    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        if not readonly:
            open_database(path, "audit", MIGRATIONS).dispose()
        elif not path.exists():
            raise StoreError(f"{path}: no audit log here yet")
        self._db: sqlite3.Connection = connect_raw(path, readonly=readonly)

    def close(self) -> None:
        self._db.close()

    def append(self, entries: Sequence[AuditEntry]) -> list[int]:
        """Commit ``entries`` as consecutive rows; their sequence numbers once durable (StoreError if not)."""
        if not entries:
            return []
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                last = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (int(last[0]), str(last[1])) if last else (0, GENESIS)
                rows = []
                for entry in entries:
                    seq += 1
                    content = columns(seq, entry)
                    digest = link(prev, content)
                    rows.append((*content, prev, digest))
                    prev = digest
                db.executemany(f"INSERT INTO audit ({_FIELDS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except sqlite3.Error as err:
            raise StoreError(f"{self.path}: cannot append to the audit log: {err}") from err
        return [r[0] for r in rows]

    def rows(self, *, user: str | None = None, action: str | None = None, target: str | None = None,
             since: float | None = None, limit: int = 1000) -> list[AuditRow]:
        """The newest ``limit`` rows matching, oldest first."""
        where: list[str] = []
        args: list[object] = []
        for column, value in (("user", user), ("action", action)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if target is not None:
            where.append("(target = ? OR target LIKE ? ESCAPE '\\')")
            escaped = target.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            args += [target, escaped + "/%"]
        if since is not None:
            where.append("at >= ?")
            args.append(since)
        sql = f"SELECT {_FIELDS} FROM audit" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY seq DESC LIMIT ?"
        try:
            found = self._db.execute(sql, (*args, limit)).fetchall()
        except sqlite3.Error as err:
            raise StoreError(f"{self.path}: cannot read the audit log: {err}") from err
        return [_row(r) for r in reversed(found)]

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM audit").fetchone()[0])

    def verify(self) -> AuditVerdict:
        """Walk the whole chain: the first broken row, or none."""
        started = time.perf_counter()
        try:
            cursor = self._db.execute(f"SELECT {_FIELDS} FROM audit ORDER BY seq")
            cursor.arraysize = 4096
            read, broken, reason = first_break(cursor)
        except sqlite3.Error as err:
            raise StoreError(f"{self.path}: cannot read the audit log: {err}") from err
        return AuditVerdict(rows=read, broken_at=broken, reason=reason, seconds=time.perf_counter() - started)
