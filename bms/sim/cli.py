"""What a scenario's simulators serve, and the ``bms-sim`` console script.

:func:`modbus_servers` groups a scenario's enabled Modbus TCP devices into
one :class:`ModbusServer` per (host, port), with their profiles by unit id;
:func:`bacnet_devices` lists its BACnet devices per device port. Both return
the devices they cannot simulate as one-line notes instead of failing.
Used by ``bms sim`` / ``bms-sim`` and by the daemon's simulator components.

``bms-sim modbus|bacnet ...`` runs the same commands as ``bms sim``.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

from bms.config import BacnetDevice as ConfiguredBacnet
from bms.config import LoadedScenario, ModbusDevice, Profile
from bms.config._schema import ByteOrder
from bms.ports import Endpoint, holder_of


@dataclass(frozen=True)
class ModbusServer:
    """One simulated Modbus TCP server: its address and units."""

    host: str
    port: int
    units: Mapping[int, Profile] = field(default_factory=dict)
    orders: Mapping[int, ByteOrder] = field(default_factory=dict)
    devices: Mapping[int, str] = field(default_factory=dict)  # unit id -> device id

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def modbus_servers(site: LoadedScenario, host: str | None = None,
                   port: int | None = None) -> tuple[list[ModbusServer], list[str]]:
    """One server per (host, port) of the enabled Modbus TCP devices; notes on the devices left out.

    ``host`` / ``port`` move every device to that address (units must then differ).
    """
    sc = site.scenario
    groups: dict[tuple[str, int], tuple[dict[int, Profile], dict[int, ByteOrder], dict[int, str]]] = {}
    notes: list[str] = []
    for dev in sc.devices:
        if not isinstance(dev, ModbusDevice) or not dev.enabled or dev.profile not in site.profiles:
            continue
        network = sc.networks.modbus.get(dev.network)
        if (network is not None and network.kind == "rtu") or (dev.host is None and host is None):
            notes.append(f"{dev.id}: RTU device, not simulated (the simulator serves Modbus TCP)")
            continue
        if not 1 <= dev.unit_id <= 247:
            notes.append(f"{dev.id}: unit id {dev.unit_id} cannot be simulated (1..247)")
            continue
        address = (host or dev.host or "127.0.0.1", dev.port if port is None else port)
        units, orders, devices = groups.setdefault(address, ({}, {}, {}))
        if dev.unit_id in units:
            notes.append(f"{dev.id}: unit {dev.unit_id} on {address[0]}:{address[1]} is already "
                         f"{devices[dev.unit_id]}; not simulated")
            continue
        units[dev.unit_id] = site.profiles[dev.profile]
        orders[dev.unit_id] = dev.order
        devices[dev.unit_id] = dev.id
    return [ModbusServer(h, p, *groups[h, p]) for h, p in sorted(groups)], notes


def bind_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on (``address already in use by bms sim modbus pid 12``), or None."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as err:
        reason = (err.strerror or str(err)).lower()
        if err.errno == errno.EADDRINUSE:
            reason += f" by {holder_of(Endpoint(host, port, 'tcp')) or 'another process'}"
        return reason
    return None


@dataclass(frozen=True)
class BacnetDevice:
    """One simulated BACnet device: instance, loopback address, profile."""

    device_id: str
    instance: int
    address: str
    profile: Profile


def bacnet_devices(site: LoadedScenario) -> tuple[dict[int, list[BacnetDevice]], list[str]]:
    """The enabled BACnet devices by device port; notes on the devices left out."""
    sc = site.scenario
    by_port: dict[int, list[BacnetDevice]] = {}
    notes: list[str] = []
    seen: dict[str, str] = {}
    for dev in sc.devices:
        if not isinstance(dev, ConfiguredBacnet) or not dev.enabled or dev.profile not in site.profiles:
            continue
        if dev.device_instance is None or not dev.address:
            notes.append(f"{dev.id}: needs address and device_instance to be simulated")
            continue
        network = sc.networks.bacnet.get(dev.network)
        device_port = network.device_port if network is not None else 47808
        address = dev.address
        if ":" in address:
            address, _, given = address.rpartition(":")
            if given.isdigit():
                device_port = int(given)
        if address in seen:
            notes.append(f"{dev.id}: address {address} is already {seen[address]}; not simulated")
            continue
        seen[address] = dev.id
        by_port.setdefault(device_port, []).append(
            BacnetDevice(dev.id, dev.device_instance, address, site.profiles[dev.profile]))
    return by_port, notes


def main() -> None:
    """The ``bms-sim`` console script."""
    from bms.cli._sim import standalone

    standalone(prog_name="bms-sim")


__all__ = ["BacnetDevice", "ModbusServer", "bacnet_devices", "bind_problem", "main", "modbus_servers"]
