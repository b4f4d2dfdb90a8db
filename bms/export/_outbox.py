"""``Outbox``: a target's store-and-forward buffer, one SQLite file per target under the data directory.

Every sample for a target is appended here first (one transaction per batch,
WAL, synchronous=NORMAL: a kill -9 loses nothing committed). The target's
sender reads the oldest rows, writes them to the target and only then
removes them (:meth:`ack`), so a target that is down keeps its rows on disk
and gets them in order when it comes back; a daemon killed in between sends
the last batch again, which the targets' idempotent keys absorb.

The file also keeps the target's backfill jobs (their range and cursor), so
an interrupted backfill resumes where it stopped.

Rows are kept a batch at a time (the batch the actor received, as msgpack
rows): an append is one INSERT whatever the batch's size, which keeps the
outbox's cost per sample far below the targets' own.

Layout (schema version 1)::

    chunks    seq INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER (rows), first_ts REAL,
              body BLOB (msgpack [[point, ts, value], ...])
    backfill  id TEXT PRIMARY KEY, since REAL, until REAL, point INTEGER, ts REAL,
              sent INTEGER, total INTEGER, done INTEGER
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

from bms.errors import StoreError
from bms.export._rows import ExportRow
from bms.messages import PointValue
from bms.store import connect_raw

SCHEMA = 1
_CREATE = [
    "CREATE TABLE IF NOT EXISTS chunks (seq INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL,"
    " first_ts REAL NOT NULL, body BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS backfill (id TEXT PRIMARY KEY, since REAL NOT NULL, until REAL NOT NULL,"
    " point INTEGER NOT NULL DEFAULT 0, ts REAL NOT NULL DEFAULT 0, sent INTEGER NOT NULL DEFAULT 0,"
    " total INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0)",
]


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(list[ExportRow])


def encode_rows(rows: Sequence[tuple[str, float, object]]) -> bytes:
    """The default chunk encoding: msgpack ``[[point, ts, value], ...]``."""
    return _encoder.encode(rows)


def decode_rows(body: bytes, where: object = "outbox") -> list[ExportRow]:
    try:
        return _decoder.decode(body)
    except msgspec.DecodeError as err:
        raise StoreError(f"{where}: a buffered chunk cannot be read: {err}") from err


class OutboxBatch(NamedTuple):
    """The oldest rows of an outbox and the sequence number to :meth:`Outbox.ack` once they are written."""

    rows: list[ExportRow]
    upto: int


class BackfillJob(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A backfill of ``[since, until)`` and how far it got: history rows after (point, ts) are still to send."""

    id: str
    since: float
    until: float
    point: int = 0  # history.db's integer id of the last point sent from
    ts: float = 0.0  # and the last ts sent of it
    sent: int = 0
    total: int = 0
    done: bool = False


