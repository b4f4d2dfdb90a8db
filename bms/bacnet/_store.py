"""DiscoveryStore: the BACnet devices and objects discovery found (``discovery.db``).

The Modbus units a probe found are in the same file (:attr:`DiscoveryStore.units`,
:mod:`bms.bacnet._probed`).

A device is keyed by its instance. Saving a re-discovered device keeps its
state (Discovered, Accepted, Ignored) and first-seen time, updates the rest
and records what changed: device fields (``name: 'AHU-1' -> 'AHU-1A'``),
objects added and removed, and object names, units or commandability. The
last re-discovery's changes are on the device; every change is also kept in
a log (:meth:`DiscoveryStore.history`). A device that answered I-Am but
could not be read updates only its address, last-seen time and error: its
known name and objects stay.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import msgspec
import sqlalchemy as sa

from bms.bacnet._discovery import DiscoveredDevice
from bms.bacnet._probed import MIGRATION as PROBED_UNITS
from bms.bacnet._probed import UnitTable
from bms.bacnet._records import ObjectInfo
from bms.errors import ConfigError, NotFound, StoreError
from bms.messages import DeviceRecord
from bms.store import open_database

STATES: tuple[str, ...] = ("Discovered", "Accepted", "Ignored")

_MIGRATIONS = [
    "CREATE TABLE devices ("
    " instance INTEGER PRIMARY KEY, address TEXT NOT NULL, network TEXT NOT NULL DEFAULT '',"
    " name TEXT NOT NULL DEFAULT '', vendor TEXT NOT NULL DEFAULT '', vendor_id INTEGER,"
    " model TEXT NOT NULL DEFAULT '', firmware TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '',"
    " max_apdu INTEGER NOT NULL, segmentation TEXT NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'Discovered' CHECK (state IN ('Discovered', 'Accepted', 'Ignored')),"
    " first_seen REAL NOT NULL, last_seen REAL NOT NULL, error TEXT, changes TEXT NOT NULL DEFAULT '[]');"
    "CREATE TABLE objects ("
    " device INTEGER NOT NULL REFERENCES devices (instance) ON DELETE CASCADE, objid TEXT NOT NULL,"
    " name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', units INTEGER, unit TEXT NOT NULL DEFAULT '',"
    " commandable INTEGER NOT NULL DEFAULT 0, kind TEXT NOT NULL DEFAULT 'text', states TEXT NOT NULL DEFAULT '[]',"
    " first_seen REAL NOT NULL, last_seen REAL NOT NULL, PRIMARY KEY (device, objid)) WITHOUT ROWID;"
    "CREATE TABLE changes ("
    " device INTEGER NOT NULL REFERENCES devices (instance) ON DELETE CASCADE, ts REAL NOT NULL, change TEXT NOT NULL);"
    "CREATE INDEX changes_by_device ON changes (device, ts)",
    PROBED_UNITS,
    "ALTER TABLE objects ADD COLUMN unreadable TEXT NOT NULL DEFAULT '[]'",  # properties answered wrongly
]

_DEVICE_FIELDS = ("address", "name", "vendor", "model", "firmware", "description", "max_apdu", "segmentation")
_OBJECT_FIELDS = ("name", "units", "commandable")


class StoredDevice(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A device as the store holds it."""

    instance: int
    address: str
    network: str
    name: str
    vendor: str
    vendor_id: int | None
    model: str
    firmware: str
    description: str
    max_apdu: int
    segmentation: str
    state: str
    first_seen: float
    last_seen: float
    error: str | None
    changes: tuple[str, ...]  # what the last re-discovery changed
    objects: int

    def record(self, device_id: str | None = None, online: bool | None = None) -> DeviceRecord:
        """This device as the API's DeviceRecord."""
        return DeviceRecord(
            device_id=device_id or f"bacnet:{self.instance}", protocol="bacnet", address=self.address,
            name=self.name, vendor=self.vendor, model=self.model, state=self.state, online=online,
            last_seen=self.last_seen, objects=self.objects, reason=self.error or "",
        )


