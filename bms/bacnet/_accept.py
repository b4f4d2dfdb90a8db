"""Accepting a discovered device: its objects (or a profile) as Equip and Point nodes.

Pure functions, no sockets and no actors. An accepted device becomes one
Equip node (``properties``: protocol, address, device_instance, network,
profile, vendor, model) and one Point node per object worth reading, built
by the same code as a configured device (:func:`bms.model.build_nodes`), so
an accepted AHU and a configured one look alike: suggested tags, ``point``,
``his``, ``cmd`` on commandable objects, bindings to the objects.

Without a profile the points come from the discovered objects: the point
key is the object's name as an identifier (``Supply Air Temp`` ->
``supply_air_temp``; the object id when the name gives nothing, ``ai_3``),
made unique on the device; inputs are bound with ``cov = true`` (the bridge
falls back to polling when the device refuses). With a profile the points
are the profile's, minus those whose object the device does not have.

Also here: the :class:`~bms.messages.DeviceRecord` of a configured or a
discovered device (the devices service and ``bms devices`` offline list them
alike), and the accepts made while no daemon runs (``accept-pending.json``),
which the devices service completes on its next start.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from pathlib import Path

import msgspec

from bms.bacnet._objects import BINARY_TYPES, MULTISTATE_TYPES, POINT_TYPES, parse_object_id
from bms.bacnet._probed import StoredUnit
from bms.bacnet._store import StoredDevice, StoredObject
from bms.config import BacnetBinding, BacnetDevice, DeviceSpec, ModbusDevice, PointSpec, Profile, Scenario, SiteSpec
from bms.errors import ConfigError
from bms.messages import DeviceRecord
from bms.model import DISCOVERY, ORIGIN, Node, build_nodes

DISCOVERED_PROFILE = "discovered"
"""The ``profile`` property of an Equip built from its discovered objects."""

_INPUT_TYPES = frozenset({"analog-input", "binary-input", "multi-state-input"})
_SHORT = {"analog-input": "ai", "analog-output": "ao", "analog-value": "av", "binary-input": "bi",
          "binary-output": "bo", "binary-value": "bv", "multi-state-input": "msi",
          "multi-state-output": "mso", "multi-state-value": "msv"}


def slug(text: str, sep: str = "_") -> str:
    """``"Supply Air Temp (°C)"`` -> ``"supply_air_temp_c"``: lower case, letters, digits and ``sep``."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return sep.join(words)


def equip_id_for(name: str, instance: int, taken: Collection[str] = ()) -> str:
    """A node id for an accepted device: its name as a slug (``AHU-1`` -> ``ahu-1``), else ``bacnet-<instance>``.

    A slug already in ``taken`` gets the instance appended.
    """
    base = slug(name, "-") or f"bacnet-{instance}"
    if base not in taken:
        return base
    with_instance = f"{base}-{instance}"
    return with_instance if with_instance not in taken else f"bacnet-{instance}"


def point_key(name: str, objid: str, taken: Collection[str] = ()) -> str:
    """A unique point key on one device from an object's name (or its id)."""
    oid = parse_object_id(objid)
    short = f"{_SHORT.get(oid.type, slug(oid.type))}_{oid.instance}"
    base = slug(name) or short
    if base not in taken:
        return base
    candidate = f"{base}_{short}"
    n = 2
    while candidate in taken:
        candidate = f"{base}_{short}_{n}"
        n += 1
    return candidate


