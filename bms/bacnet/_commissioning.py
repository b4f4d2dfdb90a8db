"""Commissioning: the site's devices as the integrator sees them; accepting, ignoring and removing them.

:class:`Commissioning` holds every decision that the devices service
(``actors/components/devices``, while the daemon runs) and ``bms devices``
(on the data directory, without a daemon) share: the scenario's devices, the
BACnet devices discovery found and the Modbus units a probe found (both in
``discovery.db``) as :class:`DeviceRecord`s, which device an id names, what
may be accepted, ignored or removed, which Equip and Point nodes a device
becomes, the accepts waiting for the daemon (``accept-pending.json``) and
which of them are still to complete.

One device, one id, everywhere (discover, probe, list, show, the API): a
configured device's scenario id (also when discovery finds it again), else
``bacnet:<instance>`` or ``modbus:<host>:<port>:<unit>``. An accepted
device keeps its discovered id; its equipment id names it too.

It holds no thread and asks no actor: the caller gives it what the
running site knows (the model's nodes, which devices answer), looks
profiles up itself and sends the nodes to the model.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import Union

import msgspec

from bms.bacnet._accept import (
    PendingAccept,
    accepted_nodes,
    configured_record,
    discovered_id,
    discovered_record,
    equip_id_for,
    instance_of,
    modbus_nodes,
    read_pending,
    write_pending,
)
from bms.bacnet._probed import StoredUnit, modbus_id, parse_modbus_id
from bms.bacnet._store import DiscoveryStore, StoredDevice
from bms.config import BacnetDevice, DeviceSpec, LoadedScenario, ModbusDevice, Profile
from bms.errors import ConfigError, Conflict, NotFound
from bms.messages import DeviceAccepted, DeviceRecord
from bms.model import DISCOVERY, ORIGIN, Node, normalised

WAITING = "accepted; its nodes are created when the daemon next starts with the nodes service"
"""The note of a device accepted whose equipment the model does not have yet."""

Found = Union[StoredDevice, StoredUnit]
"""A device discovery or a probe found: a BACnet device or a Modbus unit."""


def found_id(found: Found) -> str:
    """``bacnet:1001`` or ``modbus:127.0.0.1:502:1``."""
    return found.device_id if isinstance(found, StoredUnit) else discovered_id(found.instance)


class Commissioning:
    """The devices of ``site`` (None: no scenario) and of ``store``; accepts wait in ``data_dir``.

    ``equips`` / ``points`` (discovered id -> equipment id / point count) are
    the accepted devices the model holds; ``online`` (device or equipment
    id) what the bridges say. Both are empty without a daemon.
    """

    def __init__(self, site: LoadedScenario | None, store: DiscoveryStore, data_dir: Path) -> None:
        self.site = site
        self.store = store
        self.data_dir = data_dir
        self.equips: dict[str, str] = {}
        self.points: dict[str, int] = {}
        self.online: dict[str, bool] = {}

    @property
    def configured(self) -> list[DeviceSpec]:
        return list(self.site.scenario.devices) if self.site is not None else []

    def _configured_ids(self) -> dict[str, str]:
        """Discovered id -> scenario id of the configured BACnet devices and Modbus TCP units."""
        ids: dict[str, str] = {}
        for d in self.configured:
            if isinstance(d, BacnetDevice) and d.device_instance is not None:
                ids[discovered_id(d.device_instance)] = d.id
            elif isinstance(d, ModbusDevice) and d.host:
                ids[modbus_id(d.host, d.port, d.unit_id)] = d.id
        return ids

    def know_model(self, nodes: Iterable[Node]) -> None:
        """Learn the accepted devices the model holds (its discovered Equip nodes the scenario does not name)."""
        configured = {d.id for d in self.configured}
        equips: dict[str, str] = {}
        counts: dict[str, int] = {}
        for node in nodes:
            if node.type == "Equip" and node.id not in configured:
                key = _accepted_key(node)
                if key is not None:
                    equips[node.id] = key
            elif node.type == "Point" and node.parent is not None:
                counts[node.parent] = counts.get(node.parent, 0) + 1
        for equip_id, key in equips.items():
            self.equips[key] = equip_id
            self.points[key] = counts.get(equip_id, 0)

    # ------------------------------------------------------------ records
    def records(self) -> list[DeviceRecord]:
        """The scenario's devices (Configured), then those only discovery or a probe knows."""
        stored = {discovered_id(d.instance): d for d in self.store.devices()}
        units = {u.device_id: u for u in self.store.units.units()}
        seen = {**{k: d.last_seen for k, d in stored.items()}, **{k: u.last_seen for k, u in units.items()}}
        by_config = {v: k for k, v in self._configured_ids().items()}
        records = []
        for device in self.configured:
            profile = self.site.profiles.get(device.profile) if self.site is not None else None
            key = by_config.get(device.id)
            record = configured_record(device, profile, stored.get(key) if key else None, self.online.get(device.id))
            if key in units:
                record = msgspec.structs.replace(record, last_seen=seen[key])
            records.append(record)
        configured = self._configured_ids()
        records += [self.discovered_record(found) for key, found in stored.items() if key not in configured]
        records += [self.unit_record(unit) for key, unit in units.items() if key not in configured]
        return records

    def discovered_record(self, found: StoredDevice) -> DeviceRecord:
        """A device of discovery.db as listed: the scenario's record when it is configured (one id everywhere)."""
        key = discovered_id(found.instance)
        configured = self._configured_ids().get(key)
        if configured is not None:
            return self.record(configured)
        equip = self.equips.get(key)
        return discovered_record(found, online=self.online.get(equip) if equip else None,
                                 points=self.points.get(key, 0), note=self._note(found.state, equip))

    def unit_record(self, unit: StoredUnit) -> DeviceRecord:
        """A probed Modbus unit as listed (the scenario's record when it is configured)."""
        configured = self._configured_ids().get(unit.device_id)
        if configured is not None:
            return self.record(configured)
        equip = self.equips.get(unit.device_id)
        return unit.record(online=self.online.get(equip) if equip else None,
                           points=self.points.get(unit.device_id, 0), note=self._note(unit.state, equip))

    def record_of(self, found: Found) -> DeviceRecord:
        return self.unit_record(found) if isinstance(found, StoredUnit) else self.discovered_record(found)

    @staticmethod
    def _note(state: str, equip: str | None) -> str:
        if state == "Accepted" and equip is None:
            return WAITING
        return f"equipment {equip!r}" if equip is not None else ""

    def record(self, device_id: str) -> DeviceRecord:
        """The device ``device_id`` names (any of its names); NotFound with the closest id."""
        records = self.records()
        wanted = self.canonical(device_id)
        for record in records:
            if record.device_id == wanted:
                return record
        close = difflib.get_close_matches(device_id, [r.device_id for r in records], n=1, cutoff=0.5)
        raise NotFound(f"unknown device {device_id!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))

    def canonical(self, device_id: str) -> str:
        """The one id of the device ``device_id`` names: ``1001`` -> ``bacnet:1001`` -> ``ahu1`` when configured;
        an accepted device's equipment id -> its discovered id."""
        text = device_id.strip()
        instance = instance_of(text)
        key = discovered_id(instance) if instance is not None else text
        if parse_modbus_id(key) is None and instance is None:
            key = next((k for k, equip in self.equips.items() if equip == text), text)
        return self._configured_ids().get(key, key)

    def instance(self, device_id: str) -> int | None:
        """The instance of ``bacnet:1001``, ``1001`` or an accepted BACnet device's equipment id."""
        return instance_of(self.canonical(device_id))

    def record_instance(self, record: DeviceRecord) -> int | None:
        """The BACnet instance of a listed device (a configured one's from the scenario)."""
        if record.protocol != "bacnet":
            return None
        for device in self.configured:
            if device.id == record.device_id:
                return device.device_instance if isinstance(device, BacnetDevice) else None
        return instance_of(record.device_id)

    # ------------------------------------------------------------ accept / ignore / remove
    def discovered(self, device_id: str) -> Found:
        """The discovered device ``device_id`` names; a configured one is refused, an unknown one NotFound."""
        key = self.canonical(device_id)
        if any(d.id == key for d in self.configured):
            raise Conflict(f"device {device_id!r} is already part of the site (configured in the scenario)")
        instance = instance_of(key)
        try:
            if instance is not None:
                return self.store.get(instance)
            if parse_modbus_id(key) is not None:
                return self.store.units.get(key)
        except NotFound:
            what = "no discovery found it (run a discovery first)" if instance is not None else \
                "no probe found it (run bms devices probe modbus first)"
            raise NotFound(f"unknown device {device_id!r}: {what}") from None
        self.record(device_id)  # NotFound, with a close match
        raise NotFound(f"unknown device {device_id!r}")

    def acceptable(self, device_id: str) -> Found:
        """The discovered device to accept; refused when it is already part of the site."""
        found = self.discovered(device_id)
        if found.state == "Accepted":
            raise Conflict(f"device {device_id!r} is already part of the site")
        return found

    def _set_state(self, found: Found, state: str) -> Found:
        if isinstance(found, StoredUnit):
            self.store.units.set_state(found.device_id, state)
            return self.store.units.get(found.device_id)
        self.store.set_state(found.instance, state)
        return self.store.get(found.instance)

    def ignore(self, device_id: str) -> DeviceRecord:
        """Hide a discovered device (it stays ignored on re-discovery); an accepted one is refused."""
        found = self.discovered(device_id)
        if found.state == "Accepted":
            raise Conflict(f"device {device_id!r} is part of the site: it cannot be ignored (remove it first)")
        return self.record_of(self._set_state(found, "Ignored"))

    def removable(self, device_id: str) -> tuple[Found, str | None]:
        """The accepted device to remove and its equipment id (None: its nodes were never made)."""
        found = self.discovered(device_id)
        if found.state != "Accepted":
            raise Conflict(f"device {device_id!r} is not part of the site (it is {found.state}): nothing to remove")
        return found, self.equips.get(found_id(found))

    def removed(self, found: Found) -> DeviceRecord:
        """Its nodes are gone from the model: the device is Discovered again, its waiting accept dropped."""
        key = found_id(found)
        self.equips.pop(key, None)
        self.points.pop(key, None)
        self.keep_waiting([p for p in read_pending(self.data_dir) if p.key != key])
        return self.record_of(self._set_state(found, "Discovered"))

    @staticmethod
    def check_profile(found: Found, profile: Profile) -> None:
        """Refuse a profile of another protocol than the device's."""
        protocol = "modbus" if isinstance(found, StoredUnit) else "bacnet"
        if profile.protocol != protocol:
            raise ConfigError(f"profile {profile.name!r} is for {profile.protocol}, not {protocol}")

    def nodes_for(self, found: Found, *, profile: Profile | None, equip_id: str | None,
                  taken: Collection[str]) -> list[Node]:
        """The Equip node (first) and Point nodes ``found`` becomes, as the model keeps them.

        ``taken`` is every node id of the model; ``equip_id`` (else one made
        from the device's name) must not be one of them. A Modbus unit needs a profile.
        """
        if self.site is None:
            raise ConfigError("accepting a device into the model needs the site's scenario")
        taken = {*taken, *(d.id for d in self.configured)}
        if equip_id is not None and equip_id in taken:
            raise Conflict(f"node {equip_id!r} already exists: choose another equipment id")
        if isinstance(found, StoredUnit):
            if profile is None:
                raise ConfigError(f"{found.device_id}: a Modbus device is accepted with a profile naming its "
                                  "registers (--profile NAME)")
            nodes = modbus_nodes(found, profile, equip_id=equip_id, site=self.site.scenario.site,
                                 network=self.modbus_network(), taken=taken)
        else:
            chosen = equip_id or equip_id_for(found.name, found.instance, taken)
            nodes = accepted_nodes(found, self.store.objects(found.instance), equip_id=chosen,
                                   site=self.site.scenario.site, profile=profile)
        return [normalised(n) for n in nodes]

    def modbus_network(self) -> str:
        """The Modbus network an accepted unit joins: the scenario's first TCP network, else "default"."""
        networks = self.site.scenario.networks.modbus if self.site is not None else {}
        return next((name for name, n in networks.items() if n.kind == "tcp"), "default")

    def accepted(self, found: Found, nodes: Sequence[Node], ts: float) -> DeviceAccepted:
        """``nodes`` are in the model: the device is Accepted; the event to publish."""
        self._set_state(found, "Accepted")
        key = found_id(found)
        equip, points = nodes[0], tuple(n for n in nodes[1:] if n.type == "Point")
        self.equips[key] = equip.id
        self.points[key] = len(points)
        protocol = "modbus" if isinstance(found, StoredUnit) else "bacnet"
        return DeviceAccepted(protocol=protocol, device_id=key, equip=equip, points=points, ts=ts)

    def defer(self, found: Found, profile: str | None, equip_id: str | None) -> DeviceRecord:
        """Accept without the model: marked Accepted, its nodes made when the daemon next starts."""
        if isinstance(found, StoredUnit) and profile is None:
            raise ConfigError(f"{found.device_id}: a Modbus device is accepted with a profile naming its registers "
                              "(--profile NAME)")
        key = found_id(found)
        wish = PendingAccept(device_id=key, profile=profile, equip_id=equip_id) if isinstance(found, StoredUnit) \
            else PendingAccept(found.instance, profile, equip_id)
        found = self._set_state(found, "Accepted")
        write_pending(self.data_dir, [*(p for p in read_pending(self.data_dir) if p.key != key), wish])
        return self.record_of(found)

    def waiting(self) -> list[tuple[Found, PendingAccept]]:
        """The accepted devices without equipment in the model, with the profile and id asked for them."""
        wishes = {p.key: p for p in read_pending(self.data_dir)}
        accepted: list[Found] = [*self.store.devices(state="Accepted"), *self.store.units.units(state="Accepted")]
        return [(found, wishes.get(found_id(found), _wish(found))) for found in accepted
                if found_id(found) not in self.equips]

    def keep_waiting(self, wishes: Sequence[PendingAccept]) -> None:
        """Only ``wishes`` still wait for the daemon (the others were completed)."""
        write_pending(self.data_dir, wishes)


def _wish(found: Found) -> PendingAccept:
    if isinstance(found, StoredUnit):
        return PendingAccept(device_id=found.device_id)
    return PendingAccept(instance=found.instance)


def _accepted_key(equip: Node) -> str | None:
    """The discovered id of an accepted device's Equip node (None for any other Equip)."""
    props = equip.properties
    protocol = props.get("protocol")
    if protocol == "bacnet" and isinstance(props.get("device_instance"), int):
        return discovered_id(props["device_instance"])
    if protocol == "modbus" and props.get(ORIGIN) == DISCOVERY:
        host, port, unit = props.get("host"), props.get("port"), props.get("unit_id")
        if isinstance(host, str) and isinstance(port, int) and isinstance(unit, int):
            return modbus_id(host, port, unit)
    return None