class Outbox:
    """The buffer of one target; safe to share between the actor (appends) and its sender (reads, acks)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = connect_raw(self.path)
        try:
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA:
                raise StoreError(f"{self.path}: outbox schema {version} is newer than this bms knows ({SCHEMA})")
            for statement in _CREATE:
                self._conn.execute(statement)
            self._conn.execute(f"PRAGMA user_version = {SCHEMA}")
            count, first = self._conn.execute("SELECT sum(n), min(seq) FROM chunks").fetchone()
            self._count: int = int(count or 0)
            self._oldest_ts = self._ts_of(first)
        except sqlite3.Error as err:
            self._conn.close()
            raise StoreError(f"{self.path}: cannot open the outbox: {err}") from err

    # ------------------------------------------------------------------ rows
    def append(self, values: Iterable[PointValue]) -> int:
        """Buffer samples (one transaction); the number appended."""
        return self.append_rows([(v.point_id, v.ts, v.value) for v in values])

    def append_rows(self, rows: Sequence[tuple[str, float, object]]) -> int:
        if not rows:
            return 0
        self.append_chunk(len(rows), float(rows[0][1]), encode_rows(rows))
        return len(rows)

    def append_chunk(self, n: int, first_ts: float, body: bytes) -> int:
        """Buffer ``n`` rows encoded as ``body``; the chunk's sequence number (to :meth:`ack` it)."""
        with self._lock:
            try:
                seq = self._conn.execute("INSERT INTO chunks (n, first_ts, body) VALUES (?, ?, ?)",
                                         (n, first_ts, body)).lastrowid
            except sqlite3.Error as err:
                raise StoreError(f"{self.path}: cannot buffer {n} rows: {err}") from err
            if self._count == 0:
                self._oldest_ts = first_ts
            self._count += n
        return int(seq or 0)

    def chunks(self, limit: int) -> tuple[list[bytes], int, int]:
        """The oldest chunks, about ``limit`` rows (at least one chunk): (bodies, rows, seq to ack)."""
        bodies: list[bytes] = []
        rows = upto = 0
        with self._lock:
            try:
                cursor = self._conn.execute("SELECT seq, n, body FROM chunks ORDER BY seq")
                for seq, n, body in cursor:
                    if bodies and rows + n > limit:
                        break
                    bodies.append(bytes(body))
                    rows += n
                    upto = seq
                cursor.close()
            except sqlite3.Error as err:
                raise StoreError(f"{self.path}: cannot read the outbox: {err}") from err
        return bodies, rows, upto

    def peek(self, limit: int) -> OutboxBatch:
        """The oldest rows (of msgpack chunks), in the order they were appended: whole chunks, about ``limit``."""
        bodies, _n, upto = self.chunks(limit)
        rows: list[ExportRow] = []
        for body in bodies:
            rows += decode_rows(body, self.path)
        return OutboxBatch(rows, upto)

    def ack(self, upto_seq: int) -> int:
        """Forget the rows up to ``upto_seq`` (written to the target); how many went."""
        with self._lock:
            try:
                self._conn.execute("BEGIN")
                gone = self._conn.execute("SELECT coalesce(sum(n), 0) FROM chunks WHERE seq <= ?",
                                          (upto_seq,)).fetchone()[0]
                self._conn.execute("DELETE FROM chunks WHERE seq <= ?", (upto_seq,))
                self._conn.execute("COMMIT")
                self._count = max(0, self._count - int(gone))
                first = self._conn.execute("SELECT min(seq) FROM chunks").fetchone()[0]
                self._oldest_ts = self._ts_of(first)
            except sqlite3.Error as err:
                self._rollback()
                raise StoreError(f"{self.path}: cannot remove sent rows: {err}") from err
        return int(gone)

    @property
    def size(self) -> int:
        """Rows buffered."""
        return self._count

    @property
    def oldest_ts(self) -> float | None:
        """The time of the oldest buffered row, or None when empty."""
        return self._oldest_ts if self._count else None

    # ------------------------------------------------------------- backfill
    def job(self, job_id: str) -> BackfillJob | None:
        with self._lock:
            found = self._conn.execute("SELECT id, since, until, point, ts, sent, total, done FROM backfill"
                                       " WHERE id = ?", (job_id,)).fetchone()
        return None if found is None else _job(found)

    def jobs(self) -> list[BackfillJob]:
        with self._lock:
            found = self._conn.execute("SELECT id, since, until, point, ts, sent, total, done FROM backfill"
                                       " ORDER BY rowid").fetchall()
        return [_job(r) for r in found]

    def save_job(self, job: BackfillJob) -> None:
        with self._lock:
            try:
                self._conn.execute(
                    "INSERT OR REPLACE INTO backfill (id, since, until, point, ts, sent, total, done)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (job.id, job.since, job.until, job.point, job.ts, job.sent, job.total, int(job.done)))
            except sqlite3.Error as err:
                raise StoreError(f"{self.path}: cannot save the backfill's progress: {err}") from err

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _ts_of(self, seq: int | None) -> float | None:
        if seq is None:
            return None
        found = self._conn.execute("SELECT first_ts FROM chunks WHERE seq = ?", (seq,)).fetchone()
        return None if found is None else float(found[0])

    def _rollback(self) -> None:
        try:
            self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass


def _job(row: tuple[Any, ...]) -> BackfillJob:
    job_id, since, until, point, ts, sent, total, done = row
    return BackfillJob(id=str(job_id), since=float(since), until=float(until), point=int(point), ts=float(ts),
                       sent=int(sent), total=int(total), done=bool(done))
