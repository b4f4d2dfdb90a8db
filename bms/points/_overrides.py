"""overrides.db: every non-null priority level, so commands survive a restart.

One row per (point, priority). Values are JSON so a bool, a string and a
float come back as what was written. Rows already expired are dropped on
:meth:`OverrideStore.load`. Beside them, ``guard_writes`` keeps when each
rate-limited point was written, so a restart does not reset its
``max_writes_per_minute`` window. A command is :meth:`~OverrideStore.commit`-ted
(its level and its counted write in one transaction) before it is applied.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import msgspec
import sqlalchemy as sa

from bms.errors import StoreError
from bms.messages import Value
from bms.points._commands import Commanded, Override
from bms.store import open_database

_MIGRATIONS = [
    "CREATE TABLE overrides ("
    " point_id TEXT NOT NULL,"
    " priority INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 16),"
    " value TEXT NOT NULL,"
    " expires_at REAL,"
    " user TEXT NOT NULL DEFAULT '',"
    " written_at REAL NOT NULL,"
    " PRIMARY KEY (point_id, priority)"
    ") WITHOUT ROWID",
    "CREATE TABLE guard_writes (point_id TEXT NOT NULL, ts REAL NOT NULL);"
    "CREATE INDEX guard_writes_ts ON guard_writes (ts)",
]
GUARD_KEEP = 86_400.0  # seconds of counted writes kept (every rate window is shorter)

_UPSERT = sa.text(
    "INSERT INTO overrides (point_id, priority, value, expires_at, user, written_at)"
    " VALUES (:point_id, :priority, :value, :expires_at, :user, :written_at)"
    " ON CONFLICT (point_id, priority) DO UPDATE SET value = excluded.value,"
    " expires_at = excluded.expires_at, user = excluded.user, written_at = excluded.written_at"
)
_value_decoder = msgspec.json.Decoder(Value)
T = TypeVar("T")


class OverrideStore:
    """The persisted priority levels of every writable point (``overrides.db``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._engine = open_database(self.path, "overrides", _MIGRATIONS)

    def put(self, override: Override) -> None:
        """Record (or replace) one level."""
        self.put_many([override])

    def put_many(self, overrides: list[Override]) -> None:
        """Record several levels in one transaction."""
        if overrides:
            rows = _rows(overrides)
            self._run(lambda conn: conn.execute(_UPSERT, rows))

    def remove(self, point_id: str, priority: int) -> None:
        """Forget one level (it was relinquished)."""
        self._run(lambda conn: conn.execute(
            sa.text("DELETE FROM overrides WHERE point_id = :p AND priority = :q"), {"p": point_id, "q": priority}
        ))

    def commit(self, point_id: str, priority: int, level: Override | None, counted_at: float | None = None) -> None:
        """Make one command durable: the level it holds (None: relinquished) and, for a rate-limited
        point, the time it counts toward the rate; one transaction, before the command is applied."""

        def run(conn: sa.Connection) -> None:
            if level is None:
                conn.execute(sa.text("DELETE FROM overrides WHERE point_id = :p AND priority = :q"),
                             {"p": point_id, "q": priority})
            else:
                conn.execute(_UPSERT, _rows([level]))
            if counted_at is not None:
                conn.execute(sa.text("INSERT INTO guard_writes (point_id, ts) VALUES (:p, :t)"),
                             {"p": point_id, "t": counted_at})

        self._run(run)

    def guard_writes(self, since: float) -> dict[str, list[float]]:
        """When each rate-limited point was written, from ``since`` on."""
        found: dict[str, list[float]] = {}
        with self._engine.connect() as conn:
            for point_id, ts in conn.execute(sa.text(
                    "SELECT point_id, ts FROM guard_writes WHERE ts > :since ORDER BY ts"), {"since": since}):
                found.setdefault(point_id, []).append(float(ts))
        return found

    def apply(self, commanded: Commanded) -> None:
        """Persist the outcome of a :class:`~bms.points.CommandTable` write or relinquish."""
        if commanded.override is None:
            self.remove(commanded.point_id, commanded.priority)
        else:
            self.put(commanded.override)

    def replace(self, overrides: list[Override]) -> None:
        """Make the file hold exactly ``overrides`` (e.g. a table snapshot)."""
        rows = _rows(overrides)

        def run(conn: sa.Connection) -> None:
            conn.execute(sa.text("DELETE FROM overrides"))
            if rows:
                conn.execute(_UPSERT, rows)

        self._run(run)

    def purge(self, now: float) -> int:
        """Delete the levels expired by ``now`` (and counted writes past any window); how many levels."""

        def run(conn: sa.Connection) -> int:
            conn.execute(sa.text("DELETE FROM guard_writes WHERE ts <= :old"), {"old": now - GUARD_KEEP})
            return int(conn.execute(
                sa.text("DELETE FROM overrides WHERE expires_at IS NOT NULL AND expires_at <= :now"), {"now": now}
            ).rowcount)

        return self._run(run)

    def load(self, now: float) -> list[Override]:
        """Every level still in force at ``now`` (expired ones are deleted)."""
        self.purge(now)
        with self._engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT point_id, priority, value, expires_at, user, written_at FROM overrides"
                " ORDER BY point_id, priority"
            )).all()
        found: list[Override] = []
        for point_id, priority, value, expires_at, user, written_at in rows:
            try:
                decoded: Value = _value_decoder.decode(value)
            except msgspec.DecodeError as err:
                raise StoreError(f"{self.path}: override {point_id}@{priority}: bad value {value!r}") from err
            found.append(Override(
                point_id=point_id, priority=int(priority), value=decoded,
                expires_at=expires_at, user=user, written_at=float(written_at),
            ))
        return found

    def _run(self, work: Callable[[sa.Connection], T]) -> T:
        try:
            with self._engine.begin() as conn:
                return work(conn)
        except sa.exc.SQLAlchemyError as err:
            raise StoreError(f"{self.path}: cannot write overrides: {err}") from err

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> OverrideStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _rows(overrides: list[Override]) -> list[dict[str, object]]:
    return [
        {
            "point_id": o.point_id, "priority": o.priority, "value": msgspec.json.encode(o.value).decode(),
            "expires_at": o.expires_at, "user": o.user, "written_at": o.written_at,
        }
        for o in overrides
    ]
