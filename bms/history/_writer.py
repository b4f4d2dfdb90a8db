"""HistoryWriter: the only writer of history.db.

``append`` stores a batch in one transaction on a plain sqlite3 connection
(``executemany``; WAL, synchronous=NORMAL): when it returns, the rows are
committed and survive a crash of the process (kill -9). A power cut may
lose the last transactions, as synchronous=NORMAL allows.

Duplicates: a second sample for the same (point, ts) replaces the first
(last write wins), in the raw table and in the rollups. Rollups are exact
for out-of-order and duplicate samples: a sample newer than everything
recorded for its point is added incrementally; any other is inserted and
its buckets are rebuilt (:mod:`bms.history._rollup`). One approximation: a
sample older than the prune horizon (raw rows already deleted) can only be
added to its buckets, so re-sending such a sample counts it twice there.

Numbers (int, float) are recorded and rolled up; a bool is recorded as 0/1
(its average is the fraction of time on); a text value is recorded but not
rolled up; None, NaN and infinities are recorded as "no value".
"""

from __future__ import annotations

import math
import os
import sqlite3
from collections import Counter
from collections.abc import Iterable
from operator import itemgetter
from pathlib import Path
from types import TracebackType
from typing import Any

from bms.clock import Clock, WallClock
from bms.config._schema import RetentionSection
from bms.errors import StoreError
from bms.history._prune import Pruner, PruneReport, cutoffs
from bms.history._rollup import Agg, Key, add_increments, rebuild
from bms.history._schema import MIGRATIONS, STORE
from bms.messages import PointValue
from bms.store import connect_raw, open_database

_INF = math.inf
_CACHE_KIB = -32768  # negative: KiB, not pages
_CHECKPOINT_PAGES = 4000  # of 4 KiB
_INSERT = "INSERT OR REPLACE INTO samples (point, ts, value) VALUES (?, ?, ?)"
_STATS_FRESH = (
    "UPDATE points SET count = count + ?2, last_ts = ?3,"
    " first_ts = ifnull(first_ts, (SELECT min(ts) FROM samples WHERE point = ?1)),"
    " since = ifnull(since, (SELECT min(ts) FROM samples WHERE point = ?1)) WHERE id = ?1"
)
"""Point stats after a batch of fresh samples only: ?1 point, ?2 how many, ?3 the greatest ts."""
_STATS = (
    "UPDATE points SET count = count + ?2 + (SELECT count(*) FROM samples WHERE point = ?1 AND ts > ?3),"
    " first_ts = (SELECT min(ts) FROM samples WHERE point = ?1),"
    " last_ts = (SELECT max(ts) FROM samples WHERE point = ?1),"
    " since = min(ifnull(since, 9e999), (SELECT min(ts) FROM samples WHERE point = ?1)) WHERE id = ?1"
)
"""Point stats after a batch with late samples: ?1 point, ?2 late samples new to it, ?3 its greatest ts before."""

Stored = float | int | str | None
Row = tuple[int, float, Stored]


def _coerce(v: object) -> tuple[Stored, float | int | None]:
    """(what to store, the number or None) for a value that is not a plain float, int, str or None."""
    if isinstance(v, bool | int):
        return int(v), int(v)
    if isinstance(v, float):
        num = float(v) if math.isfinite(v) else None
        return num, num
    if isinstance(v, str):
        return str(v), None
    return None, None


