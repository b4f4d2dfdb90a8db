"""What a BACnet bridge polls: devices and their points, from the scenario or the model.

A :class:`DeviceTarget` is one device of one network (its id, address,
instance, poll interval and points); a :class:`PointTarget` one point
(object, property, COV or not, writable or not). Built from a scenario's
devices and profiles, or from the Equip and Point nodes of an accepted
device. Bad entries are returned as one-line problems naming the culprit;
the rest is polled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from bms.bacnet import parse_object_id, split_property
from bms.config import BacnetBinding, BacnetDevice, BacnetNetwork, Profile, Scenario
from bms.errors import ConfigError
from bms.model import Node


class PointTarget(NamedTuple):
    point_id: str
    objid: str  # canonical "analog-input,1"
    prop: str = "present-value"
    cov: bool = False
    writable: bool = False


class DeviceTarget(NamedTuple):
    device_id: str
    address: str  # "127.0.0.2" or "127.0.0.2:47808"
    instance: int | None
    interval: float
    points: tuple[PointTarget, ...]


def network_of(scenario: Scenario, name: str) -> BacnetNetwork:
    """The named BACnet network; "default" without any configured is the defaults."""
    found = scenario.networks.bacnet.get(name)
    if found is not None:
        return found
    if name == "default" and not scenario.networks.bacnet:
        return BacnetNetwork()
    raise ConfigError(f"networks.bacnet.{name}: no such BACnet network")


def bacnet_networks(scenario: Scenario) -> list[str]:
    """Names of the networks that have enabled BACnet devices, in scenario order."""
    names: list[str] = []
    for device in scenario.devices:
        if device.protocol == "bacnet" and device.enabled and device.network not in names:
            names.append(device.network)
    return names


def _point(point_id: str, binding: BacnetBinding, writable: bool) -> PointTarget:
    try:
        objid = str(parse_object_id(binding.object))
        split_property(binding.property)
    except ConfigError as err:
        raise ConfigError(f"{point_id}: {err}") from None
    return PointTarget(point_id, objid, binding.property, binding.cov, writable and binding.property == "present-value")


def target_from_spec(device: BacnetDevice, profile: Profile | None, network: BacnetNetwork) -> DeviceTarget:
    """The target of a configured device (ConfigError naming the device when it cannot be polled)."""
    where = f"devices.{device.id}"
    if profile is None:
        raise ConfigError(f"{where}.profile: no profile named {device.profile!r}")
    if not device.address:
        raise ConfigError(f"{where}.address: required for a bacnet device")
    points: list[PointTarget] = []
    for spec in profile.points:
        if spec.bacnet is None:
            raise ConfigError(f"{where}: profile {profile.name!r} point {spec.key!r} has no bacnet binding")
        points.append(_point(f"{device.id}/{spec.key}", spec.bacnet, spec.writable))
    return DeviceTarget(device.id, device.address, device.device_instance,
                        device.poll_interval or network.poll_interval, tuple(points))


def targets_from_scenario(
    scenario: Scenario, profiles: Mapping[str, Profile], network_name: str
) -> tuple[list[DeviceTarget], list[str]]:
    """The enabled BACnet devices of one network, and the problems of those left out."""
    network = network_of(scenario, network_name)
    targets: list[DeviceTarget] = []
    problems: list[str] = []
    for device in scenario.devices:
        if not isinstance(device, BacnetDevice) or not device.enabled or device.network != network_name:
            continue
        try:
            targets.append(target_from_spec(device, profiles.get(device.profile), network))
        except ConfigError as err:
            problems.append(str(err))
    return targets, problems


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def target_from_nodes(equip: Node, points: Iterable[Node], network: BacnetNetwork) -> DeviceTarget:
    """The target of an accepted device: its Equip node and its Point nodes."""
    props = equip.properties
    address = props.get("address")
    if not isinstance(address, str) or not address:
        raise ConfigError(f"node {equip.id!r}: properties.address: required for a bacnet device")
    instance = props.get("device_instance")
    if instance is not None and not isinstance(instance, int):
        raise ConfigError(f"node {equip.id!r}: properties.device_instance: {instance!r} is not a number")
    found: list[PointTarget] = []
    for node in points:
        binding = node.binding
        if binding is None or binding.protocol != "bacnet" or binding.bacnet is None:
            continue
        found.append(_point(node.id, binding.bacnet, node.capabilities.writable))
    interval = _number(props.get("poll_interval")) or network.poll_interval
    return DeviceTarget(equip.id, address, instance, interval, tuple(found))