def discovered_profile(device: StoredDevice, objects: Sequence[StoredObject]) -> Profile:
    """A profile made of the device's readable objects (what accepting without a profile uses)."""
    points: list[PointSpec] = []
    keys: set[str] = set()
    for obj in sorted(objects, key=lambda o: _object_order(o.objid)):
        oid = parse_object_id(obj.objid)
        if oid.type not in POINT_TYPES:
            continue
        key = point_key(obj.name, obj.objid, keys)
        keys.add(key)
        kind = obj.kind if obj.kind in ("number", "bool", "enum", "text") else "text"
        states = list(obj.states) if oid.type in MULTISTATE_TYPES else []
        points.append(PointSpec(
            key=key, name=obj.name or obj.objid, kind=kind,  # type: ignore[arg-type]
            unit=obj.unit if oid.type not in BINARY_TYPES else "",
            writable=obj.commandable, states=states,
            bacnet=BacnetBinding(object=str(oid), cov=oid.type in _INPUT_TYPES),
        ))
    return Profile(
        name=DISCOVERED_PROFILE, protocol="bacnet", description=device.description,
        vendor=device.vendor, model=device.model, points=points,
    )


def _object_order(objid: str) -> tuple[str, int]:
    oid = parse_object_id(objid)
    return oid.type, oid.instance


def profile_for_device(profile: Profile, objects: Sequence[StoredObject]) -> Profile:
    """``profile`` without the points whose object the device lacks (all of them if no objects are known)."""
    if profile.protocol != "bacnet":
        raise ConfigError(f"profile {profile.name!r} is for {profile.protocol}, not bacnet")
    if not objects:
        return profile
    present = {str(parse_object_id(o.objid)) for o in objects}
    points = [p for p in profile.points if p.bacnet is not None and str(parse_object_id(p.bacnet.object)) in present]
    return Profile(
        name=profile.name, protocol=profile.protocol, equip=profile.equip, description=profile.description,
        vendor=profile.vendor, model=profile.model, points=points,
    )


def accepted_nodes(
    device: StoredDevice,
    objects: Sequence[StoredObject],
    *,
    equip_id: str,
    site: SiteSpec,
    profile: Profile | None = None,
) -> list[Node]:
    """The Equip node (first) and its Point nodes for a discovered ``device``.

    ``site`` is the site the equipment goes under; ``profile`` (optional)
    names the points instead of the discovered objects.
    """
    if not equip_id or "/" in equip_id:
        raise ConfigError(f"equipment id {equip_id!r}: must be non-empty and contain no '/'")
    if equip_id == site.id:
        raise ConfigError(f"equipment id {equip_id!r} is the site's id")
    chosen = profile_for_device(profile, objects) if profile is not None else discovered_profile(device, objects)
    spec = BacnetDevice(
        id=equip_id, name=device.name or f"BACnet device {device.instance}", profile=chosen.name,
        network=device.network or "default", address=device.address,
        device_instance=device.instance,
    )
    scenario = Scenario(site=site, devices=[spec])
    nodes = [n for n in build_nodes(scenario, {chosen.name: chosen}) if n.type != "Site"]
    equip = nodes[0]  # marked, so that a daemon start keeps it though the scenario does not name it
    nodes[0] = msgspec.structs.replace(equip, properties={**equip.properties, ORIGIN: DISCOVERY})
    return nodes


def modbus_nodes(unit: StoredUnit, profile: Profile, *, equip_id: str | None, site: SiteSpec, network: str,
                 taken: Collection[str] = ()) -> list[Node]:
    """The Equip node (first) and Point nodes of a probed Modbus ``unit`` polled with ``profile``.

    Built as a configured Modbus device of ``network`` would be (host, port,
    unit id); the equipment id defaults to the profile's name and the unit
    id (``power-meter-1``).
    """
    if profile.protocol != "modbus":
        raise ConfigError(f"profile {profile.name!r} is for {profile.protocol}, not modbus")
    if equip_id is None:
        base = f"{slug(profile.name, '-') or 'modbus'}-{unit.unit_id}"
        equip_id = base if base not in taken else f"{base}-{slug(unit.host, '-')}-{unit.port}"
    if not equip_id or "/" in equip_id:
        raise ConfigError(f"equipment id {equip_id!r}: must be non-empty and contain no '/'")
    if equip_id == site.id:
        raise ConfigError(f"equipment id {equip_id!r} is the site's id")
    spec = ModbusDevice(id=equip_id, name=unit.product or f"Modbus unit {unit.unit_id}", profile=profile.name,
                        network=network, host=unit.host, port=unit.port, unit_id=unit.unit_id)
    nodes = [n for n in build_nodes(Scenario(site=site, devices=[spec]), {profile.name: profile}) if n.type != "Site"]
    equip = nodes[0]
    nodes[0] = msgspec.structs.replace(equip, properties={**equip.properties, ORIGIN: DISCOVERY})
    return nodes