def _identity(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


class HistoryWriter:
    """Appends samples to ``path``, keeps the rollups, applies retention.

    Not thread-safe: one owner (the history actor) calls it. Open readers
    with :class:`HistoryReader` on their own connections.
    """

    def __init__(self, path: str | Path, retention: RetentionSection | None = None, clock: Clock | None = None) -> None:
        self.path = Path(path)
        self.retention = retention or RetentionSection()
        self._clock: Clock = clock or WallClock()
        open_database(self.path, STORE, MIGRATIONS).dispose()
        self._conn = connect_raw(self.path)
        self._closed = False
        self._identity = _identity(self.path)
        try:
            # 32 MiB of page cache keeps the tails of every point's raw and rollup ranges in memory, and
            # a 16 MiB WAL checkpoints the pages that every batch rewrites (rollups, points) less often:
            # measured +10% rows/s with 10 points, +40% with 2,000, over SQLite's 2 MiB and 4 MiB.
            # The WAL file is cut back to twice that when it restarts: never in steady running (it stays
            # near 16 MiB), only after a transaction larger than usual (a 100,000-point site's first polls)
            self._conn.execute(f"PRAGMA cache_size={_CACHE_KIB}")
            self._conn.execute(f"PRAGMA wal_autocheckpoint={_CHECKPOINT_PAGES}")
            self._conn.execute(f"PRAGMA journal_size_limit={2 * _CHECKPOINT_PAGES * 4096}")
            self._ids: dict[str, int] = {}
            self._top: dict[int, float] = {}  # greatest ts recorded per point
            for pid, name, top in self._conn.execute("SELECT id, point_id, last_ts FROM points"):
                self._ids[name] = pid
                if top is not None:
                    self._top[pid] = top
            self._exact_from = self._horizon()
        except sqlite3.Error as err:
            self._conn.close()
            raise StoreError(f"{self.path}: cannot read history: {err}") from err

    # ---------------------------------------------------------------- append

    def append(self, values: Iterable[PointValue]) -> int:
        """Store a batch in one transaction; return how many samples were stored.

        They are committed when this returns. A sample whose ts is not a
        finite number is dropped (and not counted).
        """
        conn = self._live()
        new_ids: dict[str, int] = {}
        run: dict[int, list[Any]] = {}
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                count = self._write(values, new_ids, run)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as err:
            raise StoreError(f"{self.path}: cannot write history: {err}") from err
        self._ids.update(new_ids)
        for pid, r in run.items():
            self._top[pid] = r[0]
        return count

    def _write(self, values: Iterable[PointValue], new_ids: dict[str, int], run: dict[int, list[Any]]) -> int:
        """The body of :meth:`append`, inside its transaction.

        ``run[point]`` is ``[greatest ts so far, end of the open 15-minute
        bucket, its aggregate, greatest ts before the batch]``. A sample above
        the greatest ts so far is *fresh*: stored and folded into the open
        bucket (fresh samples of a point come in ts order, so a bucket once
        left is never seen again). Any other is *late* (:meth:`_write_late`).
        """
        fresh: list[Row] = []
        late: dict[tuple[int, float], tuple[Stored, float | int | None]] = {}
        aggs: dict[Key, Agg] = {}
        n_late = 0
        # the hot loop: names bound locally, one dict lookup per sample on the common path
        id_of, run_of, top_of, keep, inf, neg = self._ids.get, run.get, self._top.get, fresh.append, _INF, -_INF
        for pv in values:
            name = pv.point_id
            pid = id_of(name) or new_ids.get(name)
            if pid is None:
                pid = new_ids[name] = self._create_point(name)
            ts = pv.ts
            v = pv.value
            num: float | int | None
            if type(v) is float:
                num = v = v if neg < v < inf else None
            elif type(v) is int:
                num = v
            elif v is None or type(v) is str:
                num = None
            else:
                v, num = _coerce(v)
            r = run_of(pid)
            if r is None:
                top = top_of(pid, neg)
                r = run[pid] = [top, neg, None, top]
            if r[0] < ts < inf:
                r[0] = ts
                keep((pid, ts, v))
                if num is not None:
                    if ts < r[1]:
                        a = r[2]
                        if num < a[0]:
                            a[0] = num
                        elif num > a[1]:
                            a[1] = num
                        a[2] += num
                        a[3] += 1
                        a[4] = num
                        a[5] = ts
                    else:
                        start = ts - ts % 900
                        r[1] = start + 900
                        r[2] = aggs[(pid, start)] = [num, num, num, 1, num, ts]
            elif neg < ts < inf:
                late[(pid, ts)] = (v, num)
                n_late += 1
        cur = self._conn.cursor()
        try:
            cur.executemany(_INSERT, fresh)
            added: dict[int, int] = {}
            dirty = self._write_late(cur, late, run, added, aggs) if late else set()
            add_increments(cur, aggs)
            rebuild(cur, dirty)
            counts = Counter(map(itemgetter(0), fresh))
            cur.executemany(_STATS_FRESH, [(pid, n, run[pid][0]) for pid, n in counts.items() if pid not in added])
            cur.executemany(_STATS, [(pid, n, run[pid][3]) for pid, n in added.items()])
        finally:
            cur.close()
        return len(fresh) + n_late

    def _write_late(self, cur: sqlite3.Cursor, late: dict[tuple[int, float], tuple[Stored, float | int | None]],
                    run: dict[int, list[Any]], added: dict[int, int], aggs: dict[Key, Agg]) -> set[Key]:
        """Store the late samples; return the 15-minute buckets to rebuild.

        ``added[point]`` counts those that were not recorded before the batch
        (later ones are counted with the fresh samples, by ``_STATS``).
        """
        dirty: set[Key] = set()
        exists = "SELECT 1 FROM samples WHERE point = ? AND ts = ?"
        for key, (_, num) in late.items():
            pid, ts = key
            n = added.setdefault(pid, 0)
            if ts <= run[pid][3] and cur.execute(exists, key).fetchone() is None:
                added[pid] = n + 1
            bucket = ts - ts % 900
            if ts >= self._exact_from:
                dirty.add((pid, bucket))
            elif num is not None:
                a = aggs.setdefault((pid, bucket), [num, num, 0.0, 0, num, ts])
                a[0], a[1] = min(a[0], num), max(a[1], num)
                a[2] += num
                a[3] += 1
                if ts >= a[5]:
                    a[4], a[5] = num, ts
        cur.executemany(_INSERT, [(pid, ts, v) for (pid, ts), (v, _) in late.items()])
        return dirty

    def _create_point(self, name: str) -> int:
        cur = self._conn.execute("INSERT INTO points (point_id) VALUES (?)", (name,))
        assert cur.lastrowid is not None
        return cur.lastrowid

    # ------------------------------------------------------------- retention

    def prune(self, now: float | None = None, *, chunk: int = 10_000, budget: int | None = None) -> PruneReport:
        """Delete rows older than each tier's retention at ``now`` (default: the clock).

        At most ``chunk`` rows per transaction and ``budget`` transactions per
        call (None: until done); ``done`` in the report says whether all is pruned.
        """
        at = self._clock.now() if now is None else now
        pruner = Pruner(self._live(), chunk, budget)
        try:
            done = pruner.run(cutoffs(self.retention, at))
        except BaseException as err:
            pruner.rollback()
            if isinstance(err, sqlite3.Error):
                raise StoreError(f"{self.path}: cannot prune history: {err}") from err
            raise
        finally:
            self._exact_from = max(self._exact_from, self._horizon())
        d = pruner.deleted
        return PruneReport(samples=d["raw"], buckets_15m=d["15m"], buckets_1h=d["1h"], buckets_1d=d["1d"], done=done)

    def _horizon(self) -> float:
        """The ts from which rollup buckets can be rebuilt exactly (nothing pruned at or after it)."""
        row = self._conn.execute("SELECT max(cutoff) FROM horizons WHERE tier != '1d'").fetchone()
        return -_INF if row is None or row[0] is None else float(row[0])

    # -------------------------------------------------------------- lifetime

    def detached(self) -> str | None:
        """Why the file this writer holds open is no longer ``path`` (deleted, replaced), or None.

        SQLite keeps writing to an unlinked file without an error: the owner
        checks this on its ticks and reopens.
        """
        try:
            now = _identity(self.path)
        except FileNotFoundError:
            return f"{self.path} was deleted while open"
        if now != self._identity:
            return f"{self.path} was replaced by another file while open"
        return None

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._closed = True
        self._conn.close()

    def _live(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError(f"{self.path}: the history writer is closed")
        return self._conn

    def __enter__(self) -> HistoryWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
