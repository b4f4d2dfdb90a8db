"""A point node back into the :class:`~bms.config.PointSpec` the runtime works from.

The building model is the one source of truth for what points exist: the
point store, the history store and the bridges read their point settings
(kind, COV increment, staleness, history, guard, command priority, binding)
from the Point nodes, whether a node came from a scenario profile or from a
device accepted during commissioning. :func:`point_spec` is the inverse of
the point part of :func:`~bms.model.build_nodes`; :class:`SharedSpecs` reads
many nodes and gives nodes with equal settings one spec (the points of one
profile on 200 devices hold 500 specs, not 100,000).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import msgspec

from bms.config import GuardSpec, HistorySpec, PointSpec
from bms.config._alarms import AlarmSpec
from bms.errors import ConfigError
from bms.model._node import Node

POINT_TYPES = ("Point", "VirtualPoint")


def is_point(node: Node) -> bool:
    return node.type in POINT_TYPES


def point_spec(node: Node) -> PointSpec:
    """The spec of a Point or VirtualPoint node; :class:`ConfigError` naming the node if it cannot be read."""
    if not is_point(node):
        raise ConfigError(f"node {node.id!r}: a {node.type} is not a point")
    props: dict[str, Any] = node.properties
    binding = node.binding
    try:
        fields: dict[str, Any] = {
            "key": props.get("key") or node.id.rsplit("/", 1)[-1],
            "name": node.name,
            "kind": props.get("kind", "number"),
            "unit": str(node.tag_values.get("unit", "")),
            "writable": node.capabilities.writable,
            "cov_increment": float(props.get("cov_increment", 0.0)),
            "stale_after": props.get("stale_after"),
            "tags": list(node.tags),
            "states": list(props.get("states", ())),
            "history": msgspec.convert(props.get("history", {}), HistorySpec),
            "guard": msgspec.convert(props["guard"], GuardSpec) if props.get("guard") else None,
            "relinquish_default": props.get("relinquish_default"),
            "command_priority": int(props.get("command_priority", 8)),
            "alarms": msgspec.convert(props.get("alarms", []), list[AlarmSpec]),
        }
        if binding is not None:
            fields[binding.protocol] = binding.config
        return msgspec.convert(fields, PointSpec, from_attributes=True)
    except (msgspec.ValidationError, TypeError, ValueError) as err:
        raise ConfigError(f"node {node.id!r}: its point settings cannot be read: {err}") from err


class SharedSpecs:
    """:func:`point_spec` for many nodes, one spec object for the nodes whose settings are equal.

    A spec depends on the node's properties, name, markers, unit, writability
    and binding config, not on its device: the same point of a profile on
    every device gives one spec. Keep the instance for one pass over a model.
    """

    def __init__(self) -> None:
        self._props: dict[int, tuple[dict[str, Any], bytes]] = {}  # id -> (the dict, kept alive; its JSON)
        self._specs: dict[Hashable, PointSpec] = {}

    def of(self, node: Node) -> PointSpec:
        """The node's spec (shared with equal ones); :class:`ConfigError` as :func:`point_spec`."""
        key = self._key(node)
        if key is None:
            return point_spec(node)
        spec = self._specs.get(key)
        if spec is None:
            spec = self._specs[key] = point_spec(node)
        return spec

    def _key(self, node: Node) -> Hashable | None:
        props = node.properties
        seen = self._props.get(id(props))
        if seen is None:  # nodes of one profile point share their properties dict: encoded once
            seen = self._props[id(props)] = (props, msgspec.json.encode(props))
        binding = node.binding
        key = (seen[1], props.get("key") or node.id.rsplit("/", 1)[-1], node.name, node.tags,
               node.tag_values.get("unit", ""), node.capabilities.writable,
               None if binding is None else (binding.protocol, binding.config))
        try:
            hash(key)
        except TypeError:  # a binding config that cannot be hashed: no sharing for it
            return None
        return key


def device_of(node: Node) -> str:
    """The device a point belongs to (its binding's), else the part of its id before '/'."""
    if node.binding is not None:
        return node.binding.device
    return node.id.split("/", 1)[0]
