"""The BACnet bridges: one actor per BACnet network with devices to poll.

``bacnet.<network>`` (:class:`BacnetBridge`) owns an asyncio loop on its own
thread (started in setup, stopped in teardown) and, on it, a
:class:`~actors.components.bacnet._poller.NetworkPoller` with the network's
BacnetClient. The actor itself only routes: ticker ticks start the polls
that are due, :class:`DeviceWrite` messages for its writable points become
writes, :class:`DeviceAccepted` events (which carry the device's nodes) add
devices. It never waits on a device: a :class:`ReadDevicePriority` runs on
the loop and its caller is answered from there (:class:`~actors.Later`),
within the caller's ``timeout`` (the client's own deadline is shorter), a
silent device being a :class:`~bms.errors.DeviceTimeout` to the caller,
never a failure of the bridge. Every :class:`DeviceWrite` is answered: a
write the loop cannot take, or that the loop's stop cut short, gets a
failed :class:`WriteResult` naming why. Device alarms
(:mod:`._events`): the event notifications its devices send become
:class:`DeviceEvent` messages, and an :class:`AcknowledgeDeviceAlarm` for
one of its devices (named by device or point) becomes an AcknowledgeAlarm
on the loop, answered with a :class:`DeviceAckResult` like a write (a
bridge that is down, or stopped before the device answered, refuses it).
Its devices are the
scenario's enabled BACnet devices of the network, the BACnet Equip nodes of
the model that the scenario does not have (accepted earlier), and devices
accepted while it runs.

Health: Healthy while every device answers, Degraded with the devices that
are down (or the configured devices it cannot poll), Down with one line when
its network is unusable (bad address, port in use). Down, or stopped for
good by its supervisor, it publishes :class:`DeviceDown` and a faulted
sample for every point of its devices at once: the point store shows them
down, not a last value that no longer moves.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pykka
from bacpypes3.pdu import Address, IPv4Address

from actors._base import BmsActor, handles
from actors._context import Context
from actors._inflight import WritesInFlight, refused
from actors._later import Later
from actors._loop import LoopThread
from actors._supervisor import ChildSpec
from actors.components.bacnet._poller import NetworkPoller
from actors.components.bacnet._targets import (
    DeviceTarget,
    bacnet_networks,
    network_of,
    target_from_nodes,
    targets_from_scenario,
)
from actors.platform import Platform
from bms.bacnet import DiscoveryStore
from bms.config import Profile, Scenario
from bms.errors import BmsError, NotFound, Unavailable
from bms.messages import (
    AcknowledgeDeviceAlarm,
    DeviceAccepted,
    DeviceAckResult,
    DeviceDown,
    DevicePriority,
    DeviceRemoved,
    DeviceWrite,
    ListNodes,
    ReadDevicePriority,
    Sample,
    SampleBatch,
    Tick,
)
from bms.model import Node
from bms.ports import Endpoint
from bms.schedules import ReadDeviceSchedules, WriteDeviceSchedule
from bms.supervision import Health

ASK_TIMEOUT = 5.0  # asks to the model, in setup
_POLL, _MONITOR = "poll", "monitor"


def bacnet_bridges(platform: Platform) -> list[ChildSpec]:
    """One bridge per BACnet network with enabled devices (or devices accepted from discovery)."""
    scenario = platform.site.scenario
    names = _bridged(platform)
    return [
        ChildSpec(f"bacnet.{name}", BacnetBridge, kwargs={
            "network_name": name, "scenario": scenario, "profiles": platform.site.profiles,
            "bridged": tuple(names),
        })
        for name in names
    ]


def bacnet_endpoints(platform: Platform) -> list[Endpoint]:
    """The own address of each bridge's client (an address that cannot be parsed: its bridge says so)."""
    found: list[Endpoint] = []
    for name in _bridged(platform):
        try:
            local = Address(network_of(platform.site.scenario, name).address)
        except (BmsError, ValueError, TypeError, RuntimeError):
            continue
        if isinstance(local, IPv4Address):
            address, port = local.addrTuple
            found.append(Endpoint(address, port, "udp"))
    return found


def bacnet_bridge_names(platform: Platform) -> list[str]:
    """The registry names of the site's BACnet bridges (``bacnet.<network>``), to ask for a device's schedules."""
    return [f"bacnet.{name}" for name in _bridged(platform)]


