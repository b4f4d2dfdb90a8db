"""The Modbus bridges: one supervised actor per Modbus network of the scenario.

A :class:`ModbusBridge` (component ``modbus.<network>``) polls its devices
on an asyncio loop it owns (:class:`~actors._loop.LoopThread`):

* each device has a :class:`~bms.modbus.ModbusDeviceSession`, a block plan
  made once, and a ticker timer at its ``poll_interval`` (default 5 s);
  a tick polls the device unless it is still busy with the previous poll
  (the tick is skipped, never queued) or backing off after failures;
* a poll publishes one :class:`~bms.messages.SampleBatch` (each block of
  plain numbers as one :class:`~bms.messages.Readings` of columns, the
  rest as Samples); exception replies and malformed replies fault the
  points of their block only;
  a device that does not answer gets a batch of faulted samples; after
  ``down_after`` consecutive failures it is reported with
  :class:`~bms.messages.DeviceDown` and backs off exponentially (2 s ..
  60 s); its first answer (a poll or a write it takes, whatever the
  backoff says) publishes :class:`~bms.messages.DeviceRecovered`. Its
  first answer since the bridge started, and an answer after failed polls,
  publish :class:`~bms.messages.DeviceAnswering` (it may have forgotten its
  commands; the point store re-sends them). Device liveness is :class:`~bms.devices.DeviceLiveness`; the component is
  Degraded while any device is down or disabled by a configuration error,
  and names the devices that have not answered yet;
* a :class:`~bms.messages.DeviceWrite` for one of its points is encoded and
  written (FC5/6/15/16), read back and answered with a
  :class:`~bms.messages.WriteResult`. Modbus has no priority array: a
  relinquish (value None) writes nothing and succeeds. Every write is
  answered: one the loop cannot take, or that a stop cut short, gets a
  failed WriteResult naming why;
* an accepted device (:class:`~bms.messages.DeviceAccepted` of protocol
  modbus, the nodes with it; or on start, an Equip node of the model
  accepted earlier) is polled like a configured one, by the bridge of its
  network (else the first); a :class:`~bms.messages.DeviceRemoved` stops it;
* stopped for good by its supervisor, it publishes
  :class:`~bms.messages.DeviceDown` and a faulted sample for every point
  of its devices at once (nothing polls them any more).

TCP devices each get their own connection (a dead one never holds up
another); the devices of an RTU network share one serial line whose
requests are serialised and which waits as long as its slowest device.
Polls due together start on the loop with one wake-up
(:meth:`~actors._loop.LoopThread.spawn`); their results come back to the actor
as :class:`PollDone` messages, so device state lives in the actor's thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pykka

from actors._base import BmsActor, handles
from actors._context import Context
from actors._inflight import WritesInFlight, refused
from actors._loop import LoopThread
from actors._supervisor import ChildSpec
from actors.components.modbus._device import (
    BACKOFF_INITIAL,
    BACKOFF_MAX,
    DEFAULT_POLL_INTERVAL,
    DOWN_AFTER,
    PollDone,
    PolledDevice,
    WriteDone,
    build_device,
    device_from_nodes,
    line_timeout,
)
from actors.platform import Platform
from bms.bacnet import DiscoveryStore
from bms.config import ModbusDevice, ModbusNetwork, Profile
from bms.devices import DeviceLiveness, LivenessState, liveness_health
from bms.errors import BmsError, ConfigError, ProtocolError
from bms.messages import (
    DeviceAccepted,
    DeviceAnswering,
    DeviceDown,
    DeviceRecovered,
    DeviceRemoved,
    DeviceWrite,
    ListNodes,
    SampleBatch,
    Tick,
    Value,
    WriteResult,
)
from bms.modbus import ModbusConnection, SerialLink
from bms.model import Node

__all__ = ["DEFAULT_POLL_INTERVAL", "ModbusBridge", "PollDone", "modbus_bridges"]

PROTOCOL = "modbus"


def modbus_bridges(platform: Platform) -> list[ChildSpec]:
    """One bridge per Modbus network that has enabled devices (or, for the network they join, accepted units)."""
    scenario, profiles = platform.site.scenario, platform.site.profiles
    by_network: dict[str, list[tuple[ModbusDevice, Profile]]] = {}
    for dev in scenario.devices:
        if isinstance(dev, ModbusDevice) and dev.enabled and dev.profile in profiles:
            by_network.setdefault(dev.network, []).append((dev, profiles[dev.profile]))
    if _accepted_units(platform.data_dir / "discovery.db"):  # polled by the network accepted units join
        networks = scenario.networks.modbus
        joined = next((name for name, n in networks.items() if n.kind == "tcp"), "default")
        by_network.setdefault(joined, [])
    return [
        ChildSpec(f"modbus.{name}", ModbusBridge, kwargs={
            "network": name,
            "spec": scenario.networks.modbus.get(name, ModbusNetwork()),
            "devices": tuple(pairs),
            "bridged": tuple(sorted(by_network)),
            "configured": frozenset(d.id for d in scenario.devices),
        })
        for name, pairs in sorted(by_network.items())
    ]


def _accepted_units(path: Path) -> bool:
    """Whether a probe's unit was accepted into the site (no discovery.db: none)."""
    if not path.exists():
        return False
    try:
        with DiscoveryStore(path) as store:
            return bool(store.units.units(state="Accepted"))
    except BmsError:
        return False


