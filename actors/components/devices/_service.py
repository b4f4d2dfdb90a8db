"""The devices service (``devices``): the site's devices, discovery, accept and ignore.

It answers :class:`ListDevices` / :class:`GetDevice` with
:class:`DeviceRecord`s: the scenario's devices (state Configured, online
from the bridges' DeviceDown / DeviceRecovered and a device's first good
poll) and those BACnet discovery
found (Discovered, Accepted, Ignored, from ``discovery.db``, which this
service owns while the daemon runs). :class:`DiscoverDevices` scans a BACnet
network with its own client, on the network's address with a free port of
its own (never the bridge's), saves the scan (states kept on re-discovery)
and publishes DeviceDiscovered per device and DiscoveryScanComplete.
:class:`AcceptDevice` turns a discovered device into Equip and Point nodes
(:mod:`bms.bacnet._accept`), sends them to ``nodes`` with UpsertNodes, marks
it Accepted and publishes DeviceAccepted, which the bridge polls.

On start it completes the accepts made while no daemon ran (``bms devices
accept`` offline): Accepted devices without an Equip node get their nodes.
"""

from __future__ import annotations

import asyncio
import difflib
import re
import socket
import time
from typing import Any

import pykka

from actors._base import BmsActor, handles
from actors._context import Context
from actors._supervisor import ChildSpec
from actors.components.bacnet._targets import bacnet_networks, network_of
from actors.platform import Platform
from bms.bacnet import BacnetClient, DiscoveryStore, StoredDevice, discover
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
from bms.config import BacnetDevice, BacnetNetwork, LoadedScenario, Profile, find_profile, profile_dirs
from bms.errors import BmsError, ConfigError, Conflict, NotFound, ServiceUnavailable
from bms.messages import (
    AcceptDevice,
    DeviceAccepted,
    DeviceDiscovered,
    DeviceDown,
    DeviceRecord,
    DeviceRecovered,
    DiscoverDevices,
    DiscoveryScanComplete,
    GetDevice,
    IgnoreDevice,
    ListDevices,
    ListNodes,
    SampleBatch,
)
from bms.model import Node, UpsertNodes

NAME = "devices"
ASK_TIMEOUT = 10.0


def devices_component(platform: Platform) -> list[ChildSpec]:
    return [ChildSpec(NAME, DevicesService, kwargs={"site": platform.site})]


def discovery_address(network: BacnetNetwork) -> str:
    """The network's address/mask with a free UDP port of its own: discovery never takes the bridge's port."""
    match = re.fullmatch(r"(?P<ip>[^/:]+)(?P<mask>/\d+)?(?::\d+)?", network.address.strip())
    if match is None:
        raise ConfigError(f"bad BACnet network address {network.address!r}: expected ip/mask:port")
    ip, mask = match["ip"], match["mask"] or "/8"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((ip, 0))
        except OSError as err:
            raise ConfigError(f"cannot use BACnet network address {network.address!r}: {err.strerror}") from None
        port = sock.getsockname()[1]
    return f"{ip}{mask}:{port}"


def site_profile(site: LoadedScenario, name: str) -> Profile:
    """A profile by name: the scenario's, else any in its profile folders (ConfigError with a close match)."""
    return site.profiles.get(name) or find_profile(name, profile_dirs(site.path, site.scenario))


