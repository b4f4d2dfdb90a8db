"""One polled device of a Modbus bridge: session, plan, interval, liveness.

Its liveness is a :class:`~bms.devices.DeviceLiveness` (the state machine
both bridges share). :func:`build_device` turns a scenario's
(ModbusDevice, Profile) pair into a :class:`PolledDevice`, or raises a
ConfigError naming the device when its configuration cannot be polled;
:func:`device_from_nodes` makes that pair of an accepted device's Equip and
Point nodes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import msgspec

from bms.config import ModbusDevice, ModbusNetwork, PointSpec, Profile
from bms.devices import DeviceLiveness
from bms.errors import ConfigError
from bms.messages import Readings, Sample
from bms.modbus import BlockPlan, ModbusConnection, ModbusDeviceSession, SerialLink, TcpLink, plan_reads
from bms.model import Node, point_spec

DEFAULT_POLL_INTERVAL = 5.0
"""Seconds between polls when neither the device nor its network names a ``poll_interval``."""
DOWN_AFTER = 3
"""Consecutive failed polls before a device is reported down."""
BACKOFF_INITIAL = 1.0
"""Seconds before the first retry of a device that has just gone down (doubling after each failure)."""
BACKOFF_MAX = 60.0


class PollDone(msgspec.Struct, frozen=True):
    """Loop thread -> bridge actor: one poll finished (``error`` empty: the device answered)."""

    generation: int
    device_id: str
    samples: tuple[Sample, ...] = ()
    error: str = ""
    readings: tuple[Readings, ...] = ()


class WriteDone(msgspec.Struct, frozen=True):
    """Loop thread -> bridge actor: a device took a write (it answers, whatever its backoff says)."""

    generation: int
    device_id: str


@dataclass
class PolledDevice:
    """What the bridge keeps per device; lives in the actor's thread only."""

    spec: ModbusDevice
    session: ModbusDeviceSession
    plan: BlockPlan
    interval: float
    points: dict[str, PointSpec]  # point id -> spec (its ``modbus`` binding set)
    liveness: DeviceLiveness
    busy: bool = False
    skipped: int = 0
    polls: int = 0
    serial_port: str | None = None

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def timer(self) -> str:
        return f"poll:{self.spec.id}"

    def fault_samples(self, reason: str, ts: float) -> tuple[Sample, ...]:
        return tuple(Sample(pid, None, ts, fault=reason) for pid in self.plan.point_ids)

    def explain(self, error: str) -> str:
        """A failure reason, with the missing serial port named when that is the cause."""
        if self.serial_port is not None and not os.path.exists(self.serial_port):
            return f"{error} (serial port {self.serial_port} does not exist)"
        return error


def line_timeout(network: ModbusNetwork, devices: Iterable[ModbusDevice]) -> float:
    """The timeout of a shared serial line: the longest of its devices' (each device's own, or the network's).

    pymodbus times each request on the line with it; a device with a shorter
    timeout times its own requests (see :class:`~bms.modbus.ModbusDeviceSession`).
    """
    return max((d.timeout if d.timeout is not None else network.timeout for d in devices), default=network.timeout)


def link_of(network_name: str, network: ModbusNetwork, spec: ModbusDevice) -> TcpLink | SerialLink:
    """The device's TCP endpoint, or its network's serial line."""
    if network.kind == "rtu":
        if not network.serial_port:
            raise ConfigError(f"modbus network {network_name!r}: kind 'rtu' needs serial_port (device {spec.id})")
        return SerialLink(network.serial_port, network.baudrate, network.parity, network.stopbits)
    if not spec.host:
        raise ConfigError(f"device {spec.id}: a Modbus TCP device needs a host")
    if not 0 < spec.port <= 65535:
        raise ConfigError(f"device {spec.id}: port must be 1..65535, got {spec.port}")
    return TcpLink(spec.host, spec.port)


def build_device(
    spec: ModbusDevice,
    profile: Profile,
    network_name: str,
    network: ModbusNetwork,
    bus: ModbusConnection | None,
    now: Callable[[], float],
    liveness: DeviceLiveness,
) -> PolledDevice:
    """A device ready to poll; ConfigError naming the device if it cannot be.

    ``bus`` is the shared serial line of an RTU network (None for TCP: each
    TCP device has its own connection, so a dead one never holds up another).
    """
    timeout = spec.timeout if spec.timeout is not None else network.timeout
    retries = spec.retries if spec.retries is not None else network.retries
    interval = spec.poll_interval if spec.poll_interval is not None else network.poll_interval
    if interval <= 0:
        raise ConfigError(f"device {spec.id}: poll_interval must be > 0, got {interval:g}")
    points = {f"{spec.id}/{p.key}": p for p in profile.points if p.modbus is not None}
    try:
        plan = plan_reads(((pid, p.modbus) for pid, p in points.items() if p.modbus is not None),
                          max_registers=spec.max_registers, max_bits=spec.max_bits, max_gap=spec.max_gap)
        link: TcpLink | SerialLink | ModbusConnection = bus if bus is not None else link_of(network_name, network, spec)
        session = ModbusDeviceSession(link, spec.unit_id, device_order=spec.order, timeout=timeout, retries=retries,
                                      now=now, name=f"{spec.id} ({link if bus is None else bus.link} unit {spec.unit_id})")
    except ValueError as err:
        raise ConfigError(f"device {spec.id}: {err}") from err
    serial = network.serial_port if network.kind == "rtu" else None
    return PolledDevice(spec, session, plan, interval, points, liveness, serial_port=serial)


def device_from_nodes(equip: Node, points: Iterable[Node]) -> tuple[ModbusDevice, Profile]:
    """The (device, profile) of an accepted Modbus device: its Equip node and its Point nodes."""
    props = equip.properties
    host, port, unit = props.get("host"), props.get("port", 502), props.get("unit_id", 1)
    if not isinstance(host, str) or not host:
        raise ConfigError(f"node {equip.id!r}: properties.host: required for a Modbus TCP device")
    if not isinstance(port, int) or not isinstance(unit, int):
        raise ConfigError(f"node {equip.id!r}: properties.port and unit_id must be numbers")
    interval = props.get("poll_interval")
    try:
        spec = ModbusDevice(id=equip.id, name=equip.name, profile=str(props.get("profile", "")),
                            network=str(props.get("network") or "default"), host=host, port=port, unit_id=unit,
                            poll_interval=float(interval) if isinstance(interval, (int, float)) else None)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"node {equip.id!r}: {err}") from None
    specs = [point_spec(p) for p in points if p.binding is not None and p.binding.modbus is not None]
    return spec, Profile(name=spec.profile or equip.id, protocol="modbus", points=specs)
