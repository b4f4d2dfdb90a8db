"""energy.db: the energy engine's interval data, gaps and counter events.

* ``intervals`` -- per meter and 15-minute start (UTC epoch): kWh. Live readings add to an interval;
  a backfill from history replaces it;
* ``gaps`` -- spans with no readings longer than the gap limit (and a counter's kWh across them);
* ``events`` -- counter rollovers and resets (replacements);
* ``meters`` -- per meter the last reading integrated (so a restart goes on from it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from bms.energy._integrate import CounterEvent, Gap
from bms.errors import StoreError
from bms.store import open_database

_MIGRATIONS = [
    "CREATE TABLE intervals (meter TEXT NOT NULL, start REAL NOT NULL, kwh REAL NOT NULL,"
    " PRIMARY KEY (meter, start)) WITHOUT ROWID;"
    "CREATE TABLE gaps (meter TEXT NOT NULL, start REAL NOT NULL, end REAL NOT NULL, kwh REAL NOT NULL,"
    " PRIMARY KEY (meter, start)) WITHOUT ROWID;"
    "CREATE TABLE events (meter TEXT NOT NULL, ts REAL NOT NULL, kind TEXT NOT NULL, before REAL NOT NULL,"
    " after REAL NOT NULL, PRIMARY KEY (meter, ts)) WITHOUT ROWID;"
    "CREATE TABLE meters (id TEXT PRIMARY KEY, last_ts REAL, last_value REAL, backfilled_to REAL) WITHOUT ROWID",
]


class EnergyStore:
    """The energy engine's file; the engine is its only writer (readers open their own connection)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._engine = open_database(self.path, "energy", _MIGRATIONS)

    def save(self, meter: str, added: Mapping[float, float], gaps: Iterable[Gap], events: Iterable[CounterEvent],
             last: tuple[float, float] | None, replace: bool = False) -> None:
        """kWh added to (``replace``: put in) the meter's intervals, its gaps and events, in one transaction."""
        rows = [{"m": meter, "s": s, "k": k} for s, k in added.items()]
        upsert = ("INSERT INTO intervals (meter, start, kwh) VALUES (:m, :s, :k) ON CONFLICT (meter, start) DO UPDATE"
                  " SET kwh = " + ("excluded.kwh" if replace else "kwh + excluded.kwh"))
        try:
            with self._engine.begin() as conn:
                if rows:
                    conn.execute(sa.text(upsert), rows)
                g = [{"m": meter, "s": x.start, "e": x.end, "k": x.kwh} for x in gaps]
                if g:
                    conn.execute(sa.text("INSERT OR REPLACE INTO gaps VALUES (:m, :s, :e, :k)"), g)
                e = [{"m": meter, "t": x.ts, "k": x.kind, "b": x.before, "a": x.after} for x in events]
                if e:
                    conn.execute(sa.text("INSERT OR REPLACE INTO events VALUES (:m, :t, :k, :b, :a)"), e)
                if last is not None:
                    conn.execute(sa.text(
                        "INSERT INTO meters (id, last_ts, last_value) VALUES (:m, :t, :v) ON CONFLICT (id)"
                        " DO UPDATE SET last_ts = excluded.last_ts, last_value = excluded.last_value"),
                        {"m": meter, "t": last[0], "v": last[1]})
        except sa.exc.SQLAlchemyError as err:
            raise StoreError(f"{self.path}: cannot write: {err.orig if hasattr(err, 'orig') else err}") from err

    def last(self, meter: str) -> tuple[float, float] | None:
        with self._engine.connect() as conn:
            row = conn.execute(sa.text("SELECT last_ts, last_value FROM meters WHERE id = :m"), {"m": meter}).first()
        return (float(row[0]), float(row[1])) if row is not None and row[0] is not None else None

    def latest_interval(self, meter: str) -> float | None:
        with self._engine.connect() as conn:
            row = conn.execute(sa.text("SELECT max(start) FROM intervals WHERE meter = :m"), {"m": meter}).first()
        return float(row[0]) if row is not None and row[0] is not None else None

    def intervals(self, meter: str, start: float, end: float) -> tuple[np.ndarray, np.ndarray]:
        """(starts, kWh) of the meter's intervals with ``start <= s < end``."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT start, kwh FROM intervals WHERE meter = :m AND start >= :a"
                                        " AND start < :b ORDER BY start"), {"m": meter, "a": start, "b": end}).all()
        if not rows:
            return np.empty(0), np.empty(0)
        arr = np.asarray(rows, dtype=np.float64)
        return arr[:, 0].copy(), arr[:, 1].copy()

    def gaps(self, meter: str) -> list[Gap]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT start, end, kwh FROM gaps WHERE meter = :m ORDER BY start"),
                                {"m": meter}).all()
        return [Gap(float(a), float(b), float(k)) for a, b, k in rows]

    def events(self, meter: str) -> list[CounterEvent]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT ts, kind, before, after FROM events WHERE meter = :m ORDER BY ts"),
                                {"m": meter}).all()
        return [CounterEvent(float(t), str(k), float(b), float(a)) for t, k, b, a in rows]

    def close(self) -> None:
        self._engine.dispose()


__all__ = ["EnergyStore"]
