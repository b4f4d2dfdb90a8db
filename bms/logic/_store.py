"""logic.db: what the logic engine keeps across restarts.

* ``programs`` -- per program: its persistent state (``state_get``/``state_set`` and the blocks'
  memory: integrators, latches, timers) as JSON, and whether an operator or a fault disabled it
  (with the reason);
* ``outputs`` -- per program and point: the priority it writes at and the last value it wrote,
  so that a restart does not write again what is already commanded, and a program removed from
  the configuration has its levels relinquished;
* ``bundles`` -- the deployed bundles; ``engine`` -- the engine's own settings (whether an operator
  stopped execution, and who).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import msgspec
import sqlalchemy as sa

from bms.errors import StoreError
from bms.store import open_database

_MIGRATIONS = [
    "CREATE TABLE programs (name TEXT PRIMARY KEY, state TEXT NOT NULL DEFAULT '{}',"
    " disabled TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '') WITHOUT ROWID;"
    "CREATE TABLE outputs (program TEXT NOT NULL, point_id TEXT NOT NULL, priority INTEGER NOT NULL,"
    " value TEXT NOT NULL, PRIMARY KEY (program, point_id)) WITHOUT ROWID",
    "CREATE TABLE bundles (seq INTEGER PRIMARY KEY AUTOINCREMENT, version TEXT NOT NULL, key_id TEXT NOT NULL,"
    " deployed_at REAL NOT NULL, user TEXT NOT NULL DEFAULT '', status TEXT NOT NULL DEFAULT 'good',"
    " active INTEGER NOT NULL DEFAULT 0, detail TEXT NOT NULL DEFAULT '', data BLOB NOT NULL)",
    "CREATE TABLE engine (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
]
T = TypeVar("T")


class SavedProgram(NamedTuple):
    state: dict[str, Any]
    disabled: str  # "" running, "operator" or "fault"
    reason: str


class Output(NamedTuple):
    program: str
    point_id: str
    priority: int
    value: Any


class StoredBundle(NamedTuple):
    seq: int
    version: str
    key_id: str
    deployed_at: float
    user: str
    status: str  # "good" (started), "failed" (refused at boot: rolled back from)
    active: bool
    detail: str


class LogicStore:
    """The logic engine's file (``logic.db``); the engine is its only writer."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._engine = open_database(self.path, "logic", _MIGRATIONS)

    def setting(self, key: str, default: str = "") -> str:
        """A value the engine keeps about itself (``stopped``: who stopped execution, "" when running)."""
        with self._engine.connect() as conn:
            row = conn.execute(sa.text("SELECT value FROM engine WHERE key = :key"), {"key": key}).first()
        return str(row[0]) if row is not None else default

    def set_setting(self, key: str, value: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO engine (key, value) VALUES (:key, :value)"
                                 " ON CONFLICT (key) DO UPDATE SET value = excluded.value"), {"key": key, "value": value})

    def programs(self) -> dict[str, SavedProgram]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT name, state, disabled, reason FROM programs")).all()
        found: dict[str, SavedProgram] = {}
        for name, state, disabled, reason in rows:
            try:
                found[name] = SavedProgram(msgspec.json.decode(state), disabled, reason)
            except msgspec.DecodeError as err:
                raise StoreError(f"{self.path}: program {name}: unreadable state: {err}") from err
        return found

    def outputs(self) -> list[Output]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT program, point_id, priority, value FROM outputs")).all()
        return [Output(p, pt, int(pr), msgspec.json.decode(v)) for p, pt, pr, v in rows]

    def save(self, states: Iterable[tuple[str, str]], outputs: Iterable[tuple[tuple[str, str], Output | None]]) -> None:
        """Programs' states (JSON text, as ``Sandbox.state_text`` gives it) and what they wrote, in ONE
        transaction: ``outputs`` maps (program, point) to its Output, or to None when the program released it."""
        rows = [{"n": name, "s": text} for name, text in states]
        saved: list[dict[str, Any]] = []
        gone: list[dict[str, Any]] = []
        for (program, point), out in outputs:
            if out is None:
                gone.append({"n": program, "pt": point})
            else:
                saved.append({"p": program, "pt": point, "pr": out.priority, "v": msgspec.json.encode(out.value).decode()})
        if not (rows or saved or gone):
            return

        def work(conn: sa.Connection) -> None:
            if rows:
                conn.execute(sa.text("INSERT INTO programs (name, state) VALUES (:n, :s)"
                                     " ON CONFLICT (name) DO UPDATE SET state = excluded.state"), rows)
            if saved:
                conn.execute(sa.text(
                    "INSERT INTO outputs (program, point_id, priority, value) VALUES (:p, :pt, :pr, :v)"
                    " ON CONFLICT (program, point_id) DO UPDATE SET priority = excluded.priority,"
                    " value = excluded.value"), saved)
            if gone:
                conn.execute(sa.text("DELETE FROM outputs WHERE program = :n AND point_id = :pt"), gone)

        self._run(work)

    def set_disabled(self, name: str, disabled: str, reason: str) -> None:
        self._run(lambda conn: conn.execute(sa.text(
            "INSERT INTO programs (name, disabled, reason) VALUES (:n, :d, :r)"
            " ON CONFLICT (name) DO UPDATE SET disabled = excluded.disabled, reason = excluded.reason"),
            {"n": name, "d": disabled, "r": reason}))

    def forget(self, name: str, point_id: str | None = None) -> None:
        """A program removed (all its rows), or one of its outputs released."""
        if point_id is not None:
            self._run(lambda conn: conn.execute(sa.text(
                "DELETE FROM outputs WHERE program = :n AND point_id = :pt"), {"n": name, "pt": point_id}))
            return
        self._run(lambda conn: (
            conn.execute(sa.text("DELETE FROM outputs WHERE program = :n"), {"n": name}),
            conn.execute(sa.text("DELETE FROM programs WHERE name = :n"), {"n": name}),
        ))

    # ------------------------------------------------------------ bundles
    def bundles(self) -> list[StoredBundle]:
        """Every deployed bundle, oldest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT seq, version, key_id, deployed_at, user, status, active, detail"
                                        " FROM bundles ORDER BY seq")).all()
        return [StoredBundle(int(r[0]), r[1], r[2], float(r[3]), r[4], r[5], bool(r[6]), r[7]) for r in rows]

    def bundle_data(self, seq: int) -> bytes:
        with self._engine.connect() as conn:
            row = conn.execute(sa.text("SELECT data FROM bundles WHERE seq = :s"), {"s": seq}).first()
        if row is None:
            raise StoreError(f"{self.path}: no bundle {seq}")
        return bytes(row[0])

    def add_bundle(self, version: str, key_id: str, data: bytes, user: str, now: float) -> int:
        """Record a deployed bundle and make it the active one."""
        def run(conn: sa.Connection) -> int:
            conn.execute(sa.text("UPDATE bundles SET active = 0"))
            result = conn.execute(sa.text(
                "INSERT INTO bundles (version, key_id, deployed_at, user, active, data)"
                " VALUES (:v, :k, :t, :u, 1, :d)"), {"v": version, "k": key_id, "t": now, "u": user, "d": data})
            return int(result.lastrowid or 0)

        return self._run(run)

    def activate(self, seq: int | None) -> None:
        """Make bundle ``seq`` the active one (None: none, the configured directory runs)."""
        def run(conn: sa.Connection) -> None:
            conn.execute(sa.text("UPDATE bundles SET active = 0"))
            if seq is not None:
                conn.execute(sa.text("UPDATE bundles SET active = 1 WHERE seq = :s"), {"s": seq})

        self._run(run)

    def mark_failed(self, seq: int, detail: str) -> None:
        self._run(lambda conn: conn.execute(sa.text(
            "UPDATE bundles SET status = 'failed', active = 0, detail = :d WHERE seq = :s"), {"s": seq, "d": detail}))

    def close(self) -> None:
        self._engine.dispose()

    def _run(self, work: Callable[[sa.Connection], T]) -> T:
        try:
            with self._engine.begin() as conn:
                return work(conn)
        except sa.exc.SQLAlchemyError as err:
            raise StoreError(f"{self.path}: {err}") from err
