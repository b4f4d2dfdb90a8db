"""``DeliveryLog``: webhooks.db, the webhook deliveries -- what was sent where, and how it went.

A delivery is created ``pending`` (its body fixed then, so every retry
sends the same bytes and the same ``X-Bms-Delivery`` id), becomes ``sent``
on a 2xx answer, or ``failed`` after the last attempt. Pending deliveries
outlive the daemon: they are read back and tried again at the next start.

Layout (schema version 1)::

    deliveries  id TEXT PRIMARY KEY, endpoint, kind, created, updated, status, attempts,
                error, http_status, next_attempt, body BLOB
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from bms.errors import StoreError
from bms.export._messages import WebhookDelivery
from bms.store import connect_raw

SCHEMA = 1
PENDING, SENT, FAILED = "pending", "sent", "failed"
_COLUMNS = "id, endpoint, kind, created, updated, status, attempts, error, http_status, next_attempt"


class DeliveryLog:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn = connect_raw(self.path)
        try:
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA:
                raise StoreError(f"{self.path}: schema {version} is newer than this bms knows ({SCHEMA})")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, endpoint TEXT NOT NULL,"
                " kind TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL, status TEXT NOT NULL,"
                " attempts INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '',"
                " http_status INTEGER NOT NULL DEFAULT 0, next_attempt REAL, body BLOB NOT NULL)")
            self._conn.execute("CREATE INDEX IF NOT EXISTS deliveries_created ON deliveries (created)")
            self._conn.execute(f"PRAGMA user_version = {SCHEMA}")
        except sqlite3.Error as err:
            self._conn.close()
            raise StoreError(f"{self.path}: cannot open the webhook log: {err}") from err

    def add(self, d: WebhookDelivery, body: bytes) -> None:
        self._exec("INSERT INTO deliveries (id, endpoint, kind, created, updated, status, attempts, error,"
                   " http_status, next_attempt, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (d.id, d.endpoint, d.kind, d.created, d.updated, d.status, d.attempts, d.error, d.http_status,
                    d.next_attempt, body))

    def update(self, d: WebhookDelivery) -> None:
        self._exec("UPDATE deliveries SET updated = ?, status = ?, attempts = ?, error = ?, http_status = ?,"
                   " next_attempt = ? WHERE id = ?",
                   (d.updated, d.status, d.attempts, d.error, d.http_status, d.next_attempt, d.id))

    def body(self, delivery_id: str) -> bytes:
        with self._lock:
            found = self._conn.execute("SELECT body FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
        if found is None:
            raise StoreError(f"{self.path}: no delivery {delivery_id!r}")
        return bytes(found[0])

    def pending(self) -> list[WebhookDelivery]:
        return self._select("WHERE status = ? ORDER BY created", (PENDING,))

    def records(self, since: float, endpoint: str | None, limit: int) -> list[WebhookDelivery]:
        where, params = "WHERE created >= ?", [since]
        if endpoint is not None:
            where += " AND endpoint = ?"
            params.append(endpoint)  # type: ignore[arg-type]
        found = self._select(f"{where} ORDER BY created DESC LIMIT ?", (*params, limit))
        return found[::-1]

    def prune(self, before: float) -> int:
        with self._lock:
            return int(self._conn.execute("DELETE FROM deliveries WHERE created < ? AND status != ?",
                                          (before, PENDING)).rowcount)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _select(self, tail: str, params: tuple[object, ...]) -> list[WebhookDelivery]:
        with self._lock:
            try:
                rows = self._conn.execute(f"SELECT {_COLUMNS} FROM deliveries {tail}", params).fetchall()
            except sqlite3.Error as err:
                raise StoreError(f"{self.path}: cannot read the webhook log: {err}") from err
        return [WebhookDelivery(id=r[0], endpoint=r[1], kind=r[2], created=r[3], updated=r[4], status=r[5],
                                attempts=r[6], error=r[7], http_status=r[8], next_attempt=r[9]) for r in rows]

    def _exec(self, statement: str, params: tuple[object, ...]) -> None:
        with self._lock:
            try:
                self._conn.execute(statement, params)
            except sqlite3.Error as err:
                raise StoreError(f"{self.path}: cannot write the webhook log: {err}") from err
