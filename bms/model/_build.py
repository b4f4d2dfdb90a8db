"""The building model of a scenario: site, spaces, one equip per device, its points.

Ids: the site and spaces keep their configured ids, an equip takes its
device's id, a point is ``{device}/{point key}``. Tags of a point are the
profile's tags, the suggested ones (:func:`suggest_tags` from its name,
object type and unit), ``point``, ``his`` when historized and ``cmd`` when
writable (a writable point is not also a suggested ``sensor``).

The points of one profile share their tag, property and capability objects
across devices (nodes are immutable), which keeps a large site small.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

import msgspec

from bms.config import (
    BacnetDevice,
    DeviceSpec,
    LoadedScenario,
    ModbusDevice,
    PointSpec,
    Profile,
    Scenario,
    VirtualBinding,
)
from bms.errors import ConfigError
from bms.model._node import Binding, Capabilities, Node, TagValue, normalised
from bms.model._tags import suggest_tags

_HAYSTACK_KIND = {"number": "Number", "bool": "Bool", "enum": "Str", "text": "Str"}


def build_nodes(scenario: Scenario, profiles: Mapping[str, Profile]) -> list[Node]:
    """The nodes of ``scenario``, parents before children; :class:`ConfigError` lists every problem."""
    problems: list[str] = []
    site = scenario.site
    site_values: dict[str, TagValue] = {"tz": site.timezone}
    if site.area_m2 is not None:
        site_values["area"] = site.area_m2
    nodes: list[Node] = [Node(id=site.id, type="Site", name=site.name, tags=("site",), tag_values=site_values)]
    spaces = {s.id: s for s in scenario.spaces}
    placed: set[str] = set()
    pending = list(scenario.spaces)
    while pending:
        ready = [s for s in pending if s.parent is None or s.parent in placed]
        if not ready:
            problems += [f"spaces.{s.id}.parent: unknown space or a cycle ({s.parent!r})" for s in pending]
            break
        for space in ready:
            refs = {"siteRef": site.id}
            if space.parent is not None:
                refs["spaceRef"] = space.parent
            _add(nodes, problems, id=space.id, type="Space", name=space.name,
                 parent=space.parent or site.id, tags=("space",), refs=refs)
            placed.add(space.id)
        pending = [s for s in pending if s.id not in placed]
    shapes: dict[tuple[str, str], _Shape] = {}
    for device in scenario.devices:
        if not device.enabled:
            continue
        profile = profiles.get(device.profile)
        if profile is None:
            problems.append(f"devices.{device.id}.profile: no profile named {device.profile!r}")
            continue
        if device.space is not None and device.space not in spaces:
            problems.append(f"devices.{device.id}.space: unknown space {device.space!r}")
            continue
        if profile.protocol != device.protocol:
            problems.append(
                f"devices.{device.id}.protocol: {device.protocol!r} but profile {profile.name!r} is {profile.protocol!r}"
            )
            continue
        _add_device(nodes, problems, scenario, device, profile, shapes)
    seen: set[str] = set()
    for node in nodes:
        if node.id in seen:
            problems.append(f"{node.id}: duplicate node id (sites, spaces, devices and points share one namespace)")
        seen.add(node.id)
    if problems:
        raise ConfigError(f"{len(problems)} problem(s) building the building model: {problems[0]}", problems)
    return nodes


def _add(nodes: list[Node], problems: list[str], **fields: Any) -> None:
    try:
        nodes.append(normalised(Node(**fields)))
    except ConfigError as err:
        problems.append(str(err))


def _add_device(
    nodes: list[Node], problems: list[str], scenario: Scenario, device: DeviceSpec, profile: Profile,
    shapes: dict[tuple[str, str], _Shape],
) -> None:
    site_id = scenario.site.id
    refs = {"siteRef": site_id}
    if device.space is not None:
        refs["spaceRef"] = device.space
    equip_tags = ("equip", *(t for t in re.split(r"[\s,]+", profile.equip) if t))
    _add(nodes, problems, id=device.id, type="Equip", name=device.name or device.id,
         parent=device.space or site_id, tags=equip_tags, refs=refs, properties=_equip_properties(device, profile))
    point_refs = {"equipRef": device.id, **refs}  # one dict for the device's points
    for point in profile.points:
        config = getattr(point, device.protocol)
        if config is None and device.protocol != "virtual":
            problems.append(f"{device.id}/{point.key}: profile {profile.name!r} gives no {device.protocol} binding")
            continue
        key = (profile.name, point.key)
        if key not in shapes:
            shapes[key] = _shape(point, device.protocol)
        _add(nodes, problems, **_point_fields(device, point, config, point_refs, shapes[key]))


def _equip_properties(device: DeviceSpec, profile: Profile) -> dict[str, Any]:
    props: dict[str, Any] = {"protocol": device.protocol, "profile": profile.name, "network": device.network}
    for key in ("vendor", "model", "description"):
        if getattr(profile, key):
            props[key] = getattr(profile, key)
    if isinstance(device, BacnetDevice):
        props.update(address=device.address, device_instance=device.device_instance)
    elif isinstance(device, ModbusDevice):
        props.update(host=device.host, port=device.port, unit_id=device.unit_id)
    return {k: v for k, v in props.items() if v is not None}


class _Shape(NamedTuple):
    """What a profile point gives every device using it (shared, not copied)."""

    tags: tuple[str, ...]
    tag_values: dict[str, TagValue]
    properties: dict[str, Any]
    capabilities: Capabilities


def _shape(point: PointSpec, protocol: str) -> _Shape:
    if protocol == "bacnet":
        object_type: str | None = point.bacnet.object if point.bacnet else None
    elif protocol == "modbus":
        object_type = point.modbus.table if point.modbus else None
    else:
        object_type = None
    historized = point.history.cov or point.history.interval is not None
    suggested = suggest_tags(point.name, object_type, point.unit)
    if point.writable:
        suggested.discard("sensor")
    tags = {*point.tags, *suggested, "point"}
    if historized:
        tags.add("his")
    if point.writable:
        tags.add("cmd")
    values: dict[str, TagValue] = {"kind": _HAYSTACK_KIND[point.kind]}
    if point.unit:
        values["unit"] = point.unit
    if point.states:
        values["enum"] = ",".join(point.states)
    props: dict[str, Any] = {"key": point.key, "kind": point.kind, "cov_increment": point.cov_increment,
                             "history": msgspec.to_builtins(point.history)}
    if point.stale_after is not None:
        props["stale_after"] = point.stale_after
    if point.states:
        props["states"] = list(point.states)
    if point.writable:
        props.update(relinquish_default=point.relinquish_default, command_priority=point.command_priority)
    if point.guard is not None:
        props["guard"] = msgspec.to_builtins(point.guard)
    if point.alarms:
        props["alarms"] = msgspec.to_builtins(point.alarms)
    capabilities = Capabilities(
        readable=True, writable=point.writable, historizable=historized,
        alarmable=point.kind != "text", schedulable=point.writable,
    )
    return _Shape(tuple(sorted(tags)), values, props, capabilities)


def _point_fields(device: DeviceSpec, point: PointSpec, config: Any, refs: dict[str, str], shape: _Shape) -> dict[str, Any]:
    protocol = device.protocol
    return {
        "id": f"{device.id}/{point.key}",
        "type": "VirtualPoint" if protocol == "virtual" else "Point",
        "name": point.name,
        "parent": device.id,
        "tags": shape.tags,
        "tag_values": shape.tag_values,
        "refs": refs,
        "properties": shape.properties,
        "capabilities": shape.capabilities,
        "binding": Binding.of(protocol, device.id, config if config is not None else VirtualBinding()),
    }


def build_site(loaded: LoadedScenario) -> list[Node]:
    """:func:`build_nodes` of a loaded scenario, each problem prefixed by the scenario's file."""
    try:
        return build_nodes(loaded.scenario, loaded.profiles)
    except ConfigError as err:
        problems = [f"{loaded.path}: {p}" for p in err.problems]
        raise ConfigError(f"{loaded.path}: {len(problems)} problem(s)", problems) from None


ORIGIN, DISCOVERY = "origin", "discovery"
"""The Equip property that marks a device accepted from discovery rather than configured in the scenario."""


def retired(existing: list[Node], built: list[Node]) -> list[str]:
    """Nodes of the model that the scenario no longer has: the roots of the subtrees to delete.

    Equipment accepted from discovery (``properties["origin"] == "discovery"``),
    everything below it and the spaces above it stay.
    """
    by_id = {n.id: n for n in existing}
    keep = {n.id for n in built}
    for node in existing:
        if node.type == "Equip" and node.properties.get(ORIGIN) == DISCOVERY:
            keep.add(node.id)
            parent = node.parent
            while parent is not None and parent not in keep:
                keep.add(parent)
                parent = by_id[parent].parent if parent in by_id else None
    for node in existing:  # points (and anything) below kept equipment
        parent = node.parent
        while parent is not None:
            above = by_id.get(parent)
            if above is not None and above.type == "Equip" and above.properties.get(ORIGIN) == DISCOVERY:
                keep.add(node.id)
                break
            parent = above.parent if above is not None else None
    gone = {n.id for n in existing if n.id not in keep}
    return [i for i in gone if by_id[i].parent not in gone]
