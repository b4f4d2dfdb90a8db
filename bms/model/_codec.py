"""A Node to the rows of nodes.db and back; values are stored as JSON."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import msgspec

from bms.config import BacnetBinding, ModbusBinding, VirtualBinding
from bms.model import _tables as t
from bms.model._node import Binding, Capabilities, Node, TagValue

_encode = msgspec.json.encode
_tag_value = msgspec.json.Decoder(TagValue)
_any = msgspec.json.Decoder()
_configs: dict[str, msgspec.json.Decoder[Any]] = {
    "bacnet": msgspec.json.Decoder(BacnetBinding),
    "modbus": msgspec.json.Decoder(ModbusBinding),
    "virtual": msgspec.json.Decoder(VirtualBinding),
}


def node_rows(node: Node) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of ``node`` in each part table, in :data:`COLUMNS` order (the ``nodes`` row is the caller's)."""
    i = node.id
    caps = node.capabilities
    rows: dict[str, list[tuple[Any, ...]]] = {
        "tags": [(i, m, None) for m in node.tags] + [(i, k, _encode(v).decode()) for k, v in node.tag_values.items()],
        "refs": [(i, k, v) for k, v in node.refs.items()],
        "properties": [(i, k, _encode(v).decode()) for k, v in node.properties.items()],
        "capabilities": [(i, caps.readable, caps.writable, caps.historizable, caps.alarmable, caps.schedulable)],
        "bindings": [],
    }
    b = node.binding
    if b is not None:
        rows["bindings"].append((i, b.protocol, b.device, _encode(b.config).decode()))
    return rows


COLUMNS: dict[str, tuple[str, ...]] = {table.name: tuple(c.name for c in table.columns) for table in t.PARTS}
"""The column order of each part table's rows."""


def node_from_rows(
    rows: Iterable[Sequence[Any]], parts: Mapping[str, Iterable[Sequence[Any]]]
) -> list[tuple[Node, int]]:
    """Rebuild nodes (with their ``seq``) from ``nodes`` rows and the part tables' rows.

    ``rows`` and every part must come in the same order of node id (the
    tables' clustered keys), so they are merged in one pass. Equal parts are
    decoded once and shared between nodes (the tags, refs and properties of
    the points of one profile repeat on every device): a large model loads
    faster and takes a fraction of the memory.
    """
    pool = _Pool()
    text = pool.text
    streams = {name: _by_node(parts[name]) for name in COLUMNS}
    heads: dict[str, tuple[str, _Rows] | None] = {name: next(stream, None) for name, stream in streams.items()}

    def take(part: str, node_id: str) -> _Rows:
        head = heads[part]
        if head is None or head[0] != node_id:
            return ()
        heads[part] = next(streams[part], None)
        return head[1]

    found: list[tuple[Node, int]] = []
    for node_id, node_type, name, parent, seq in rows:
        markers, values = pool.share("tags", tuple((text(n), v) for n, v in take("tags", node_id)), _tags)
        caps = take("capabilities", node_id)
        bound = take("bindings", node_id)
        node = Node(
            id=node_id, type=node_type, name=text(name), parent=None if parent is None else text(parent),
            tags=markers, tag_values=values,
            refs=pool.share("refs", tuple((text(n), text(v)) for n, v in take("refs", node_id)), dict),
            properties=pool.share("props", take("properties", node_id), _properties),
            capabilities=pool.share("caps", tuple(bool(f) for f in caps[0]) if caps else (), _capabilities),
            binding=_binding(node_id, bound[0], pool) if bound else None,
        )
        found.append((node, int(seq)))
    leftover = [head[0] for head in heads.values() if head is not None]
    if leftover:
        raise msgspec.ValidationError(f"parts of an unknown node {leftover[0]!r}")
    return found


def _by_node(rows: Iterable[Sequence[Any]]) -> Iterator[tuple[str, _Rows]]:
    for node_id, group in itertools.groupby(rows, key=operator.itemgetter(0)):
        yield node_id, tuple(tuple(row[1:]) for row in group)


_Rows = tuple[Any, ...]  # rows of one part, or one row


class _Pool:
    """One object for equal strings and for parts decoded from equal rows."""

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}
        self._parts: dict[tuple[str, _Rows], Any] = {}

    def text(self, value: str) -> str:
        return self._texts.setdefault(value, value)

    def share(self, kind: str, rows: _Rows, make: Callable[[_Rows], Any]) -> Any:
        key = (kind, rows)
        found = self._parts.get(key)
        if found is None:
            found = self._parts[key] = make(rows)
        return found


def _tags(rows: _Rows) -> tuple[tuple[str, ...], dict[str, TagValue]]:
    markers = tuple(name for name, value in rows if value is None)
    return markers, {name: _tag_value.decode(value) for name, value in rows if value is not None}


def _properties(rows: _Rows) -> dict[str, Any]:
    return {name: _any.decode(value) for name, value in rows}


def _capabilities(flags: _Rows) -> Capabilities:
    if not flags:
        return Capabilities()
    return Capabilities(**dict(zip(Capabilities.__struct_fields__, flags, strict=True)))


def _binding(node_id: str, row: tuple[Any, ...], pool: _Pool) -> Binding:
    protocol, device, config = row
    device = pool.text(device)
    decoder = _configs.get(protocol)
    if decoder is None:
        raise msgspec.ValidationError(f"node {node_id!r}: unknown protocol {protocol!r}")
    return Binding.of(protocol, device, pool.share(protocol, (config,), lambda rows: decoder.decode(rows[0])))
