"""alarms.db: each alarm's state, the alarm history, and the definitions made at run time.

* ``alarm_state`` -- one row per alarm: its :class:`~bms.alarms.Alarm`
  record as JSON (state, active, acked, who and when, the delay or shelve
  it waits on), so active alarms, pending delays and shelves survive a
  restart;
* ``alarm_events`` -- the history, one :class:`~bms.alarms.AlarmEvent` per
  transition (raised, cleared, acknowledged, shelved...), append-only;
* ``definitions`` -- alarms defined through the API or the CLI (profile and
  scenario alarms come from the configuration on each start).

:meth:`AlarmStore.save` writes the events and the states they changed in
one transaction, before the engine publishes them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import sqlalchemy as sa

from bms.alarms._lifecycle import Alarm
from bms.alarms._messages import AlarmEvent
from bms.alarms._spec import AlarmDefinition
from bms.errors import StoreError
from bms.store import open_database

_MIGRATIONS = [
    "CREATE TABLE alarm_state (alarm_id TEXT PRIMARY KEY, record TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE alarm_events ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, alarm_id TEXT NOT NULL, point_id TEXT NOT NULL,"
    " event TEXT NOT NULL, state TEXT NOT NULL, user TEXT NOT NULL DEFAULT '', value TEXT, text TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX alarm_events_ts ON alarm_events (ts);"
    "CREATE INDEX alarm_events_alarm ON alarm_events (alarm_id, ts);"
    "CREATE TABLE definitions (alarm_id TEXT PRIMARY KEY, definition TEXT NOT NULL, user TEXT NOT NULL DEFAULT '',"
    " created_at REAL NOT NULL) WITHOUT ROWID",
    "CREATE TABLE external_alarms (alarm_id TEXT PRIMARY KEY, point_id TEXT NOT NULL, severity TEXT NOT NULL,"
    " text TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '') WITHOUT ROWID",
]
_UPSERT = sa.text("INSERT INTO alarm_state (alarm_id, record) VALUES (:alarm_id, :record)"
                  " ON CONFLICT (alarm_id) DO UPDATE SET record = excluded.record")
_INSERT_EVENT = sa.text("INSERT INTO alarm_events (ts, alarm_id, point_id, event, state, user, value, text)"
                        " VALUES (:ts, :alarm_id, :point_id, :event, :state, :user, :value, :text)")
_FIELDS = {f.name for f in dataclasses.fields(Alarm)}
T = TypeVar("T")


class AlarmStore:
    """The alarm engine's file (``alarms.db``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._engine = open_database(self.path, "alarms", _MIGRATIONS)

    def save(self, events: Iterable[AlarmEvent], alarms: Iterable[Alarm]) -> None:
        """Append ``events`` and record the states of ``alarms``: one transaction."""
        rows = [{"ts": e.ts, "alarm_id": e.alarm_id, "point_id": e.point_id, "event": e.event, "state": e.state,
                 "user": e.user, "value": msgspec.json.encode(e.value).decode(), "text": e.text} for e in events]
        states = [{"alarm_id": a.alarm_id, "record": msgspec.json.encode(dataclasses.asdict(a)).decode()}
                  for a in alarms]
        if not rows and not states:
            return

        def run(conn: sa.Connection) -> None:
            if rows:
                conn.execute(_INSERT_EVENT, rows)
            if states:
                conn.execute(_UPSERT, states)

        self._run(run)

    def forget(self, alarm_id: str) -> None:
        """A definition removed: its state and run-time definition go; its history stays."""
        self._run(lambda conn: (
            conn.execute(sa.text("DELETE FROM alarm_state WHERE alarm_id = :a"), {"a": alarm_id}),
            conn.execute(sa.text("DELETE FROM definitions WHERE alarm_id = :a"), {"a": alarm_id}),
            conn.execute(sa.text("DELETE FROM external_alarms WHERE alarm_id = :a"), {"a": alarm_id}),
        ))

    def alarms(self) -> list[Alarm]:
        """Every saved alarm record (fields this version does not know are left out)."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT alarm_id, record FROM alarm_state ORDER BY alarm_id")).all()
        found: list[Alarm] = []
        for alarm_id, record in rows:
            try:
                data: dict[str, Any] = msgspec.json.decode(record)
                found.append(Alarm(**{k: v for k, v in data.items() if k in _FIELDS}))
            except (msgspec.DecodeError, TypeError) as err:
                raise StoreError(f"{self.path}: alarm {alarm_id}: unreadable state: {err}") from err
        return found

    def events(self, since: float, until: float | None = None, alarm_id: str | None = None,
               limit: int = 1000) -> list[AlarmEvent]:
        """The history from ``since`` (to ``until``), oldest first, at most ``limit`` rows (the newest)."""
        query = "SELECT ts, alarm_id, point_id, event, state, user, value, text FROM alarm_events WHERE ts >= :since"
        params: dict[str, Any] = {"since": since, "limit": limit}
        if until is not None:
            query += " AND ts <= :until"
            params["until"] = until
        if alarm_id is not None:
            query += " AND alarm_id = :alarm_id"
            params["alarm_id"] = alarm_id
        query += " ORDER BY id DESC LIMIT :limit"
        with self._engine.connect() as conn:
            rows = conn.execute(sa.text(query), params).all()
        return [AlarmEvent(ts=ts, alarm_id=a, point_id=p, event=e, state=s, user=u,
                           value=msgspec.json.decode(v) if v else None, text=t)
                for ts, a, p, e, s, u, v, t in reversed(rows)]

    def define(self, definition: AlarmDefinition, user: str, now: float) -> None:
        row = {"a": definition.id, "d": msgspec.json.encode(definition).decode(), "u": user, "t": now}
        self._run(lambda conn: conn.execute(sa.text(
            "INSERT INTO definitions (alarm_id, definition, user, created_at) VALUES (:a, :d, :u, :t)"
            " ON CONFLICT (alarm_id) DO UPDATE SET definition = excluded.definition, user = excluded.user,"
            " created_at = excluded.created_at"), row))

    def save_external(self, alarm_id: str, point_id: str, severity: str, text: str, source: str) -> None:
        """How another engine's alarm (``ExternalAlarm``) is shown, so that it outlives a restart of ours."""
        row = {"a": alarm_id, "p": point_id, "s": severity, "t": text, "o": source}
        self._run(lambda conn: conn.execute(sa.text(
            "INSERT INTO external_alarms (alarm_id, point_id, severity, text, source) VALUES (:a, :p, :s, :t, :o)"
            " ON CONFLICT (alarm_id) DO UPDATE SET point_id = excluded.point_id, severity = excluded.severity,"
            " text = excluded.text, source = excluded.source"), row))

    def externals(self) -> dict[str, tuple[str, str, str, str]]:
        """Other engines' alarms: alarm id -> (point id, severity, text, source)."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT alarm_id, point_id, severity, text, source FROM external_alarms ORDER BY alarm_id")).all()
        return {str(a): (str(p), str(s), str(t), str(o)) for a, p, s, t, o in rows}

    def definitions(self) -> list[AlarmDefinition]:
        """The alarms defined at run time."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT alarm_id, definition FROM definitions ORDER BY alarm_id")).all()
        found: list[AlarmDefinition] = []
        for alarm_id, text in rows:
            try:
                found.append(msgspec.json.decode(text, type=AlarmDefinition))
            except msgspec.DecodeError as err:
                raise StoreError(f"{self.path}: alarm definition {alarm_id}: unreadable: {err}") from err
        return found

    def purge(self, before: float) -> int:
        """Drop history older than ``before``; how many rows."""
        return self._run(lambda conn: int(conn.execute(
            sa.text("DELETE FROM alarm_events WHERE ts < :before"), {"before": before}).rowcount))

    def _run(self, work: Callable[[sa.Connection], T]) -> T:
        try:
            with self._engine.begin() as conn:
                return work(conn)
        except sa.exc.SQLAlchemyError as err:
            raise StoreError(f"{self.path}: cannot write alarms: {err}") from err

    def close(self) -> None:
        self._engine.dispose()
