"""The Modbus units a probe found, kept in ``discovery.db`` beside the BACnet devices.

A unit is keyed by its device id, ``modbus:HOST:PORT:UNIT``
(:func:`modbus_id`). Saving a unit probed again keeps its state
(Discovered, Accepted, Ignored) and first-seen time and updates what it
answered. :class:`UnitTable` works on the :class:`~bms.bacnet.DiscoveryStore`'s
database (the store owns the file and its schema).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa

from bms.errors import ConfigError, NotFound, StoreError
from bms.messages import DeviceRecord
from bms.modbus import ProbeResult

MIGRATION = (
    "CREATE TABLE units ("
    " device_id TEXT PRIMARY KEY, host TEXT NOT NULL, port INTEGER NOT NULL, unit_id INTEGER NOT NULL,"
    " identified INTEGER NOT NULL DEFAULT 0, vendor TEXT NOT NULL DEFAULT '', product TEXT NOT NULL DEFAULT '',"
    " revision TEXT NOT NULL DEFAULT '', answered TEXT NOT NULL DEFAULT '[]', refused TEXT NOT NULL DEFAULT '[]',"
    " state TEXT NOT NULL DEFAULT 'Discovered' CHECK (state IN ('Discovered', 'Accepted', 'Ignored')),"
    " first_seen REAL NOT NULL, last_seen REAL NOT NULL)"
)
"""discovery.db's second schema version: the Modbus units."""

PREFIX = "modbus:"


def modbus_id(host: str, port: int, unit_id: int) -> str:
    """``modbus:127.0.0.1:502:1``: the id of a probed unit everywhere (probe, list, show, the API)."""
    return f"{PREFIX}{host}:{port}:{unit_id}"


def parse_modbus_id(device_id: str) -> tuple[str, int, int] | None:
    """(host, port, unit) of ``modbus:HOST:PORT:UNIT``; None for any other id."""
    if not device_id.startswith(PREFIX):
        return None
    parts = device_id[len(PREFIX):].rsplit(":", 2)
    if len(parts) != 3 or not parts[0] or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return parts[0], int(parts[1]), int(parts[2])


class StoredUnit(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A probed unit as discovery.db holds it."""

    device_id: str
    host: str
    port: int
    unit_id: int
    identified: bool
    vendor: str
    product: str
    revision: str
    answered: tuple[str, ...]
    refused: tuple[str, ...]
    state: str
    first_seen: float
    last_seen: float

    @property
    def probe(self) -> ProbeResult:
        return ProbeResult(self.unit_id, self.answered, self.refused, self.identified, self.vendor, self.product,
                           self.revision)

    @property
    def name(self) -> str:
        return self.product or f"Modbus unit {self.unit_id}"

    def record(self, online: bool | None = None, points: int = 0, note: str = "") -> DeviceRecord:
        """This unit as the API's DeviceRecord: what its probe answered in ``registers`` and ``identification``."""
        probe = self.probe
        return DeviceRecord(
            device_id=self.device_id, protocol="modbus", address=f"{self.host}:{self.port}", name=self.name,
            vendor=self.vendor, model=self.product, state=self.state, online=online, last_seen=self.last_seen,
            points=points, reason=note or "; ".join(self.refused), unit_id=self.unit_id, registers=self.answered,
            identification=probe.identification,
        )


class UnitTable:
    """The ``units`` table of discovery.db (``engine`` is the DiscoveryStore's)."""

    def __init__(self, engine: sa.Engine, path: Path) -> None:
        self._engine = engine
        self.path = path

    def save_many(self, host: str, port: int, found: Iterable[ProbeResult], seen: float) -> list[StoredUnit]:
        """Save a probe's units in one transaction (states kept); the units as stored."""
        rows = [{
            "device_id": modbus_id(host, port, r.unit_id), "host": host, "port": port, "unit_id": r.unit_id,
            "identified": int(r.identified), "vendor": r.vendor, "product": r.product_code, "revision": r.revision,
            "answered": json.dumps(list(r.answered)), "refused": json.dumps(list(r.refused)), "seen": seen,
        } for r in found]
        if not rows:
            return []
        try:
            with self._engine.begin() as conn:
                conn.execute(sa.text(
                    "INSERT INTO units (device_id, host, port, unit_id, identified, vendor, product, revision,"
                    " answered, refused, first_seen, last_seen) VALUES (:device_id, :host, :port, :unit_id,"
                    " :identified, :vendor, :product, :revision, :answered, :refused, :seen, :seen)"
                    " ON CONFLICT (device_id) DO UPDATE SET identified = excluded.identified,"
                    " vendor = excluded.vendor, product = excluded.product, revision = excluded.revision,"
                    " answered = excluded.answered, refused = excluded.refused, last_seen = excluded.last_seen"
                ), rows)
        except sa.exc.SQLAlchemyError as err:
            raise StoreError(f"{self.path}: cannot save probed Modbus units: {err}") from err
        return [self.get(str(row["device_id"])) for row in rows]

    def set_state(self, device_id: str, state: str) -> None:
        if state not in ("Discovered", "Accepted", "Ignored"):
            raise ConfigError(f"device state must be Discovered, Accepted or Ignored, got {state!r}")
        with self._engine.begin() as conn:
            done = conn.execute(sa.text("UPDATE units SET state = :s WHERE device_id = :d"), {"s": state, "d": device_id})
        if done.rowcount == 0:
            raise NotFound(f"no probed Modbus unit {device_id!r}")

    def forget(self, device_id: str) -> None:
        with self._engine.begin() as conn:
            done = conn.execute(sa.text("DELETE FROM units WHERE device_id = :d"), {"d": device_id})
        if done.rowcount == 0:
            raise NotFound(f"no probed Modbus unit {device_id!r}")

    def get(self, device_id: str) -> StoredUnit:
        found = self.units(device_id=device_id)
        if not found:
            raise NotFound(f"no probed Modbus unit {device_id!r}")
        return found[0]

    def units(self, state: str | None = None, *, device_id: str | None = None) -> list[StoredUnit]:
        """Every stored unit (or those in ``state``), by host, port and unit id."""
        sql = ("SELECT * FROM units WHERE (:state IS NULL OR state = :state) AND (:d IS NULL OR device_id = :d)"
               " ORDER BY host, port, unit_id")
        with self._engine.connect() as conn:
            rows = conn.execute(sa.text(sql), {"state": state, "d": device_id}).mappings().all()
        return [_unit(row) for row in rows]


def _unit(row: Any) -> StoredUnit:
    return StoredUnit(
        device_id=row["device_id"], host=row["host"], port=row["port"], unit_id=row["unit_id"],
        identified=bool(row["identified"]), vendor=row["vendor"], product=row["product"], revision=row["revision"],
        answered=tuple(json.loads(row["answered"])), refused=tuple(json.loads(row["refused"])), state=row["state"],
        first_seen=row["first_seen"], last_seen=row["last_seen"],
    )
