"""``HistoryPages``: recorded history (history.db) read in pages after a cursor, for a backfill.

Rows come in (point, ts) order, the primary key of history.db's samples, so
each page is an index range scan and the cursor of the last row sent says
exactly where to go on: a backfill interrupted at any page resumes after
its last acknowledged one.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bms.errors import StoreError
from bms.export._rows import ExportRow
from bms.store import connect_raw

_PAGE = ("SELECT s.point, p.point_id, s.ts, s.value FROM samples s JOIN points p ON p.id = s.point"
         " WHERE (s.point, s.ts) > (?, ?) AND s.ts >= ? AND s.ts < ? ORDER BY s.point, s.ts LIMIT ?")


class HistoryPages:
    """Pages of raw history in ``[since, until)`` on a read-only connection of its own."""

    def __init__(self, path: str | Path, since: float, until: float) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise StoreError(f"{self.path}: no history database (nothing recorded yet, or the wrong data directory)")
        self.since, self.until = since, until
        self._conn = connect_raw(self.path, readonly=True)

    def total(self) -> int:
        """Rows in the range (for the progress bar)."""
        try:
            return int(self._conn.execute("SELECT count(*) FROM samples WHERE ts >= ? AND ts < ?",
                                          (self.since, self.until)).fetchone()[0])
        except sqlite3.Error as err:
            raise StoreError(f"{self.path}: cannot read history: {err}") from err

    def page(self, point: int, ts: float, limit: int) -> tuple[list[ExportRow], int, float]:
        """Up to ``limit`` rows after (point, ts), and the cursor after the last of them."""
        try:
            found = self._conn.execute(_PAGE, (point, ts, self.since, self.until, limit)).fetchall()
        except sqlite3.Error as err:
            raise StoreError(f"{self.path}: cannot read history: {err}") from err
        if not found:
            return [], point, ts
        rows = [ExportRow(pid, float(t), v) for _, pid, t, v in found]
        return rows, int(found[-1][0]), float(found[-1][2])

    def close(self) -> None:
        self._conn.close()