def _bridged(platform: Platform) -> list[str]:
    names = bacnet_networks(platform.site.scenario)
    for name in _accepted_networks(platform.data_dir / "discovery.db"):
        if name not in names:
            names.append(name)
    return names


def _accepted_networks(path: Path) -> list[str]:
    """Networks of the devices accepted from discovery (none when there is no discovery.db)."""
    if not path.exists():
        return []
    try:
        with DiscoveryStore(path) as store:
            return sorted({d.network or "default" for d in store.devices(state="Accepted")})
    except BmsError:
        return []


class BacnetBridge(BmsActor):
    """Polls, subscribes to and writes the devices of one BACnet network."""

    def __init__(
        self,
        name: str,
        ctx: Context,
        network_name: str,
        scenario: Scenario,
        profiles: dict[str, Profile],
        bridged: tuple[str, ...] = (),
        down_after: int = 3,
        max_backoff: float = 300.0,
        cov_lifetime: int = 300,
        object_check_interval: float = 300.0,
        monitor_interval: float = 60.0,
    ) -> None:
        super().__init__(name, ctx)
        self.network_name = network_name
        self.scenario = scenario
        self.profiles = profiles
        self.bridged = bridged or (network_name,)
        self.options = {"down_after": down_after, "max_backoff": max_backoff, "cov_lifetime": cov_lifetime,
                        "object_check_interval": object_check_interval}
        self.monitor_interval = monitor_interval
        self.io: LoopThread | None = None
        self.poller: NetworkPoller | None = None
        self._targets: dict[str, DeviceTarget] = {}
        self._writable: frozenset[str] = frozenset()
        self._intervals: dict[str, float] = {}
        self._tick: float | None = None
        self._down_reason = ""
        self._inflight = WritesInFlight()
        self._acks: list[tuple[AcknowledgeDeviceAlarm, concurrent.futures.Future[Any]]] = []

    # ------------------------------------------------------------ lifecycle
    def setup(self) -> None:
        self._targets, self._writable, self._intervals, self._down_reason = {}, frozenset(), {}, ""
        try:
            network = network_of(self.scenario, self.network_name)
        except BmsError as err:
            self._down(str(err))
            return
        targets, problems = targets_from_scenario(self.scenario, self.profiles, self.network_name)
        for target in targets:
            self._know(target)
        self.subscribe(DeviceWrite, filter=lambda m: m.point_id in self._writable, name=f"{self.name}:writes")
        self.subscribe(AcknowledgeDeviceAlarm, filter=self._acks_for_me, name=f"{self.name}:acks")
        io = LoopThread(f"{self.name}-io")
        io.start()
        poller = NetworkPoller(
            self.name, self.network_name, network, self.clock, publish=self.ctx.registry.publish,
            report=self._report, log=self.log, problems=tuple(problems), **self.options,  # type: ignore[arg-type]
        )
        try:
            io.run(poller.start(), timeout=network.timeout * (network.retries + 1) + 10.0)
        except (BmsError, OSError, TimeoutError) as err:
            io.stop()
            self._down(f"cannot open BACnet network {self.network_name!r} on {network.address}: {err}")
            return
        self.io, self.poller = io, poller
        for problem in problems:
            self.log.error("device not polled", problem=problem)
        for target in targets:
            self._add(target)
        self._adopt_model_devices()
        self.subscribe(DeviceAccepted, filter=lambda m: m.protocol == "bacnet", name=f"{self.name}:accepted")
        self.subscribe(DeviceRemoved, filter=lambda m: m.protocol == "bacnet", name=f"{self.name}:removed")
        self.ctx.ticker.every(self.monitor_interval, self.actor_ref, _MONITOR)
        self._retick()
        if problems:
            io.call(poller.report_health)
        self.log.info("bacnet bridge started", network=self.network_name, devices=len(targets),
                      address=network.address)

    def teardown(self) -> None:
        self.ctx.ticker.cancel_actor(self.actor_ref)
        io, poller = self.io, self.poller
        self.io = self.poller = None
        self._tick = None
        if io is None:
            return
        try:
            if poller is not None:
                io.run(poller.stop(), timeout=10.0)
        except Exception as err:  # still stop the loop
            self.log.warning("bacnet client did not stop cleanly", error=repr(err))
        finally:
            io.stop()
            for msg in self._inflight.unanswered():  # cut short by the stop: their coroutine said nothing
                self.publish(refused(msg, f"{msg.point_id}: {self.name} stopped before the device answered"))
            acks, self._acks = self._acks, []
            for ack, future in acks:
                if not future.done() or future.cancelled() or future.exception() is not None:
                    self.publish(_ack_refused(ack, f"{self.name} stopped before the device answered"))

    def gave_up(self, reason: str) -> None:
        self._flag_down(f"{self.name} stopped: {reason}")

    def _down(self, reason: str) -> None:
        self.log.error("bacnet bridge down", reason=reason)
        self._down_reason = reason
        self.ctx.supervisor.report(self.name, Health.DOWN, reason)
        self._flag_down(reason)

    def _flag_down(self, reason: str) -> None:
        """Every device of the bridge Down and its points faulted, at once: nothing will poll them."""
        ts = self.clock.now()
        for target in self._targets.values():
            self.publish(SampleBatch(source=self.name, samples=tuple(
                Sample(p.point_id, None, ts, fault=reason) for p in target.points)))
            self.publish(DeviceDown(protocol="bacnet", device_id=target.device_id, ts=ts, reason=reason))

    def _report(self, state: Health, reason: str) -> None:
        self.ctx.supervisor.report(self.name, state, reason)

    # ------------------------------------------------------------ devices
    def _know(self, target: DeviceTarget) -> None:
        """The device and its writable points are this bridge's (polled or not)."""
        self._targets[target.device_id] = target
        prefix = f"{target.device_id}/"
        keep = {p for p in self._writable if not p.startswith(prefix)}
        self._writable = frozenset(keep | {p.point_id for p in target.points if p.writable})
        self._intervals[target.device_id] = target.interval

    def _add(self, target: DeviceTarget) -> None:
        assert self.io is not None and self.poller is not None
        self.io.call(self.poller.add, target)
        self._know(target)
        self._retick()

    def _retick(self) -> None:
        if self.io is None:
            return
        network = network_of(self.scenario, self.network_name)
        interval = min(self._intervals.values(), default=network.poll_interval)
        if interval != self._tick:
            self._tick = interval
            self.ctx.ticker.every(interval, self.actor_ref, _POLL, first_in=0.0)

    def _mine(self, equip: Node) -> bool:
        props = equip.properties
        if props.get("protocol") != "bacnet":
            return False
        network = str(props.get("network") or "default")
        return network == self.network_name or (network not in self.bridged and self.bridged[0] == self.network_name)

    def _ask_nodes(self, msg: Any) -> Any:
        ref = self.ctx.registry.find("nodes")
        if ref is None:
            return None
        return ref.ask(msg, block=False).get(timeout=ASK_TIMEOUT)

    def _adopt_model_devices(self) -> None:
        """Poll the BACnet Equip nodes of the model that the scenario does not configure."""
        configured = {d.id for d in self.scenario.devices}
        try:
            equips = self._ask_nodes(ListNodes(node_type="Equip"))
        except (BmsError, pykka.Timeout, pykka.ActorDeadError) as err:
            self.log.warning("cannot list the model's equipment", error=repr(err))
            return
        for equip in equips or ():
            if equip.id in configured or not self._mine(equip):
                continue
            try:
                points = self._ask_nodes(ListNodes(under=equip.id, node_type="Point")) or []
                self._add(target_from_nodes(equip, points, network_of(self.scenario, self.network_name)))
            except (BmsError, pykka.Timeout, pykka.ActorDeadError) as err:
                self.log.error("accepted device not polled", device=equip.id, error=str(err))

    # ------------------------------------------------------------ handlers
    @handles(Tick)
    def on_tick(self, tick: Tick) -> None:
        if self.io is None or self.poller is None:
            return
        if tick.timer == _POLL:
            self.io.call(self.poller.tick, tick.due)  # due: the schedule's time, not when the tick is handled
        elif tick.timer == _MONITOR:
            self.io.call(self.poller.monitor)

    @handles(DeviceWrite)
    def on_write(self, msg: DeviceWrite) -> None:
        """Write on the loop; the poller publishes the WriteResult. A write the loop cannot take is answered here."""
        if self.io is None or self.poller is None:
            why = self._down_reason or "its network is not open"
            self.publish(refused(msg, f"{msg.point_id}: {self.name} cannot write: {why}"))
            return
        try:
            future = self.io.submit(self.poller.write(msg))
        except RuntimeError as err:  # the loop has stopped under us
            self.publish(refused(msg, f"{msg.point_id}: {self.name} cannot write: {err}"))
            return
        self._inflight.add(msg, future)

    def _acks_for_me(self, msg: AcknowledgeDeviceAlarm) -> bool:
        return (msg.device_id or msg.point_id.split("/", 1)[0]) in self._targets

    @handles(AcknowledgeDeviceAlarm)
    def on_acknowledge(self, msg: AcknowledgeDeviceAlarm) -> None:
        """AcknowledgeAlarm on the loop; the poller publishes the DeviceAckResult (or it is refused here)."""
        if self.io is None or self.poller is None:
            self.publish(_ack_refused(msg, f"{self.name} cannot acknowledge: {self._down_reason or 'not open'}"))
            return
        try:
            future = self.io.submit(self.poller.acknowledge(msg))
        except RuntimeError as err:
            self.publish(_ack_refused(msg, f"{self.name} cannot acknowledge: {err}"))
            return
        self._acks = [(m, f) for m, f in self._acks if not f.done()] + [(msg, future)]

    @handles(ReadDevicePriority)
    def on_read_priority(self, msg: ReadDevicePriority) -> DevicePriority | Later:
        """Read on the loop and answer from there: the actor never waits on a device."""
        if self.io is None or self.poller is None:
            return DevicePriority(point_id=msg.point_id)
        try:
            future = self.io.submit(self.poller.device_priority(msg.point_id, msg.timeout))
        except RuntimeError as err:
            raise Unavailable(f"{self.name}: cannot read {msg.point_id}: {err}") from None
        return Later(future, f"the priority read of {msg.point_id}")

    @handles(ReadDeviceSchedules)
    def on_read_schedules(self, msg: ReadDeviceSchedules) -> Later:
        """The device's Schedule and Calendar objects, read on the loop (NotFound: not our device)."""
        return self._on_loop(msg.device_id, "the schedules read", lambda p: p.timetables.read(p.client, msg.device_id))

    @handles(WriteDeviceSchedule)
    def on_write_schedule(self, msg: WriteDeviceSchedule) -> Later:
        """Write a Schedule or Calendar object on the loop and answer the DeviceSchedule read back."""
        what = f"the write of {msg.device_id} {msg.object_id}"
        return self._on_loop(msg.device_id, what, lambda p: p.timetables.write(p.client, msg))

    def _on_loop(self, device_id: str, what: str, work: Callable[[NetworkPoller], Coroutine[Any, Any, Any]]) -> Later:
        if device_id not in self._targets:
            raise NotFound(f"{device_id}: not a device of {self.name}")
        if self.io is None or self.poller is None:
            raise Unavailable(f"{self.name}: {self._down_reason or 'its network is not open'}")
        try:
            future: concurrent.futures.Future[Any] = self.io.submit(work(self.poller))
        except RuntimeError as err:
            raise Unavailable(f"{self.name}: cannot reach {device_id}: {err}") from None
        return Later(future, what)

    @handles(DeviceAccepted)
    def on_accepted(self, msg: DeviceAccepted) -> None:
        """Poll the accepted device: its nodes come with the event (no ask to the model)."""
        if self.io is None or self.poller is None or not self._mine(msg.equip):
            return
        try:
            target = target_from_nodes(msg.equip, msg.points, network_of(self.scenario, self.network_name))
        except BmsError as err:
            self.log.error("accepted device not polled", device=msg.equip_id, error=str(err))
            return
        self.log.info("polling accepted device", device=target.device_id, points=len(target.points))
        self._add(target)
        self.io.call(self.poller.tick)  # its first poll now, not at the next tick

    @handles(DeviceRemoved)
    def on_removed(self, msg: DeviceRemoved) -> None:
        """Stop polling a removed device; its points are no longer written."""
        if msg.equip_id not in self._targets or self.io is None or self.poller is None:
            return
        self.io.call(self.poller.remove, msg.equip_id)
        target = self._targets.pop(msg.equip_id)
        self._writable = self._writable - {p.point_id for p in target.points}
        self._intervals.pop(msg.equip_id, None)
        self._retick()
        self.log.info("device no longer polled", device=msg.equip_id, removed_as=msg.device_id)


def _ack_refused(msg: AcknowledgeDeviceAlarm, reason: str) -> DeviceAckResult:
    what = msg.point_id or f"{msg.device_id} {msg.object_id}"
    return DeviceAckResult(device_id=msg.device_id, object_id=msg.object_id, point_id=msg.point_id, ok=False,
                           request_id=msg.request_id, error=f"{what}: {reason}")