class ModbusBridge(BmsActor):
    """Polls and writes the devices of one Modbus network."""

    def __init__(
        self,
        name: str,
        ctx: Context,
        network: str,
        spec: ModbusNetwork,
        devices: Sequence[tuple[ModbusDevice, Profile]],
        down_after: int = DOWN_AFTER,
        backoff_initial: float = BACKOFF_INITIAL,
        backoff_max: float = BACKOFF_MAX,
        bridged: Sequence[str] = (),
        configured: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(name, ctx)
        self.network = network
        self.bridged = tuple(bridged) or (network,)  # every Modbus network with a bridge
        self.configured = configured  # the scenario's device ids (accepted devices are the others)
        self.spec = spec
        self.device_specs = tuple(devices)
        self.down_after = down_after
        self.backoff = (backoff_initial, backoff_max)
        self.devices: dict[str, PolledDevice] = {}
        self.disabled: dict[str, str] = {}  # device id -> configuration problem
        self._by_timer: dict[str, PolledDevice] = {}
        self._points: dict[str, PolledDevice] = {}
        self._ids: frozenset[str] = frozenset()  # the points whose writes are this bridge's (read by a filter)
        self._unwritable: dict[str, str] = {}  # point id of a disabled device -> why
        self._generation = 0
        self._io: LoopThread | None = None
        self._bus: ModbusConnection | None = None
        self._write_locks: dict[str, asyncio.Lock] = {}  # device id -> lock, used on the loop only
        self._inflight = WritesInFlight()

    # ------------------------------------------------------------ lifecycle

    def setup(self) -> None:
        self._generation += 1
        self._io = LoopThread(f"{self.name}-io").start()
        self._bus = None
        if self.spec.kind == "rtu" and self.spec.serial_port:
            line = SerialLink(self.spec.serial_port, self.spec.baudrate, self.spec.parity, self.spec.stopbits)
            self._bus = ModbusConnection(line, timeout=line_timeout(self.spec, (d for d, _ in self.device_specs)))
        self.devices, self.disabled, self._unwritable = {}, {}, {}
        for dev_spec, profile in self.device_specs:
            try:
                liveness = DeviceLiveness(down_after=self.down_after, backoff=self.backoff[0],
                                          max_backoff=self.backoff[1])
                dev = build_device(dev_spec, profile, self.network, self.spec, self._bus, self.clock.now, liveness)
            except ConfigError as err:
                self.disabled[dev_spec.id] = str(err)
                self.log.error("modbus device disabled", device=dev_spec.id, error=str(err))
                self.publish(DeviceDown(PROTOCOL, dev_spec.id, self.clock.now(), reason=str(err)))
                self._unwritable.update({f"{dev_spec.id}/{p.key}": str(err) for p in profile.points})
                continue
            self.devices[dev.id] = dev
        self._adopt_model_devices()
        self._index()
        self.subscribe(DeviceWrite, filter=lambda m: m.point_id in self._ids)
        self.subscribe(DeviceAccepted, filter=lambda m: m.protocol == PROTOCOL, name=f"{self.name}:accepted")
        self.subscribe(DeviceRemoved, filter=lambda m: m.protocol == PROTOCOL, name=f"{self.name}:removed")
        self._report_health()
        for dev in self.devices.values():
            if len(dev.plan):
                self.ctx.ticker.every(dev.interval, self.actor_ref, dev.timer, first_in=0.0)
        self.log.info("modbus bridge started", network=self.network, kind=self.spec.kind,
                      devices=len(self.devices), disabled=len(self.disabled),
                      requests_per_cycle=sum(len(d.plan) for d in self.devices.values()))

    def _index(self) -> None:
        self._by_timer = {d.timer: d for d in self.devices.values()}
        self._points = {pid: d for d in self.devices.values() for pid in d.points}
        self._ids = frozenset(self._points) | frozenset(self._unwritable)

    # ------------------------------------------------------- accepted devices

    def _mine(self, equip: Node) -> bool:
        if equip.properties.get("protocol") != PROTOCOL or equip.id in self.configured:
            return False
        network = str(equip.properties.get("network") or "default")
        return network == self.network or (network not in self.bridged and self.bridged[0] == self.network)

    def _adopt(self, equip: Node, points: Iterable[Node]) -> PolledDevice | None:
        """Poll an accepted device (from its nodes); None, logged, when it cannot be."""
        try:
            spec, profile = device_from_nodes(equip, points)
            liveness = DeviceLiveness(down_after=self.down_after, backoff=self.backoff[0], max_backoff=self.backoff[1])
            dev = build_device(spec, profile, self.network, self.spec, self._bus, self.clock.now, liveness)
        except ConfigError as err:
            self.log.error("accepted device not polled", device=equip.id, error=str(err))
            return None
        old = self.devices.get(dev.id)
        if old is not None:
            old.session.close()
        self.devices[dev.id] = dev
        return dev

    def _adopt_model_devices(self) -> None:
        """On start: poll the accepted Modbus devices the model holds (the scenario does not name them)."""
        nodes = self.ctx.registry.find("nodes")
        if nodes is None:
            return
        try:
            equips = nodes.ask(ListNodes(node_type="Equip"), block=False).get(timeout=10.0)
            for equip in equips or ():
                if self._mine(equip):
                    self._adopt(equip, nodes.ask(ListNodes(under=equip.id, node_type="Point"),
                                                 block=False).get(timeout=10.0) or [])
        except (BmsError, pykka.Timeout, pykka.ActorDeadError) as err:
            self.log.warning("cannot list the model's equipment", error=repr(err))

    @handles(DeviceAccepted)
    def on_accepted(self, msg: DeviceAccepted) -> None:
        """Poll the accepted device at once: its nodes come with the event."""
        if self._io is None or not self._mine(msg.equip):
            return
        dev = self._adopt(msg.equip, msg.points)
        if dev is None:
            return
        self._index()
        self.log.info("polling accepted device", device=dev.id, points=len(dev.points))
        self._report_health()
        if len(dev.plan):
            self.ctx.ticker.every(dev.interval, self.actor_ref, dev.timer, first_in=0.0)

    @handles(DeviceRemoved)
    def on_removed(self, msg: DeviceRemoved) -> None:
        """Stop polling a removed device and close its connection."""
        dev = self.devices.pop(msg.equip_id, None)
        if dev is None:
            return
        if len(dev.plan):
            self.ctx.ticker.cancel((id(self.actor_ref), dev.timer))
        if self._io is not None:
            self._io.call(dev.session.close)
        self._index()
        self._report_health()
        self.log.info("device no longer polled", device=dev.id, removed_as=msg.device_id)

    def teardown(self) -> None:
        self.ctx.ticker.cancel_actor(self.actor_ref)
        sessions = [d.session for d in self.devices.values()]
        bus = self._bus

        def close_all() -> None:
            for session in sessions:
                session.close()
            if bus is not None:
                bus.close()

        if self._io is not None:
            self._io.stop(close_all)
            self._io = None
        self._write_locks = {}
        for msg in self._inflight.unanswered():  # cut short by the stop: their coroutine said nothing
            self.publish(refused(msg, f"{msg.point_id}: {self.name} stopped before the device answered"))

    def gave_up(self, reason: str) -> None:
        """Stopped for good: every device Down and its points faulted, at once."""
        why, now = f"{self.name} stopped: {reason}", self.clock.now()
        for dev in self.devices.values():
            self.publish(SampleBatch(self.name, dev.fault_samples(why, now)))
            self.publish(DeviceDown(PROTOCOL, dev.id, now, reason=why))

    # ---------------------------------------------------------------- polls

    @handles(Tick)
    def on_tick(self, tick: Tick) -> None:
        dev = self._by_timer.get(tick.timer)
        if dev is None or self._io is None:
            return
        if dev.busy:
            dev.skipped += 1
            self.log.debug("poll skipped: previous poll still running", device=dev.id, skipped=dev.skipped)
            return
        if not dev.liveness.may_poll(self.clock.monotonic()):
            return
        dev.busy = True
        self._io.spawn(self._poll(dev, self._generation))

    async def _poll(self, dev: PolledDevice, generation: int) -> None:
        """On the loop: poll once and tell the actor the outcome."""
        try:
            samples, readings = await dev.session.poll_readings(dev.plan)
            done = PollDone(generation, dev.id, tuple(samples), readings=tuple(readings))
        except ProtocolError as err:
            dev.session.close()  # reconnect on the next attempt (half-open TCP, late replies)
            done = PollDone(generation, dev.id, error=dev.explain(str(err)))
        except Exception as err:  # a library surprise: this device's failure, not the bridge's
            dev.session.close()
            done = PollDone(generation, dev.id, error=f"{dev.id}: unexpected {type(err).__name__}: {err}")
        self._tell(done)

    def _tell(self, msg: Any) -> None:
        try:
            self.actor_ref.tell(msg)
        except Exception:  # the actor is stopping: nothing to report to
            pass

    @handles(PollDone)
    def on_poll_done(self, done: PollDone) -> None:
        dev = self.devices.get(done.device_id)
        if dev is None or done.generation != self._generation:
            return  # from before a restart
        dev.busy = False
        dev.polls += 1
        now = self.clock.now()
        if done.error:
            became_down = dev.liveness.failed(self.clock.monotonic(), done.error)
            self.publish(SampleBatch(self.name, dev.fault_samples(done.error, now)))
            self.log.debug("poll failed", device=dev.id, error=done.error, failures=dev.liveness.failures,
                           backoff=dev.liveness.backoff)
            if became_down:
                self.log.warning("modbus device down", device=dev.id, reason=done.error)
                self.publish(DeviceDown(PROTOCOL, dev.id, now, reason=done.error))
                self._report_health()
            return
        self._answered(dev)
        self.publish(SampleBatch(self.name, done.samples, done.readings))

    @handles(WriteDone)
    def on_write_done(self, done: WriteDone) -> None:
        dev = self.devices.get(done.device_id)
        if dev is not None and done.generation == self._generation:
            self._answered(dev)

    def _answered(self, dev: PolledDevice) -> None:
        """The device answered (a poll or a write): Up at once, whatever its backoff says."""
        first = dev.liveness.state is LivenessState.UNKNOWN
        gap = dev.liveness.failures
        down_for = dev.liveness.answered(self.clock.monotonic())
        if down_for is not None:
            self.log.info("modbus device recovered", device=dev.id, down_for=round(down_for, 3))
            self.publish(DeviceRecovered(PROTOCOL, dev.id, self.clock.now(), down_for=down_for))
        elif first:  # it may have been commanded before the bridge started: the point store re-sends
            self.publish(DeviceAnswering(PROTOCOL, dev.id, self.clock.now(), reason="first answer",
                                         detail="the bridge started or the device was added"))
        elif gap:  # it may have restarted in between (Modbus cannot say): the point store re-sends
            self.publish(DeviceAnswering(PROTOCOL, dev.id, self.clock.now(), reason="after a gap",
                                         detail=f"{gap} failed poll{'s' if gap > 1 else ''} before this answer"))
        if first or down_for is not None:
            self._report_health()

    def _report_health(self) -> None:
        state, reason = liveness_health({d.id: d.liveness for d in self.devices.values()}, list(self.disabled.values()))
        self.ctx.supervisor.report(self.name, state, reason)

    # --------------------------------------------------------------- writes

    @handles(DeviceWrite)
    def on_write(self, msg: DeviceWrite) -> None:
        dev = self._points.get(msg.point_id)
        if dev is None or self._io is None:
            why = self._unwritable.get(msg.point_id, f"{msg.point_id}: the bridge is stopping")
            self.publish(WriteResult(msg.point_id, False, msg.request_id, error=why))
            return
        point = dev.points[msg.point_id]
        if msg.value is None:  # no priority array on Modbus: relinquish = no command
            self.publish(WriteResult(msg.point_id, True, msg.request_id))
            return
        if not point.writable:
            self.publish(WriteResult(msg.point_id, False, msg.request_id, error=f"{msg.point_id} is not writable"))
            return
        try:
            future = self._io.submit(self._write(dev, msg.point_id, msg.value, msg.request_id, self._generation))
        except RuntimeError as err:  # the loop has stopped under us
            self.publish(refused(msg, f"{msg.point_id}: {self.name} cannot write: {err}"))
            return
        self._inflight.add(msg, future)

    async def _write(self, dev: PolledDevice, point_id: str, value: Value, request_id: str, generation: int) -> None:
        """On the loop: write, read back, publish the result. One write per device at a time."""
        lock = self._write_locks.setdefault(dev.id, asyncio.Lock())
        binding = dev.points[point_id].modbus
        assert binding is not None  # the device holds its Modbus points only
        try:
            async with lock:
                readback = await dev.session.write(point_id, binding, value)
        except (BmsError, ValueError) as err:  # EncodeError is a ValueError: the value does not fit
            self.publish(WriteResult(point_id, False, request_id, error=dev.explain(str(err))))
            return
        except Exception as err:
            self.publish(WriteResult(point_id, False, request_id,
                                     error=f"{point_id}: unexpected {type(err).__name__}: {err}"))
            return
        self.log.info("modbus write", point=point_id, value=value, readback=readback)
        self._tell(WriteDone(generation, dev.id))
        self.publish(WriteResult(point_id, True, request_id, readback=readback))
