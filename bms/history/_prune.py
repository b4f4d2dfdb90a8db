"""Retention: deleting what each tier keeps no longer, in short transactions.

Each tier keeps ``RetentionSection`` days, a coarser tier at least as long
as a finer one (a shorter setting is raised to the finer tier's). Cutoffs
are aligned to the parent bucket (raw to 15 minutes, 15m to hours, 1h and
1d to days), so a bucket of the next tier is never left half-deleted below
it; that is what lets the writer rebuild a bucket exactly.

Rows go in chunks of at most ``chunk`` rows per transaction: the write lock
is held for one chunk at a time and ``budget`` bounds the chunks per call,
so an actor can prune a little on each tick between appends.
"""

from __future__ import annotations

import sqlite3

import msgspec

from bms.config._schema import RetentionSection
from bms.history._schema import TABLE, Tier, bucket_start, parent_width

_DAY = 86400.0
_ORDER: tuple[Tier, ...] = ("raw", "15m", "1h", "1d")


class PruneReport(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Rows deleted per tier by one :meth:`HistoryWriter.prune`; ``done`` when nothing is left to prune."""

    samples: int
    buckets_15m: int
    buckets_1h: int
    buckets_1d: int
    done: bool


def cutoffs(retention: RetentionSection, now: float) -> dict[Tier, float]:
    """Per tier, the ts (or bucket start) below which rows are deleted."""
    days: dict[Tier, float] = {"raw": retention.raw_days}
    days["15m"] = max(retention.rollup_15m_days, days["raw"])
    days["1h"] = max(retention.rollup_1h_days, days["15m"])
    days["1d"] = max(retention.rollup_1d_days, days["1h"])
    return {tier: bucket_start(now - d * _DAY, parent_width(tier)) for tier, d in days.items()}


class Pruner:
    """One prune run on the writer's connection (not in a transaction)."""

    def __init__(self, conn: sqlite3.Connection, chunk: int, budget: int | None) -> None:
        if chunk < 1:
            raise ValueError("chunk must be at least 1 row")
        self._conn = conn
        self._chunk = chunk
        self._budget = budget
        self._open = False
        self._in_tx = 0
        self._commits = 0
        self.deleted: dict[Tier, int] = dict.fromkeys(_ORDER, 0)

    def run(self, cuts: dict[Tier, float]) -> bool:
        """Delete below every cutoff; False if the budget ran out first."""
        for tier in _ORDER:
            if not self._prune_tier(tier, cuts[tier]):
                return False
        self._commit()
        return True

    def _prune_tier(self, tier: Tier, cutoff: float) -> bool:
        col = "ts" if tier == "raw" else "bucket"
        table = TABLE[tier]
        # points that may hold older rows: the raw range, or anything ever recorded before the
        # cutoff (cutoffs are multiples of the tier's width, so no bucket below one starts after it)
        since = "first_ts" if tier == "raw" else "since"
        points = [r[0] for r in self._conn.execute(f"SELECT id FROM points WHERE {since} < ? ORDER BY id", (cutoff,))]
        marked = False
        for point in points:
            while True:
                room = self._room()
                if room == 0:
                    return False
                if not marked:
                    self._conn.execute(
                        "INSERT INTO horizons (tier, cutoff) VALUES (?1, ?2) ON CONFLICT (tier)"
                        " DO UPDATE SET cutoff = max(cutoff, excluded.cutoff)", (tier, cutoff))
                    marked = True
                row = self._conn.execute(
                    f"SELECT {col} FROM {table} WHERE point = ? AND {col} < ? ORDER BY {col} LIMIT 1 OFFSET ?",
                    (point, cutoff, room)).fetchone()
                bound = cutoff if row is None else row[0]
                n = self._conn.execute(f"DELETE FROM {table} WHERE point = ? AND {col} < ?", (point, bound)).rowcount
                if tier == "raw":
                    self._conn.execute(
                        "UPDATE points SET count = count - ?1,"
                        " first_ts = (SELECT min(ts) FROM samples WHERE point = ?2),"
                        " last_ts = (SELECT max(ts) FROM samples WHERE point = ?2) WHERE id = ?2", (n, point))
                self.deleted[tier] += n
                self._in_tx += n
                if self._in_tx >= self._chunk:
                    self._commit()
                if row is None:
                    break
        return True

    def _room(self) -> int:
        """Rows the open transaction may still delete (opening one if the budget allows); 0: stop."""
        if not self._open:
            if self._budget is not None and self._commits >= self._budget:
                return 0
            self._conn.execute("BEGIN IMMEDIATE")
            self._open, self._in_tx = True, 0
        return self._chunk - self._in_tx

    def _commit(self) -> None:
        if self._open:
            self._open = False
            self._commits += 1
            self._conn.execute("COMMIT")

    def rollback(self) -> None:
        """Abandon the open chunk (after an error)."""
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
        self._open = False
