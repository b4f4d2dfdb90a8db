"""The building model's one record: :class:`Node`.

Tags follow Project Haystack: *markers* (``site``, ``equip``, ``ahu``,
``temp``, ``sensor``...) are names without a value and live in ``tags`` as a
sorted tuple; *value tags* (``unit``, ``tz``, ``area``...) live in
``tag_values``. References to other nodes (``siteRef``, ``spaceRef``,
``equipRef``) are in ``refs``; ``properties`` carries what bms itself needs
about a node that is not a Haystack tag (a point's kind, COV increment,
guard...). A point's protocol binding is validated per protocol when the
node is built or decoded: a bad one is a :class:`~bms.errors.ConfigError`
naming the node.
"""

from __future__ import annotations

import re
from typing import Any, Literal, Union

import msgspec

from bms.config import BacnetBinding, ModbusBinding, VirtualBinding
from bms.errors import ConfigError

NodeType = Literal["Site", "Space", "Equip", "Point", "VirtualPoint"]
NODE_TYPES: tuple[str, ...] = ("Site", "Space", "Equip", "Point", "VirtualPoint")
Protocol = Literal["bacnet", "modbus", "virtual"]
TagValue = Union[str, int, float, bool]
"""The value of a value tag (a marker has none)."""
_TAG_NAME = re.compile(r"[\w-]+")
_CONFIGS: dict[str, type[BacnetBinding | ModbusBinding | VirtualBinding]] = {
    "bacnet": BacnetBinding, "modbus": ModbusBinding, "virtual": VirtualBinding,
}


class _Record(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class Capabilities(_Record, frozen=True):
    """What the platform may do with a node."""

    readable: bool = False
    writable: bool = False
    historizable: bool = False
    alarmable: bool = False
    schedulable: bool = False

    def names(self) -> tuple[str, ...]:
        """The capabilities that are on."""
        return tuple(f for f in self.__struct_fields__ if getattr(self, f))


class Binding(_Record, frozen=True):
    """Where a point lives: its device and the protocol's address of it.

    Exactly the field named by ``protocol`` is set (``modbus`` for "modbus").
    """

    protocol: Protocol
    device: str
    bacnet: BacnetBinding | None = None
    modbus: ModbusBinding | None = None
    virtual: VirtualBinding | None = None

    @classmethod
    def of(cls, protocol: str, device: str, config: BacnetBinding | ModbusBinding | VirtualBinding) -> Binding:
        """The binding of ``device`` through ``config``, in the field ``protocol`` names."""
        fields: dict[str, Any] = {protocol: config}
        return cls(protocol=protocol, device=device, **fields)  # type: ignore[arg-type]

    @property
    def config(self) -> BacnetBinding | ModbusBinding | VirtualBinding | None:
        """The protocol's binding config."""
        found: BacnetBinding | ModbusBinding | VirtualBinding | None = getattr(self, self.protocol)
        return found

    def problem(self) -> str:
        """Why this binding is inconsistent, or ""."""
        if self.protocol not in ("bacnet", "modbus", "virtual"):
            return f"binding.protocol: {self.protocol!r} is not bacnet, modbus or virtual"
        if not self.device:
            return "binding.device: must not be empty"
        config = self.config
        if config is None:
            return f"binding: protocol {self.protocol!r} needs its '{self.protocol}' config"
        if not isinstance(config, _CONFIGS[self.protocol]):
            return f"binding.{self.protocol}: a {type(config).__name__} is not a {_CONFIGS[self.protocol].__name__}"
        extra = [p for p in ("bacnet", "modbus", "virtual") if p != self.protocol and getattr(self, p) is not None]
        if extra:
            return f"binding: protocol {self.protocol!r} cannot carry a '{extra[0]}' config"
        return ""


class Node(_Record, frozen=True):
    """A site, space, equipment or point of the building model.

    ``tags`` are marker names (the store keeps them sorted and unique);
    ``tag_values`` are value tags; ``binding`` is for points only. A node is
    immutable, its dicts included: the store and :func:`build_nodes` share
    equal dicts between nodes, so change a node with
    ``msgspec.structs.replace`` and new dicts, never in place.
    """

    id: str
    type: NodeType
    name: str
    parent: str | None = None
    tags: tuple[str, ...] = ()
    tag_values: dict[str, TagValue] = {}
    refs: dict[str, str] = {}
    properties: dict[str, Any] = {}
    capabilities: Capabilities = Capabilities()
    binding: Binding | None = None

    def __post_init__(self) -> None:
        problem = self.problem()
        if problem:
            raise ConfigError(f"node {self.id!r}: {problem}")

    def problem(self) -> str:
        """Why this node is inconsistent, or ""."""
        if not self.id:
            return "id: must not be empty"
        if self.type not in NODE_TYPES:
            return f"type: {self.type!r} is not one of {', '.join(NODE_TYPES)}"
        if self.parent == self.id:
            return "parent: a node cannot be its own parent"
        if self.type == "Site" and self.parent is not None:
            return "parent: a Site has no parent"
        if self.type != "Site" and self.parent is None:
            return f"parent: every {self.type} node needs a parent"
        bad = [t for t in (*self.tags, *self.tag_values) if not _TAG_NAME.fullmatch(t)]
        if bad:
            return f"tags: {bad[0]!r} is not a tag name (letters, digits, _ and -)"
        both = [t for t in self.tags if t in self.tag_values]
        if both:
            return f"tags: {both[0]!r} is both a marker and a value tag"
        if self.binding is not None:
            if self.type not in ("Point", "VirtualPoint"):
                return f"binding: only points have a protocol binding ({self.type} nodes do not)"
            problem = self.binding.problem()
            if problem:
                return problem
            if self.type == "VirtualPoint" and self.binding.protocol != "virtual":
                return f"binding: a VirtualPoint cannot be bound to {self.binding.protocol}"
        return ""

    def has(self, *tags: str) -> bool:
        """Whether the node carries every tag (marker or value tag)."""
        return all(t in self.tags or t in self.tag_values for t in tags)


def normalised(node: Node) -> Node:
    """``node`` with its markers sorted and unique (as the store keeps them)."""
    tags = tuple(sorted(set(node.tags)))
    return node if tags == node.tags else msgspec.structs.replace(node, tags=tags)
