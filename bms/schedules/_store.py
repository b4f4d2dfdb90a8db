"""schedules.db: the schedules, their assignments to points and the temporary overrides.

* ``schedules`` -- one row per schedule: the :class:`~bms.schedules.Schedule`
  as JSON, the device and object it was pulled from (a device-resident
  schedule; NULL for our own), who changed it last and when;
* ``assignments`` -- which points a schedule commands, at which priority
  (:class:`~bms.schedules.messages.Assignment` as JSON), in order;
* ``overrides`` -- a running "occupied until 22:00" per schedule.

The engine writes a change here before it acts on it or answers it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, TypeVar

import msgspec
import sqlalchemy as sa

from bms.errors import StoreError
from bms.schedules._spec import Assignment, Override, Schedule
from bms.store import open_database

_MIGRATIONS = [
    "CREATE TABLE schedules (name TEXT PRIMARY KEY, body TEXT NOT NULL, device_id TEXT, object_id TEXT,"
    " user TEXT NOT NULL DEFAULT '', updated_at REAL NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE assignments (id INTEGER PRIMARY KEY AUTOINCREMENT, schedule TEXT NOT NULL, body TEXT NOT NULL,"
    " user TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL);"
    "CREATE INDEX assignments_schedule ON assignments (schedule, id);"
    "CREATE TABLE overrides (schedule TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID",
]
T = TypeVar("T")


class StoredSchedule(NamedTuple):
    schedule: Schedule
    device_id: str | None
    object_id: str | None


class ScheduleStore:
    """The schedule engine's file (``schedules.db``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._engine = open_database(self.path, "schedules", _MIGRATIONS)

    # ------------------------------------------------------------ schedules
    def schedules(self) -> list[StoredSchedule]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT name, body, device_id, object_id FROM schedules ORDER BY name")).all()
        found: list[StoredSchedule] = []
        for name, body, device_id, object_id in rows:
            try:
                found.append(StoredSchedule(msgspec.json.decode(body, type=Schedule), device_id, object_id))
            except msgspec.DecodeError as err:
                raise StoreError(f"{self.path}: schedule {name}: unreadable: {err}") from err
        return found

    def put(self, schedule: Schedule, user: str, now: float, device_id: str | None = None,
            object_id: str | None = None) -> None:
        """Insert or replace a schedule (its device origin is kept when not given)."""
        row = {"n": schedule.name, "b": msgspec.json.encode(schedule).decode(), "d": device_id, "o": object_id,
               "u": user, "t": now}
        self._run(lambda conn: conn.execute(sa.text(
            "INSERT INTO schedules (name, body, device_id, object_id, user, updated_at)"
            " VALUES (:n, :b, :d, :o, :u, :t) ON CONFLICT (name) DO UPDATE SET body = excluded.body,"
            " device_id = COALESCE(excluded.device_id, device_id), object_id = COALESCE(excluded.object_id, object_id),"
            " user = excluded.user, updated_at = excluded.updated_at"), row))

    def delete(self, name: str) -> None:
        def run(conn: sa.Connection) -> None:
            for table, column in (("schedules", "name"), ("assignments", "schedule"), ("overrides", "schedule")):
                conn.execute(sa.text(f"DELETE FROM {table} WHERE {column} = :n"), {"n": name})

        self._run(run)

    # ------------------------------------------------------------ assignments
    def assignments(self) -> dict[str, list[Assignment]]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT schedule, body FROM assignments ORDER BY id")).all()
        found: dict[str, list[Assignment]] = {}
        for schedule, body in rows:
            try:
                found.setdefault(schedule, []).append(msgspec.json.decode(body, type=Assignment))
            except msgspec.DecodeError as err:
                raise StoreError(f"{self.path}: an assignment of {schedule}: unreadable: {err}") from err
        return found

    def set_assignments(self, name: str, assignments: list[Assignment], user: str, now: float) -> None:
        """Replace the assignments of ``name``."""
        rows = [{"s": name, "b": msgspec.json.encode(a).decode(), "u": user, "t": now} for a in assignments]

        def run(conn: sa.Connection) -> None:
            conn.execute(sa.text("DELETE FROM assignments WHERE schedule = :s"), {"s": name})
            if rows:
                conn.execute(sa.text("INSERT INTO assignments (schedule, body, user, created_at)"
                                     " VALUES (:s, :b, :u, :t)"), rows)

        self._run(run)

    # ------------------------------------------------------------ overrides
    def overrides(self) -> dict[str, Override]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT schedule, body FROM overrides")).all()
        try:
            return {name: msgspec.json.decode(body, type=Override) for name, body in rows}
        except msgspec.DecodeError as err:
            raise StoreError(f"{self.path}: an override: unreadable: {err}") from err

    def set_override(self, name: str, override: Override | None) -> None:
        if override is None:
            self._run(lambda conn: conn.execute(sa.text("DELETE FROM overrides WHERE schedule = :s"), {"s": name}))
            return
        row = {"s": name, "b": msgspec.json.encode(override).decode()}
        self._run(lambda conn: conn.execute(sa.text(
            "INSERT INTO overrides (schedule, body) VALUES (:s, :b)"
            " ON CONFLICT (schedule) DO UPDATE SET body = excluded.body"), row))

    def _run(self, work: Callable[[sa.Connection], T]) -> T:
        try:
            with self._engine.begin() as conn:
                return work(conn)
        except sa.exc.SQLAlchemyError as err:
            raise StoreError(f"{self.path}: cannot write schedules: {err}") from err

    def close(self) -> None:
        self._engine.dispose()