# ------------------------------------------------------------------ device records


def discovered_id(instance: int) -> str:
    """The device id of a discovered BACnet device: ``bacnet:1001``."""
    return f"bacnet:{instance}"


def instance_of(device_id: str) -> int | None:
    """1001 for ``bacnet:1001`` (or a bare ``1001``); None for any other id."""
    text = device_id.strip()
    if text.lower().startswith("bacnet:"):
        text = text[len("bacnet:"):]
    return int(text) if text.isdigit() else None


def configured_record(
    device: DeviceSpec, profile: Profile | None, stored: StoredDevice | None = None, online: bool | None = None
) -> DeviceRecord:
    """A scenario device as the API lists it (state Configured), with what discovery saw of it."""
    if isinstance(device, ModbusDevice):
        address = f"{device.host}:{device.port}" if device.host else device.network
    elif isinstance(device, BacnetDevice):
        address = device.address or ""
    else:
        address = ""
    reason = "" if device.enabled else "disabled in the scenario"
    return DeviceRecord(
        device_id=device.id, protocol=device.protocol, address=address, name=device.name or device.id,
        vendor=profile.vendor if profile else "", model=profile.model if profile else "",
        state="Configured", online=online if device.enabled else None,
        last_seen=stored.last_seen if stored else None, points=len(profile.points) if profile else 0,
        objects=stored.objects if stored else 0, reason=reason,
        unit_id=device.unit_id if isinstance(device, ModbusDevice) else None,
    )


def discovered_record(stored: StoredDevice, *, online: bool | None = None, points: int = 0,
                      configured_as: str | None = None, note: str = "") -> DeviceRecord:
    """A device of discovery.db as the API lists it; ``configured_as`` when the scenario has it already."""
    record = stored.record(discovered_id(stored.instance), online=online)
    if configured_as is not None:
        return msgspec.structs.replace(record, state="Configured", reason=f"configured as {configured_as!r}")
    return msgspec.structs.replace(record, points=points, reason=note or record.reason)


# ------------------------------------------------------------------ pending accepts

PENDING_NAME = "accept-pending.json"
"""Accepts made without a running daemon (profile and equipment id), in the data directory."""


class PendingAccept(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """An accept waiting for the daemon: a BACnet device's ``instance``, or a Modbus unit's ``device_id``."""

    instance: int | None = None
    profile: str | None = None
    equip_id: str | None = None
    device_id: str = ""

    @property
    def key(self) -> str:
        """The device's id: ``bacnet:1001`` or ``modbus:HOST:PORT:UNIT``."""
        return self.device_id or discovered_id(self.instance if self.instance is not None else -1)


def read_pending(data_dir: Path) -> list[PendingAccept]:
    """The accepts waiting for the daemon (none if the file is missing or unreadable)."""
    try:
        return msgspec.json.decode((data_dir / PENDING_NAME).read_bytes(), type=list[PendingAccept])
    except (OSError, msgspec.DecodeError):
        return []


def write_pending(data_dir: Path, pending: Sequence[PendingAccept]) -> None:
    """Replace the waiting accepts (the file is removed when there are none)."""
    path = data_dir / PENDING_NAME
    if not pending:
        path.unlink(missing_ok=True)
        return
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(msgspec.json.encode(sorted(pending, key=lambda p: p.key)))
    tmp.replace(path)
