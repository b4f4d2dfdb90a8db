"""``nodes``: the building model's store, the only writer of ``nodes.db``."""

from __future__ import annotations

from typing import Any

from actors.components import lazy_exports
from bms.components import Component


def _children(platform: Any) -> list[Any]:
    from actors.components.nodes._store import nodes_component

    return nodes_component(platform)


COMPONENT = Component(
    name="nodes",
    children=_children,
    description="the building model (sites, spaces, equipment, points) in nodes.db",
)

__getattr__ = lazy_exports(__name__, {"ModelStore": "._store", "nodes_component": "._store"})
__all__ = ["COMPONENT", "ModelStore", "nodes_component"]
