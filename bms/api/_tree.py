"""The node hierarchy, nested from the flat list the node store answers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from bms.api._wire import NodeTree

if TYPE_CHECKING:  # bms.model brings SQLAlchemy, which the client need not load
    from bms.model import Node


def build_tree(nodes: Iterable[Node], root: str | None = None) -> list[NodeTree]:
    """Nest ``nodes`` by parent.

    With ``root``, the one tree under that node (which must be in ``nodes``);
    without, one tree per node whose parent is absent (the sites). Siblings
    keep the order they came in.
    """
    rows: dict[str, Node] = {}
    for node in nodes:
        rows.setdefault(node.id, node)
    children: dict[str | None, list[str]] = {}
    for node_id, node in rows.items():
        parent_id = node.parent if node.parent in rows else None
        if node_id != root:
            children.setdefault(parent_id, []).append(node_id)

    def nest(node_id: str, seen: frozenset[str]) -> NodeTree:
        node = rows[node_id]
        below = [nest(c, seen | {c}) for c in children.get(node_id, []) if c not in seen]
        return NodeTree(id=node_id, type=node.type, name=node.name, children=tuple(below))

    if root is not None:
        return [nest(root, frozenset({root}))] if root in rows else []
    return [nest(t, frozenset({t})) for t in children.get(None, [])]
