"""Commissioning: the site's devices as the integrator sees them, and accepting or ignoring them.

:class:`Commissioning` holds every decision that the devices service
(``actors/components/devices``, while the daemon runs) and ``bms devices``
(on the data directory, without a daemon) share: the scenario's devices and
those discovery found in ``discovery.db`` as :class:`DeviceRecord`s, which
device an id names (``bacnet:1001``, ``1001``, the equipment id of an
accepted device), what may be accepted or ignored, which Equip and Point
nodes a device becomes, the accepts waiting for the daemon
(``accept-pending.json``) and which of them are still to complete.

It holds no thread and asks no actor: the caller gives it what the
running site knows (the model's nodes, which devices answer), looks
profiles up itself and sends the nodes to the model.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from bms.bacnet._accept import (
    PendingAccept,
    accepted_nodes,
    configured_record,
    discovered_id,
    discovered_record,
    equip_id_for,
    instance_of,
    read_pending,
    write_pending,
)
from bms.bacnet._store import DiscoveryStore, StoredDevice
from bms.config import BacnetDevice, DeviceSpec, LoadedScenario, Profile
from bms.errors import ConfigError, Conflict, NotFound
from bms.messages import DeviceAccepted, DeviceRecord
from bms.model import Node, normalised

WAITING = "accepted; its nodes are created when the daemon next starts with the nodes service"
"""The note of a device accepted whose equipment the model does not have yet."""


class Commissioning:
    """The devices of ``site`` (None: no scenario) and of ``store``; accepts wait in ``data_dir``.

    ``equips`` / ``points`` (instance -> equipment id / point count) are the
    accepted devices the model holds; ``online`` (device or equipment id)
    what the bridges say. Both are empty without a daemon.
    """

    def __init__(self, site: LoadedScenario | None, store: DiscoveryStore, data_dir: Path) -> None:
        self.site = site
        self.store = store
        self.data_dir = data_dir
        self.equips: dict[int, str] = {}
        self.points: dict[int, int] = {}
        self.online: dict[str, bool] = {}

    @property
    def configured(self) -> list[DeviceSpec]:
        return list(self.site.scenario.devices) if self.site is not None else []

    def _configured_instances(self) -> dict[int, str]:
        return {d.device_instance: d.id for d in self.configured
                if isinstance(d, BacnetDevice) and d.device_instance is not None}

    def know_model(self, nodes: Iterable[Node]) -> None:
        """Learn the accepted devices the model holds (its BACnet Equip nodes the scenario does not name)."""
        configured = {d.id for d in self.configured}
        equips: dict[str, int] = {}
        counts: dict[str, int] = {}
        for node in nodes:
            instance = node.properties.get("device_instance")
            if (node.type == "Equip" and node.properties.get("protocol") == "bacnet" and isinstance(instance, int)
                    and node.id not in configured):
                equips[node.id] = instance
            elif node.type == "Point" and node.parent is not None:
                counts[node.parent] = counts.get(node.parent, 0) + 1
        for equip_id, instance in equips.items():
            self.equips[instance] = equip_id
            self.points[instance] = counts.get(equip_id, 0)

    # ------------------------------------------------------------ records
    def records(self) -> list[DeviceRecord]:
        """The scenario's devices (Configured), then those only discovery knows."""
        stored = {d.instance: d for d in self.store.devices()}
        records = []
        for device in self.configured:
            seen = stored.get(device.device_instance) if (
                isinstance(device, BacnetDevice) and device.device_instance is not None) else None
            profile = self.site.profiles.get(device.profile) if self.site is not None else None
            records.append(configured_record(device, profile, seen, self.online.get(device.id)))
        configured = self._configured_instances()
        records += [self.discovered_record(found) for instance, found in stored.items() if instance not in configured]
        return records

    def discovered_record(self, found: StoredDevice) -> DeviceRecord:
        """A device of discovery.db, with its equipment when accepted (or why it has none yet)."""
        equip = self.equips.get(found.instance)
        note = ""
        if found.state == "Accepted" and equip is None:
            note = WAITING
        elif equip is not None:
            note = f"equipment {equip!r}"
        return discovered_record(found, online=self.online.get(equip) if equip else None,
                                 points=self.points.get(found.instance, 0),
                                 configured_as=self._configured_instances().get(found.instance), note=note)

    def record(self, device_id: str) -> DeviceRecord:
        """The device ``device_id`` names; NotFound with the closest id."""
        records = self.records()
        for record in records:
            if record.device_id == device_id:
                return record
        instance = self.instance(device_id)
        if instance is not None:
            for record in records:
                if record.device_id == discovered_id(instance) or instance_of(record.device_id) == instance:
                    return record
        close = difflib.get_close_matches(device_id, [r.device_id for r in records], n=1, cutoff=0.5)
        raise NotFound(f"unknown device {device_id!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))

    def instance(self, device_id: str) -> int | None:
        """The instance of ``bacnet:1001``, ``1001`` or an accepted device's equipment id."""
        instance = instance_of(device_id)
        if instance is not None:
            return instance
        return next((i for i, equip in self.equips.items() if equip == device_id), None)

    def record_instance(self, record: DeviceRecord) -> int | None:
        """The BACnet instance of a listed device (a configured one's from the scenario)."""
        if record.protocol != "bacnet":
            return None
        for device in self.configured:
            if device.id == record.device_id:
                return device.device_instance if isinstance(device, BacnetDevice) else None
        return instance_of(record.device_id)

    # ------------------------------------------------------------ accept / ignore
    def discovered(self, device_id: str) -> StoredDevice:
        """The discovered device ``device_id`` names; a configured one is refused, an unknown one NotFound."""
        instance = self.instance(device_id)
        if instance in self._configured_instances() or any(d.id == device_id for d in self.configured):
            raise Conflict(f"device {device_id!r} is already part of the site (configured in the scenario)")
        if instance is None:
            self.record(device_id)  # NotFound, with a close match
            raise NotFound(f"unknown device {device_id!r}")
        try:
            return self.store.get(instance)
        except NotFound:
            raise NotFound(f"unknown device {device_id!r}: no discovery found it (run a discovery first)") from None

    def acceptable(self, device_id: str) -> StoredDevice:
        """The discovered device to accept; refused when it is already part of the site."""
        stored = self.discovered(device_id)
        if stored.state == "Accepted":
            raise Conflict(f"device {device_id!r} is already part of the site")
        return stored

    def ignore(self, device_id: str) -> DeviceRecord:
        """Hide a discovered device (it stays ignored on re-discovery); an accepted one is refused."""
        stored = self.discovered(device_id)
        if stored.state == "Accepted":
            raise Conflict(f"device {device_id!r} is part of the site: it cannot be ignored")
        self.store.ignore(stored.instance)
        return self.discovered_record(self.store.get(stored.instance))

    def nodes_for(self, stored: StoredDevice, *, profile: Profile | None, equip_id: str | None,
                  taken: Collection[str]) -> list[Node]:
        """The Equip node (first) and Point nodes ``stored`` becomes, as the model keeps them.

        ``taken`` is every node id of the model; ``equip_id`` (else one made
        from the device's name) must not be one of them.
        """
        if self.site is None:
            raise ConfigError("accepting a device into the model needs the site's scenario")
        taken = {*taken, *(d.id for d in self.configured)}
        if equip_id is not None and equip_id in taken:
            raise Conflict(f"node {equip_id!r} already exists: choose another equipment id")
        chosen = equip_id or equip_id_for(stored.name, stored.instance, taken)
        nodes = accepted_nodes(stored, self.store.objects(stored.instance), equip_id=chosen,
                               site=self.site.scenario.site, profile=profile)
        return [normalised(n) for n in nodes]

    def accepted(self, stored: StoredDevice, nodes: Sequence[Node], ts: float) -> DeviceAccepted:
        """``nodes`` are in the model: the device is Accepted; the event to publish."""
        self.store.accept(stored.instance)
        equip, points = nodes[0], tuple(n for n in nodes[1:] if n.type == "Point")
        self.equips[stored.instance] = equip.id
        self.points[stored.instance] = len(points)
        return DeviceAccepted(protocol="bacnet", device_id=discovered_id(stored.instance), equip=equip,
                              points=points, ts=ts)

    def defer(self, stored: StoredDevice, profile: str | None, equip_id: str | None) -> DeviceRecord:
        """Accept without the model: marked Accepted, its nodes made when the daemon next starts."""
        self.store.accept(stored.instance)
        waiting = [p for p in read_pending(self.data_dir) if p.instance != stored.instance]
        write_pending(self.data_dir, [*waiting, PendingAccept(stored.instance, profile, equip_id)])
        return self.discovered_record(self.store.get(stored.instance))

    def waiting(self) -> list[tuple[StoredDevice, PendingAccept]]:
        """The accepted devices without equipment in the model, with the profile and id asked for them."""
        wishes = {p.instance: p for p in read_pending(self.data_dir)}
        return [(stored, wishes.get(stored.instance, PendingAccept(instance=stored.instance)))
                for stored in self.store.devices(state="Accepted") if stored.instance not in self.equips]

    def keep_waiting(self, wishes: Sequence[PendingAccept]) -> None:
        """Only ``wishes`` still wait for the daemon (the others were completed)."""
        write_pending(self.data_dir, wishes)
