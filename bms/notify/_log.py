"""``NotificationLog``: notifications.db, one row per notification, updated at each attempt.

The notifier is its only writer; the CLI without a daemon reads it with a
connection of its own. Rows older than the retention are pruned.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection, Engine

from bms.notify._delivery import RETRYING, SENDING, Delivery
from bms.notify._dispatch import Notice
from bms.notify._messages import NotificationRecord
from bms.store import open_database

STORE = "notifications"
MIGRATIONS = [
    """
    CREATE TABLE notifications (
        id TEXT PRIMARY KEY, created REAL NOT NULL, updated REAL NOT NULL,
        recipient TEXT NOT NULL, channel TEXT NOT NULL, kind TEXT NOT NULL, level INTEGER NOT NULL,
        severity TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,
        status TEXT NOT NULL, attempts INTEGER NOT NULL, max_attempts INTEGER NOT NULL,
        error TEXT NOT NULL, next_attempt REAL);
    CREATE INDEX notifications_created ON notifications (created);
    CREATE INDEX notifications_open ON notifications (status) WHERE status IN ('sending', 'retrying');
    CREATE TABLE notification_alarms (
        notification TEXT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
        alarm_id TEXT NOT NULL, PRIMARY KEY (notification, alarm_id));
    CREATE INDEX notification_alarms_alarm ON notification_alarms (alarm_id)
    """,
]

_COLUMNS = ("id, created, updated, recipient, channel, kind, level, severity, title, body, status, attempts, "
            "max_attempts, error, next_attempt")


class NotificationLog:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.engine: Engine = open_database(self.path, STORE, MIGRATIONS)

    def close(self) -> None:
        self.engine.dispose()

    def write(self, d: Delivery) -> None:
        """Record ``d`` as it is now (a new row, or its row updated)."""
        n = d.notice
        with self.engine.begin() as conn:
            conn.exec_driver_sql(
                f"INSERT INTO notifications ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET updated = excluded.updated, status = excluded.status, "
                "attempts = excluded.attempts, error = excluded.error, next_attempt = excluded.next_attempt",
                (d.id, d.created, d.updated, n.recipient, d.channel, n.kind, n.level, n.severity, n.title, n.body,
                 d.status, d.attempts, d.max_attempts, d.error, d.next_attempt))
            if d.attempts <= 1 and n.alarm_ids:
                conn.exec_driver_sql("INSERT OR IGNORE INTO notification_alarms (notification, alarm_id) VALUES (?, ?)",
                                     [(d.id, a) for a in n.alarm_ids])

    def records(self, since: float, until: float | None = None, alarm_id: str | None = None,
                limit: int = 1000) -> list[NotificationRecord]:
        """The notifications created in [since, until], of ``alarm_id`` if given: the latest ``limit``, oldest first."""
        where = ["n.created >= ?"]
        args: list[object] = [since]
        if until is not None:
            where.append("n.created <= ?")
            args.append(until)
        if alarm_id is not None:
            where.append("n.id IN (SELECT notification FROM notification_alarms WHERE alarm_id = ?)")
            args.append(alarm_id)
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                f"SELECT {', '.join('n.' + c.strip() for c in _COLUMNS.split(','))} FROM notifications n "
                f"WHERE {' AND '.join(where)} ORDER BY n.created DESC, n.id LIMIT ?", (*args, limit)).all()
            alarms = self._alarms(conn, [r[0] for r in rows])
        return [_record(r, alarms.get(r[0], ())) for r in reversed(rows)]

    def unfinished(self) -> list[Delivery]:
        """Deliveries a stop interrupted (sending or retrying), to resume: each is due for its next attempt."""
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                f"SELECT {_COLUMNS} FROM notifications WHERE status IN (?, ?) ORDER BY created",
                (SENDING, RETRYING)).all()
            alarms = self._alarms(conn, [r[0] for r in rows])
        out = []
        for r in rows:
            rec = _record(r, alarms.get(r[0], ()))
            notice = Notice(recipient=rec.recipient, kind=rec.kind, alarm_ids=rec.alarm_ids, title=rec.title,
                            body=rec.body, severity=rec.severity, level=rec.level)
            out.append(Delivery(id=rec.id, notice=notice, channel=rec.channel, created=rec.created,
                                updated=rec.updated, status=RETRYING, attempts=rec.attempts, error=rec.error,
                                next_attempt=rec.next_attempt if rec.status == RETRYING else rec.updated,
                                max_attempts=int(r[12])))
        return out

    def prune(self, before: float) -> int:
        """Forget the notifications created before ``before``; how many."""
        with self.engine.begin() as conn:
            return int(conn.exec_driver_sql("DELETE FROM notifications WHERE created < ?", (before,)).rowcount)

    @staticmethod
    def _alarms(conn: Connection, ids: list[str]) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = conn.exec_driver_sql(
                f"SELECT notification, alarm_id FROM notification_alarms WHERE notification IN ({marks}) "
                "ORDER BY rowid", tuple(chunk)).all()
            for nid, aid in rows:
                found.setdefault(nid, []).append(aid)
        return {k: tuple(v) for k, v in found.items()}


def _record(row: Sequence[Any], alarm_ids: tuple[str, ...]) -> NotificationRecord:
    return NotificationRecord(id=str(row[0]), created=float(row[1]), updated=float(row[2]), recipient=str(row[3]),
                              channel=str(row[4]), kind=str(row[5]), level=int(row[6]), severity=str(row[7]),
                              title=str(row[8]), body=str(row[9]), status=str(row[10]), attempts=int(row[11]),
                              error=str(row[13]), next_attempt=None if row[14] is None else float(row[14]),
                              alarm_ids=alarm_ids)