class DevicesService(BmsActor):
    """Devices of the site and of discovery."""

    def __init__(self, name: str, ctx: Context, site: LoadedScenario) -> None:
        super().__init__(name, ctx)
        self.site = site
        self.store: DiscoveryStore | None = None
        self.online: dict[str, bool] = {}  # equipment id -> answering
        self._answering: frozenset[str] = frozenset()  # read by the SampleBatch filter on other threads
        self.equips: dict[int, str] = {}  # instance -> equipment id, for accepted devices
        self.points: dict[int, int] = {}  # instance -> point count, for accepted devices

    # ------------------------------------------------------------ lifecycle
    def setup(self) -> None:
        self.store = DiscoveryStore(self.ctx.data_dir / "discovery.db")
        for kind in (DeviceDown, DeviceRecovered):
            self.subscribe(kind, name=f"{self.name}:{kind.__name__}")
        # a device's first good poll says it is online; later batches of it are not even delivered
        self.subscribe(SampleBatch, filter=self._news, name=f"{self.name}:online")
        configured = {d.id for d in self.site.scenario.devices}
        for equip in self._model_equips():
            instance = equip.properties.get("device_instance")
            if isinstance(instance, int) and equip.properties.get("protocol") == "bacnet" and equip.id not in configured:
                self.equips[instance] = equip.id
                try:
                    points = self._ask_nodes(ListNodes(under=equip.id, node_type="Point")) or []
                except BmsError:
                    points = []
                self.points[instance] = len(points)
        self._complete_pending()

    def teardown(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    @property
    def _store(self) -> DiscoveryStore:
        assert self.store is not None
        return self.store

    def _nodes(self) -> pykka.ActorRef[Any] | None:
        return self.ctx.registry.find("nodes")

    def _ask_nodes(self, msg: Any) -> Any:
        ref = self._nodes()
        if ref is None:
            return None
        try:
            return ref.ask(msg, block=False).get(timeout=ASK_TIMEOUT)
        except (pykka.Timeout, pykka.ActorDeadError) as err:
            raise ServiceUnavailable("nodes", f"did not answer {type(msg).__name__}: {err!r}") from None

    def _model_equips(self) -> list[Node]:
        try:
            return list(self._ask_nodes(ListNodes(node_type="Equip")) or [])
        except BmsError as err:
            self.log.warning("cannot list the model's equipment", error=str(err))
            return []

    def _complete_pending(self) -> None:
        """Create the nodes of Accepted devices that have none (accepted while no daemon ran)."""
        if self._nodes() is None:
            return
        pending = {p.instance: p for p in read_pending(self.ctx.data_dir)}
        for stored in self._store.devices(state="Accepted"):
            if stored.instance in self.equips:
                pending.pop(stored.instance, None)
                continue
            wish = pending.get(stored.instance, PendingAccept(instance=stored.instance))
            try:
                self._accept(stored, wish.profile, wish.equip_id)
                pending.pop(stored.instance, None)
            except BmsError as err:
                self.log.error("accepted device not added to the model", device=discovered_id(stored.instance),
                               error=str(err))
        write_pending(self.ctx.data_dir, list(pending.values()))

    # ------------------------------------------------------------ records
    def _configured_instances(self) -> dict[int, str]:
        return {d.device_instance: d.id for d in self.site.scenario.devices
                if isinstance(d, BacnetDevice) and d.device_instance is not None}

    def _records(self) -> list[DeviceRecord]:
        stored = {d.instance: d for d in self._store.devices()}
        records = []
        for device in self.site.scenario.devices:
            seen = stored.get(device.device_instance) if isinstance(device, BacnetDevice) and device.device_instance else None
            records.append(configured_record(device, self.site.profiles.get(device.profile), seen,
                                             self.online.get(device.id)))
        configured = self._configured_instances()
        for instance, found in stored.items():
            if instance not in configured:
                records.append(self._discovered(found))
        return records

    def _discovered(self, found: StoredDevice) -> DeviceRecord:
        configured = self._configured_instances().get(found.instance)
        equip = self.equips.get(found.instance)
        note = ""
        if found.state == "Accepted" and equip is None:
            note = "accepted; its nodes are created when the daemon starts with the nodes service"
        elif equip is not None:
            note = f"equipment {equip!r}"
        return discovered_record(found, online=self.online.get(equip) if equip else None,
                                 points=self.points.get(found.instance, 0), configured_as=configured, note=note)

    def _record(self, device_id: str) -> DeviceRecord:
        records = self._records()
        for record in records:
            if record.device_id == device_id:
                return record
        instance = self._instance(device_id)
        if instance is not None:
            for record in records:
                if record.device_id == discovered_id(instance) or instance_of(record.device_id) == instance:
                    return record
        ids = [r.device_id for r in records]
        close = difflib.get_close_matches(device_id, ids, n=1, cutoff=0.5)
        raise NotFound(f"unknown device {device_id!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))

    @handles(ListDevices)
    def list_devices(self, query: ListDevices) -> list[DeviceRecord]:
        return [r for r in self._records() if query.protocol in (None, r.protocol)]

    @handles(GetDevice)
    def get_device(self, query: GetDevice) -> DeviceRecord:
        return self._record(query.device_id)

    def _news(self, batch: SampleBatch) -> bool:
        """Runs on the publisher's thread: only batches of devices not yet known to be online."""
        device = _answering(batch)
        return device is not None and device not in self._answering

    def _set_online(self, device_id: str, online: bool) -> None:
        self.online[device_id] = online
        self._answering = frozenset(d for d, up in self.online.items() if up)

    @handles(SampleBatch)
    def on_samples(self, batch: SampleBatch) -> None:
        device = _answering(batch)
        if device is not None:
            self._set_online(device, True)

    @handles(DeviceDown)
    def on_down(self, event: DeviceDown) -> None:
        self._set_online(event.device_id, False)

    @handles(DeviceRecovered)
    def on_recovered(self, event: DeviceRecovered) -> None:
        self._set_online(event.device_id, True)

    # ------------------------------------------------------------ discovery
    @handles(DiscoverDevices)
    def discover_devices(self, query: DiscoverDevices) -> list[DeviceRecord]:
        if query.protocol != "bacnet":
            raise ConfigError(f"cannot discover {query.protocol} devices: only BACnet discovery is supported")
        scenario = self.site.scenario
        name = query.network or next(iter(bacnet_networks(scenario) or list(scenario.networks.bacnet)), "default")
        network = network_of(scenario, name)
        started = time.monotonic()
        own = BacnetNetwork(address=discovery_address(network), device_port=network.device_port,
                            broadcast=network.broadcast, bbmd=network.bbmd, bbmd_ttl=network.bbmd_ttl,
                            timeout=network.timeout, retries=network.retries)

        async def scan() -> list[Any]:
            async with BacnetClient(own, clock=self.clock, name="bms-discovery") as client:
                return await discover(client, query.low, query.high, query.timeout, network=name)

        found = asyncio.run(scan())
        self._store.save_many(found)
        ts = self.clock.now()
        for device in found:
            self.publish(DeviceDiscovered(protocol="bacnet", device_id=discovered_id(device.instance),
                                          address=device.address, ts=ts, name=device.name, vendor=device.vendor))
        self.publish(DiscoveryScanComplete(protocol="bacnet", found=len(found), duration=time.monotonic() - started,
                                           ts=ts, network=name))
        self.log.info("discovery done", network=name, found=len(found))
        return [self._discovered(self._store.get(device.instance)) for device in found]

    # ------------------------------------------------------------ accept / ignore
    def _instance(self, device_id: str) -> int | None:
        """The instance of ``bacnet:1001``, ``1001`` or an accepted device's equipment id."""
        instance = instance_of(device_id)
        if instance is not None:
            return instance
        return next((i for i, equip in self.equips.items() if equip == device_id), None)

    def _stored(self, device_id: str) -> StoredDevice:
        """The discovered device ``device_id`` names (a configured one is refused)."""
        configured = self._configured_instances()
        instance = self._instance(device_id)
        if instance in configured or any(d.id == device_id for d in self.site.scenario.devices):
            raise Conflict(f"device {device_id!r} is already part of the site (configured in the scenario)")
        if instance is None:
            self._record(device_id)  # NotFound, with a close match
            raise NotFound(f"unknown device {device_id!r}")
        try:
            return self._store.get(instance)
        except NotFound:
            raise NotFound(f"unknown device {device_id!r}: no discovery found it (run a discovery first)") from None

    @handles(AcceptDevice)
    def accept_device(self, command: AcceptDevice) -> DeviceRecord:
        stored = self._stored(command.device_id)
        if stored.state == "Accepted":
            raise Conflict(f"device {command.device_id!r} is already part of the site")
        if command.profile is not None:
            site_profile(self.site, command.profile)  # refuse an unknown profile before anything changes
        if self._nodes() is None:
            self._store.accept(stored.instance)
            waiting = [p for p in read_pending(self.ctx.data_dir) if p.instance != stored.instance]
            write_pending(self.ctx.data_dir, [*waiting, PendingAccept(stored.instance, command.profile, command.equip_id)])
            return self._discovered(self._store.get(stored.instance))
        self._accept(stored, command.profile, command.equip_id)
        return self._discovered(self._store.get(stored.instance))

    def _accept(self, stored: StoredDevice, profile_name: str | None, equip_id: str | None) -> None:
        profile = site_profile(self.site, profile_name) if profile_name is not None else None
        taken = {n.id for n in (self._ask_nodes(ListNodes()) or [])} | {d.id for d in self.site.scenario.devices}
        if equip_id is not None and equip_id in taken:
            raise Conflict(f"node {equip_id!r} already exists: choose another equipment id")
        chosen = equip_id or equip_id_for(stored.name, stored.instance, taken)
        objects = self._store.objects(stored.instance)
        nodes = accepted_nodes(stored, objects, equip_id=chosen, site=self.site.scenario.site, profile=profile)
        self._ask_nodes(UpsertNodes(nodes=tuple(nodes)))
        self._store.accept(stored.instance)
        points = tuple(n.id for n in nodes if n.type == "Point")
        self.equips[stored.instance] = chosen
        self.points[stored.instance] = len(points)
        self.publish(DeviceAccepted(protocol="bacnet", device_id=discovered_id(stored.instance), equip_id=chosen,
                                    point_ids=points, ts=self.clock.now()))
        self.log.info("device accepted", device=discovered_id(stored.instance), equip=chosen, points=len(points))

    @handles(IgnoreDevice)
    def ignore_device(self, command: IgnoreDevice) -> DeviceRecord:
        stored = self._stored(command.device_id)
        if stored.state == "Accepted":
            raise Conflict(f"device {command.device_id!r} is part of the site: it cannot be ignored")
        self._store.ignore(stored.instance)
        return self._discovered(self._store.get(stored.instance))


def _answering(batch: SampleBatch) -> str | None:
    """The device of a batch (one device's poll) with a good reading in it, else None."""
    for readings in batch.readings:  # readings are good by construction
        if readings.point_ids:
            return readings.point_ids[0].partition("/")[0]
    for sample in batch.samples:
        if sample.fault is None:
            return sample.point_id.partition("/")[0]
    return None
