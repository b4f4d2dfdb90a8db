"""The devices service (``devices``): the site's devices, discovery, accept and ignore.

It answers :class:`ListDevices` / :class:`GetDevice` with
:class:`DeviceRecord`s: the scenario's devices (state Configured, online
from the bridges' DeviceDown / DeviceRecovered and a device's first good
poll) and those BACnet discovery
found (Discovered, Accepted, Ignored, from ``discovery.db``, which this
service owns while the daemon runs). :class:`DiscoverDevices` scans a BACnet
network with its own client, on the network's address with a free port of
its own (never the bridge's). The scan runs on the service's own loop
(:class:`~actors.LoopThread`): the service keeps answering meanwhile, each
step goes out as a :class:`DiscoveryProgress` (devices found, objects read;
the API's stream carries them to the CLI's progress bar), and when the scan
ends the actor gets a :class:`ScanDone`, saves what it found (states kept on
re-discovery), publishes DeviceDiscovered per device and
DiscoveryScanComplete, and answers the caller (:class:`~actors.Later`). A
scan has ``timeout`` plus :data:`SCAN_MARGIN` seconds, less than the API
waits; one cut short by a restart or a stop is answered Unavailable.
:class:`AcceptDevice` turns a discovered device into Equip and Point nodes,
sends them to ``nodes`` with UpsertNodes, marks it Accepted and publishes
DeviceAccepted with the nodes, which the bridge polls and the point store
and history take on as they are.

What to list, which device an id names, what may be accepted and which
nodes it becomes is :class:`~bms.bacnet.Commissioning`, shared with ``bms
devices`` without a daemon; this actor owns it with ``discovery.db``, tells
it what the model holds (one ListNodes on start) and which devices answer.
On start it completes the accepts made while no daemon ran (``bms devices
accept`` offline): Accepted devices without an Equip node get their nodes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import secrets
import socket
import time
from typing import Any

import msgspec
import pykka

from actors._base import BmsActor, handles
from actors._context import Context
from actors._later import Later
from actors._loop import LoopThread
from actors._supervisor import ChildSpec
from actors.components.bacnet._targets import bacnet_networks, network_of
from actors.components.devices._probe import modbus_scan
from actors.platform import Platform
from bms.bacnet import BacnetClient, Commissioning, DiscoveryStore, discover
from bms.bacnet._accept import PendingAccept
from bms.bacnet._commissioning import Found, found_id
from bms.bacnet._probed import StoredUnit
from bms.config import BacnetNetwork, LoadedScenario, Profile, find_profile, profile_dirs
from bms.devices import ScanTally
from bms.errors import BmsError, ConfigError, DeviceTimeout, ServiceUnavailable, Unavailable
from bms.messages import (
    AcceptDevice,
    DeviceDiscovered,
    DeviceDown,
    DeviceRecord,
    DeviceRecovered,
    DeviceRemoved,
    DiscoverDevices,
    DiscoveryScanComplete,
    GetDevice,
    IgnoreDevice,
    ListDevices,
    ListNodes,
    RemoveDevice,
    SampleBatch,
)
from bms.model import DeleteNodes, UpsertNodes

NAME = "devices"
ASK_TIMEOUT = 10.0
SCAN_MARGIN = 25.0
"""Seconds a scan may take beyond its Who-Is timeout (reading the devices found): less than the API's
margin (``actors.components.devices._api.DISCOVERY_MARGIN``), so the scan's own deadline speaks first."""