class StoredObject(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """An object of a stored device."""

    device: int
    objid: str
    name: str
    description: str
    units: int | None
    unit: str
    commandable: bool
    kind: str
    states: tuple[str, ...]
    first_seen: float
    last_seen: float
    unreadable: tuple[str, ...] = ()  # "property: reason" of each property the device answered wrongly


class DeviceChanges(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """What saving one discovered device did."""

    instance: int
    outcome: Literal["new", "changed", "unchanged"]
    changes: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


class DiscoveryStore:
    """Discovered BACnet devices and their objects, in ``discovery.db``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._engine = open_database(self.path, "discovery", _MIGRATIONS)
        self.units = UnitTable(self._engine, self.path)
        """The Modbus units a probe found."""

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> DiscoveryStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # ---------------------------------------------------------------- writes
    def save(self, device: DiscoveredDevice) -> DeviceChanges:
        """Insert or update one discovered device and its objects."""
        return self.save_many([device])[0]

    def save_many(self, devices: Iterable[DiscoveredDevice]) -> list[DeviceChanges]:
        """Save a whole scan in one transaction."""
        found = list(devices)
        try:
            with self._engine.begin() as conn:
                return [_save(conn, device) for device in found]
        except sa.exc.SQLAlchemyError as err:
            raise StoreError(f"{self.path}: cannot save discovered devices: {err}") from err

    def set_state(self, instance: int, state: str) -> None:
        """Mark a device Discovered, Accepted or Ignored."""
        if state not in STATES:
            raise ConfigError(f"device state must be one of {', '.join(STATES)}, got {state!r}")
        with self._engine.begin() as conn:
            done = conn.execute(sa.text("UPDATE devices SET state = :s WHERE instance = :i"), {"s": state, "i": instance})
        if done.rowcount == 0:
            raise NotFound(f"no discovered BACnet device {instance}")

    def accept(self, instance: int) -> None:
        self.set_state(instance, "Accepted")

    def ignore(self, instance: int) -> None:
        self.set_state(instance, "Ignored")

    def forget(self, instance: int) -> None:
        """Remove a device, its objects and its history."""
        with self._engine.begin() as conn:
            done = conn.execute(sa.text("DELETE FROM devices WHERE instance = :i"), {"i": instance})
        if done.rowcount == 0:
            raise NotFound(f"no discovered BACnet device {instance}")

    # ---------------------------------------------------------------- reads
    def get(self, instance: int) -> StoredDevice:
        found = self.devices(instance=instance)
        if not found:
            raise NotFound(f"no discovered BACnet device {instance}")
        return found[0]

    def devices(self, state: str | None = None, *, instance: int | None = None) -> list[StoredDevice]:
        """Every stored device (or those in ``state``), by instance."""
        sql = (
            "SELECT d.*, (SELECT COUNT(*) FROM objects o WHERE o.device = d.instance) AS object_count"
            " FROM devices d WHERE (:state IS NULL OR d.state = :state) AND (:inst IS NULL OR d.instance = :inst)"
            " ORDER BY d.instance"
        )
        with self._engine.connect() as conn:
            rows = conn.execute(sa.text(sql), {"state": state, "inst": instance}).mappings().all()
        return [_device(row) for row in rows]

    def objects(self, instance: int) -> list[StoredObject]:
        """The objects of one device, by object id."""
        self.get(instance)
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT * FROM objects WHERE device = :i ORDER BY objid"), {"i": instance}
            ).mappings().all()
        return [_object(row) for row in rows]

    def history(self, instance: int) -> list[tuple[float, str]]:
        """Every change recorded for a device, oldest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT ts, change FROM changes WHERE device = :i ORDER BY ts, rowid"), {"i": instance}
            ).all()
        return [(float(ts), str(change)) for ts, change in rows]


def _save(conn: sa.Connection, device: DiscoveredDevice) -> DeviceChanges:
    row = conn.execute(sa.text("SELECT * FROM devices WHERE instance = :i"), {"i": device.instance}).mappings().first()
    values = {
        "instance": device.instance, "address": device.address, "network": device.network, "name": device.name,
        "vendor": device.vendor, "vendor_id": device.vendor_id, "model": device.model, "firmware": device.firmware,
        "description": device.description, "max_apdu": device.max_apdu, "segmentation": device.segmentation,
        "seen": device.seen, "error": device.error,
    }
    if row is None:
        conn.execute(sa.text(
            "INSERT INTO devices (instance, address, network, name, vendor, vendor_id, model, firmware, description,"
            " max_apdu, segmentation, first_seen, last_seen, error) VALUES (:instance, :address, :network, :name,"
            " :vendor, :vendor_id, :model, :firmware, :description, :max_apdu, :segmentation, :seen, :seen, :error)"
        ), values)
        _put_objects(conn, device.instance, device.objects, device.seen)
        return DeviceChanges(instance=device.instance, outcome="new", added=tuple(o.objid for o in device.objects))
    if device.error is not None:  # answered but unreadable: keep what we knew
        conn.execute(sa.text(
            "UPDATE devices SET address = :address, last_seen = :seen, error = :error WHERE instance = :instance"
        ), values)
        return DeviceChanges(instance=device.instance, outcome="unchanged")
    changes = [
        f"{field}: {row[field]!r} -> {values[field]!r}" for field in _DEVICE_FIELDS if row[field] != values[field]
    ]
    added, removed, object_changes = _compare_objects(conn, device)
    changes += object_changes
    if added:
        changes.append("objects added: " + ", ".join(added))
    if removed:
        changes.append("objects removed: " + ", ".join(removed))
    conn.execute(sa.text(
        "UPDATE devices SET address = :address, network = :network, name = :name, vendor = :vendor,"
        " vendor_id = :vendor_id, model = :model, firmware = :firmware, description = :description,"
        " max_apdu = :max_apdu, segmentation = :segmentation, last_seen = :seen, error = NULL,"
        " changes = :changes WHERE instance = :instance"
    ), {**values, "changes": json.dumps(changes)})
    if removed:
        conn.execute(
            sa.text("DELETE FROM objects WHERE device = :i AND objid = :o"),
            [{"i": device.instance, "o": objid} for objid in removed],
        )
    _put_objects(conn, device.instance, device.objects, device.seen)
    if changes:
        conn.execute(
            sa.text("INSERT INTO changes (device, ts, change) VALUES (:i, :ts, :c)"),
            [{"i": device.instance, "ts": device.seen, "c": change} for change in changes],
        )
    return DeviceChanges(
        instance=device.instance, outcome="changed" if changes else "unchanged",
        changes=tuple(changes), added=tuple(added), removed=tuple(removed),
    )


def _compare_objects(conn: sa.Connection, device: DiscoveredDevice) -> tuple[list[str], list[str], list[str]]:
    old = {
        row["objid"]: row for row in conn.execute(
            sa.text("SELECT objid, name, units, commandable FROM objects WHERE device = :i"), {"i": device.instance}
        ).mappings()
    }
    new = {obj.objid: obj for obj in device.objects}
    changes = []
    for objid in sorted(old.keys() & new.keys()):
        before, after = old[objid], new[objid]
        now = {"name": after.name, "units": after.units, "commandable": int(after.commandable)}
        for field in _OBJECT_FIELDS:
            if before[field] != now[field]:
                changes.append(f"{objid} {field}: {_shown(field, before[field])!r} -> {_shown(field, now[field])!r}")
    return sorted(new.keys() - old.keys()), sorted(old.keys() - new.keys()), changes


def _shown(field: str, value: Any) -> Any:
    return bool(value) if field == "commandable" else value


def _put_objects(conn: sa.Connection, instance: int, objects: Iterable[ObjectInfo], seen: float) -> None:
    rows = [
        {
            "device": instance, "objid": obj.objid, "name": obj.name, "description": obj.description,
            "units": obj.units, "unit": obj.unit, "commandable": int(obj.commandable), "kind": obj.kind,
            "states": json.dumps(list(obj.states)), "unreadable": json.dumps(list(obj.unreadable)), "seen": seen,
        }
        for obj in objects
    ]
    if rows:
        conn.execute(sa.text(
            "INSERT INTO objects (device, objid, name, description, units, unit, commandable, kind, states,"
            " unreadable, first_seen, last_seen) VALUES (:device, :objid, :name, :description, :units, :unit,"
            " :commandable, :kind, :states, :unreadable, :seen, :seen) ON CONFLICT (device, objid) DO UPDATE SET"
            " name = excluded.name, description = excluded.description, units = excluded.units,"
            " unit = excluded.unit, commandable = excluded.commandable, kind = excluded.kind,"
            " states = excluded.states, unreadable = excluded.unreadable, last_seen = excluded.last_seen"
        ), rows)


def _device(row: Any) -> StoredDevice:
    return StoredDevice(
        instance=row["instance"], address=row["address"], network=row["network"], name=row["name"],
        vendor=row["vendor"], vendor_id=row["vendor_id"], model=row["model"], firmware=row["firmware"],
        description=row["description"], max_apdu=row["max_apdu"], segmentation=row["segmentation"],
        state=row["state"], first_seen=row["first_seen"], last_seen=row["last_seen"], error=row["error"],
        changes=tuple(json.loads(row["changes"])), objects=row["object_count"],
    )


def _object(row: Any) -> StoredObject:
    return StoredObject(
        device=row["device"], objid=row["objid"], name=row["name"], description=row["description"],
        units=row["units"], unit=row["unit"], commandable=bool(row["commandable"]), kind=row["kind"],
        states=tuple(json.loads(row["states"])), first_seen=row["first_seen"], last_seen=row["last_seen"],
        unreadable=tuple(json.loads(row["unreadable"])),
    )
