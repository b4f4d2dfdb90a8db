"""``nodes``: the building model's store, the only writer of ``nodes.db``."""

from __future__ import annotations

from actors.components import lazy, lazy_exports
from bms.components import Component

COMPONENT = Component(
    name="nodes",
    children=lazy("actors.components.nodes._store", "nodes_component"),
    description="the building model (sites, spaces, equipment, points) in nodes.db",
)

__getattr__ = lazy_exports(__name__, {"ModelStore": "._store", "nodes_component": "._store"})
__all__ = ["COMPONENT", "ModelStore", "nodes_component"]