class ScanDone(msgspec.Struct, frozen=True):
    """Loop -> service: the scan ``running`` ended (or was cancelled); ``answer`` is its caller's."""

    scan: str
    network: str
    started: float
    running: Any  # concurrent.futures.Future[list[DiscoveredDevice] | list[ProbeResult]]
    answer: Any  # concurrent.futures.Future[list[DeviceRecord]]
    protocol: str = "bacnet"  # a Modbus probe's network is its HOST:PORT


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
    """Devices of the site and of discovery: a :class:`~bms.bacnet.Commissioning` with a mailbox."""

    def __init__(self, name: str, ctx: Context, site: LoadedScenario) -> None:
        super().__init__(name, ctx)
        self.site = site
        self.store: DiscoveryStore | None = None
        self.commissioning: Commissioning | None = None
        self.online: dict[str, bool] = {}  # device or equipment id -> answering (kept across restarts)
        self._answering: frozenset[str] = frozenset()  # read by the SampleBatch filter on other threads
        self.io: LoopThread | None = None
        self._scans: dict[str, ScanDone] = {}  # the scans running, by id

    # ------------------------------------------------------------ lifecycle
    def setup(self) -> None:
        self.io = LoopThread(f"{self.name}-io").start()
        self.store = DiscoveryStore(self.ctx.data_dir / "discovery.db")
        self.commissioning = Commissioning(self.site, self.store, self.ctx.data_dir)
        self.commissioning.online = self.online
        for kind in (DeviceDown, DeviceRecovered):
            self.subscribe(kind, name=f"{self.name}:{kind.__name__}")
        # a device's first good poll says it is online; later batches of it are not even delivered
        self.subscribe(SampleBatch, filter=self._news, name=f"{self.name}:online")
        try:
            self.commissioning.know_model(self._ask_nodes(ListNodes()) or [])
        except BmsError as err:
            self.log.warning("cannot list the model's nodes", error=str(err))
        self._complete_pending()

    def teardown(self) -> None:
        if self.io is not None:
            self.io.stop()  # cancels the scans still running
            self.io = None
        for done in self._scans.values():
            if not done.answer.done():
                self._scan_failed(done, Unavailable(f"discovery scan {done.scan} interrupted: the devices service stopped"))
        self._scans = {}
        self.commissioning = None
        if self.store is not None:
            self.store.close()
            self.store = None

    @property
    def _commissioning(self) -> Commissioning:
        assert self.commissioning is not None
        return self.commissioning

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

    def _complete_pending(self) -> None:
        """Create the nodes of Accepted devices that have none (accepted while no daemon ran)."""
        if self._nodes() is None:
            return
        still: list[PendingAccept] = []
        for found, wish in self._commissioning.waiting():
            try:
                self._accept(found, wish.profile, wish.equip_id)
            except BmsError as err:
                self.log.error("accepted device not added to the model", device=found_id(found), error=str(err))
                still.append(wish)
        self._commissioning.keep_waiting(still)

    # ------------------------------------------------------------ records
    @handles(ListDevices)
    def list_devices(self, query: ListDevices) -> list[DeviceRecord]:
        return [r for r in self._commissioning.records() if query.protocol in (None, r.protocol)]

    @handles(GetDevice)
    def get_device(self, query: GetDevice) -> DeviceRecord:
        return self._commissioning.record(query.device_id)

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
    def discover_devices(self, query: DiscoverDevices) -> Later:
        """Start the scan on the loop; the caller is answered when it ends (:meth:`scan_done`).

        BACnet: Who-Is and reads; Modbus: a probe of ``query.network`` (HOST:PORT)."""
        if self.io is None:
            raise ServiceUnavailable(self.name, "cannot scan: its loop is not running")
        if query.protocol == "modbus":
            return self._start(query, *modbus_scan(query, query.scan or secrets.token_hex(6), self.clock,
                                                   self.ctx.registry.publish))
        scenario = self.site.scenario
        name = query.network or next(iter(bacnet_networks(scenario) or list(scenario.networks.bacnet)), "default")
        network = network_of(scenario, name)
        own = BacnetNetwork(address=discovery_address(network), device_port=network.device_port,
                            broadcast=network.broadcast, bbmd=network.bbmd, bbmd_ttl=network.bbmd_ttl,
                            timeout=network.timeout, retries=network.retries)
        scan_id = query.scan or secrets.token_hex(6)
        tally, clock, publish = ScanTally(scan_id, name), self.clock, self.ctx.registry.publish
        within = query.timeout + SCAN_MARGIN

        def progress(task: str, done: int, total: int) -> None:  # on the loop
            publish(tally.step(task, done, total, clock.now()))

        async def scan() -> list[Any]:
            async with BacnetClient(own, clock=clock, name="bms-discovery") as client:
                try:
                    async with asyncio.timeout(within):
                        return await discover(client, query.low, query.high, query.timeout, progress, network=name)
                except TimeoutError:
                    raise DeviceTimeout(f"discovery of network {name!r} did not end within {within:g} s") from None

        return self._start(query, scan_id, name, scan())

    def _start(self, query: DiscoverDevices, scan_id: str, network: str, work: Any) -> Later:
        assert self.io is not None
        answer: concurrent.futures.Future[list[DeviceRecord]] = concurrent.futures.Future()
        running = self.io.submit(work)
        done = ScanDone(scan_id, network, time.monotonic(), running, answer, protocol=query.protocol)
        self._scans[scan_id] = done
        running.add_done_callback(lambda _: self._tell_done(done))
        self.log.info("discovery started", protocol=query.protocol, network=network, scan=scan_id,
                      timeout=query.timeout)
        return Later(answer, f"discovery scan {scan_id}")

    def _tell_done(self, done: ScanDone) -> None:
        """On the loop: the scan ended; the actor saves it (a stopped actor's teardown answered the caller)."""
        try:
            self.actor_ref.tell(done)
        except pykka.ActorDeadError:
            pass

    @handles(ScanDone)
    def scan_done(self, done: ScanDone) -> None:
        """Save what the scan found, say so, answer its caller."""
        answer: concurrent.futures.Future[list[DeviceRecord]] = done.answer
        self._scans.pop(done.scan, None)
        if answer.done():  # answered by a teardown (the scan was cut short)
            return
        if done.running.cancelled():
            self._scan_failed(done, Unavailable(f"discovery scan {done.scan} interrupted: the devices service restarted"))
            return
        error = done.running.exception()
        if error is not None:
            self._scan_failed(done, error)
            return
        try:
            records = self._save(done, done.running.result())
        except BaseException as err:  # the caller hears of it; a store failure restarts the actor too
            self._scan_failed(done, err)
            raise
        answer.set_result(records)

    def _scan_failed(self, done: ScanDone, error: BaseException) -> None:
        """The scan's caller gets ``error``; its followers learn it ended."""
        self.log.warning("discovery failed", network=done.network, scan=done.scan, error=str(error) or repr(error))
        done.answer.set_exception(error)
        self.publish(DiscoveryScanComplete(protocol=done.protocol, found=0, duration=time.monotonic() - done.started,
                                           ts=self.clock.now(), network=done.network, scan=done.scan,
                                           error=str(error) or repr(error)))

    def _save(self, done: ScanDone, found: list[Any]) -> list[DeviceRecord]:
        store, ts = self._commissioning.store, self.clock.now()
        if done.protocol == "modbus":
            host, _, port = done.network.rpartition(":")
            saved: list[Found] = list(store.units.save_many(host, int(port), found, ts))
        else:
            store.save_many(found)
            saved = [store.get(device.instance) for device in found]
        records = [self._commissioning.record_of(item) for item in saved]
        for record in records:
            self.publish(DeviceDiscovered(protocol=done.protocol, device_id=record.device_id, address=record.address,
                                          ts=ts, name=record.name, vendor=record.vendor))
        self.publish(DiscoveryScanComplete(protocol=done.protocol, found=len(found), ts=ts, network=done.network,
                                           duration=time.monotonic() - done.started, scan=done.scan))
        self.log.info("discovery done", protocol=done.protocol, network=done.network, scan=done.scan,
                      found=len(found))
        return records

    # ------------------------------------------------------------ accept / ignore
    @handles(AcceptDevice)
    def accept_device(self, command: AcceptDevice) -> DeviceRecord:
        found = self._commissioning.acceptable(command.device_id)
        if command.profile is not None:  # refuse an unknown profile before anything changes
            self._commissioning.check_profile(found, site_profile(self.site, command.profile))
        if self._nodes() is None:
            return self._commissioning.defer(found, command.profile, command.equip_id)
        return self._commissioning.record_of(self._accept(found, command.profile, command.equip_id))

    def _accept(self, found: Found, profile_name: str | None, equip_id: str | None) -> Found:
        profile = site_profile(self.site, profile_name) if profile_name is not None else None
        taken = [n.id for n in (self._ask_nodes(ListNodes()) or [])]
        nodes = self._commissioning.nodes_for(found, profile=profile, equip_id=equip_id, taken=taken)
        self._ask_nodes(UpsertNodes(nodes=tuple(nodes)))
        accepted = self._commissioning.accepted(found, nodes, self.clock.now())
        self.publish(accepted)
        self.log.info("device accepted", device=accepted.device_id, equip=accepted.equip_id,
                      points=len(accepted.points), profile=profile_name)
        store = self._commissioning.store
        return store.units.get(found.device_id) if isinstance(found, StoredUnit) else store.get(found.instance)

    @handles(IgnoreDevice)
    def ignore_device(self, command: IgnoreDevice) -> DeviceRecord:
        record = self._commissioning.ignore(command.device_id)
        self.log.info("device ignored", device=record.device_id, address=record.address)
        return record

    @handles(RemoveDevice)
    def remove_device(self, command: RemoveDevice) -> DeviceRecord:
        """Its nodes out of the model, then DeviceRemoved: the bridge stops polling it, the point store drops it."""
        found, equip = self._commissioning.removable(command.device_id)
        gone: tuple[str, ...] = ()
        if equip is not None:
            if self._nodes() is None:
                raise ServiceUnavailable("nodes", f"cannot remove {command.device_id}: the model is not running")
            gone = tuple(self._ask_nodes(DeleteNodes(root=equip)) or ())
        record = self._commissioning.removed(found)
        protocol = "modbus" if isinstance(found, StoredUnit) else "bacnet"
        self.publish(DeviceRemoved(protocol=protocol, device_id=found_id(found), equip_id=equip or "",
                                   node_ids=gone, ts=self.clock.now(), user=command.user))
        self.log.info("device removed", device=found_id(found), equip=equip, nodes=len(gone), user=command.user)
        return record


def _answering(batch: SampleBatch) -> str | None:
    """The device of a batch (one device's poll) with a good reading in it, else None."""
    for readings in batch.readings:  # readings are good by construction
        if readings.point_ids:
            return readings.point_ids[0].partition("/")[0]
    for sample in batch.samples:
        if sample.fault is None:
            return sample.point_id.partition("/")[0]
    return None
