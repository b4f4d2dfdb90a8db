"""fdd.db: the faults the FDD engine raised, cleared and users acknowledged (the engine is its only writer)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import sqlalchemy as sa

from bms.errors import NotFound, StoreError
from bms.fdd.messages import FaultView
from bms.store import open_database

_MIGRATIONS = [
    "CREATE TABLE faults (id INTEGER PRIMARY KEY AUTOINCREMENT, equip TEXT NOT NULL, rule TEXT NOT NULL,"
    " title TEXT NOT NULL, severity TEXT NOT NULL, raised_at REAL NOT NULL, explanation TEXT NOT NULL,"
    " causes TEXT NOT NULL DEFAULT '[]', state TEXT NOT NULL DEFAULT '', active INTEGER NOT NULL DEFAULT 1,"
    " cleared_at REAL, acked_by TEXT NOT NULL DEFAULT '', acked_at REAL);"
    "CREATE INDEX faults_active ON faults (active, equip, rule)",
]
_COLUMNS = "id, equip, rule, title, severity, raised_at, explanation, causes, state, active, cleared_at, acked_by, acked_at"
T = TypeVar("T")


def _view(row: Any) -> FaultView:
    return FaultView(id=int(row[0]), equip=row[1], rule=row[2], title=row[3], severity=row[4], raised_at=row[5],
                     explanation=row[6], causes=tuple(msgspec.json.decode(row[7])), state=row[8],
                     active=bool(row[9]), cleared_at=row[10], acked_by=row[11], acked_at=row[12])


class FaultStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._engine = open_database(self.path, "fdd", _MIGRATIONS)

    def close(self) -> None:
        self._engine.dispose()

    def _run(self, work: Callable[[sa.Connection], T]) -> T:
        try:
            with self._engine.begin() as conn:
                return work(conn)
        except sa.exc.SQLAlchemyError as err:
            raise StoreError(f"{self.path}: {err}") from err

    def raise_fault(self, *, equip: str, rule: str, title: str, severity: str, at: float, explanation: str,
                    causes: tuple[str, ...], state: str) -> FaultView:
        def work(conn: sa.Connection) -> int:
            result = conn.execute(sa.text(
                "INSERT INTO faults (equip, rule, title, severity, raised_at, explanation, causes, state)"
                " VALUES (:e, :r, :t, :s, :at, :x, :c, :st)"),
                {"e": equip, "r": rule, "t": title, "s": severity, "at": at, "x": explanation,
                 "c": msgspec.json.encode(list(causes)).decode(), "st": state})
            return int(result.lastrowid or 0)
        return self.get(self._run(work))

    def clear(self, equip: str, rule: str, at: float) -> FaultView | None:
        current = self.active(equip, rule)
        if current is None:
            return None
        self._run(lambda conn: conn.execute(sa.text("UPDATE faults SET active = 0, cleared_at = :at WHERE id = :i"),
                                            {"at": at, "i": current.id}))
        return self.get(current.id)

    def ack(self, fault_id: int, user: str, at: float) -> FaultView:
        self.get(fault_id)
        self._run(lambda conn: conn.execute(sa.text(
            "UPDATE faults SET acked_by = :u, acked_at = :at WHERE id = :i"), {"u": user, "at": at, "i": fault_id}))
        return self.get(fault_id)

    def get(self, fault_id: int) -> FaultView:
        with self._engine.connect() as conn:
            row = conn.execute(sa.text(f"SELECT {_COLUMNS} FROM faults WHERE id = :i"), {"i": fault_id}).first()
        if row is None:
            raise NotFound(f"no fault {fault_id}")
        return _view(row)

    def active(self, equip: str, rule: str) -> FaultView | None:
        with self._engine.connect() as conn:
            row = conn.execute(sa.text(f"SELECT {_COLUMNS} FROM faults WHERE active = 1 AND equip = :e AND rule = :r"
                                       " ORDER BY id DESC"), {"e": equip, "r": rule}).first()
        return _view(row) if row is not None else None

    def latest(self, equip: str, rule: str) -> FaultView | None:
        """The most recent fault of ``rule`` on ``equip`` (active or not)."""
        with self._engine.connect() as conn:
            row = conn.execute(sa.text(f"SELECT {_COLUMNS} FROM faults WHERE equip = :e AND rule = :r"
                                       " ORDER BY id DESC LIMIT 1"), {"e": equip, "r": rule}).first()
        return _view(row) if row is not None else None

    def faults(self, *, active: bool = False, equips: set[str] | None = None, limit: int = 1000) -> list[FaultView]:
        where = [*(["active = 1"] if active else []), *(["equip IN :e"] if equips is not None else [])]
        query = sa.text(f"SELECT {_COLUMNS} FROM faults" + (" WHERE " + " AND ".join(where) if where else "")
                        + " ORDER BY id DESC LIMIT :n")
        params: dict[str, Any] = {"n": limit}
        if equips is not None:
            query = query.bindparams(sa.bindparam("e", expanding=True))
            params["e"] = sorted(equips)
        with self._engine.connect() as conn:
            return [_view(r) for r in conn.execute(query, params).all()]


__all__ = ["FaultStore"]
