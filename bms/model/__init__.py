"""The building model: sites, spaces, equipment and points with Haystack-style tags.

* :class:`Node` -- one element of the model: hierarchy, markers and value
  tags, refs, properties, capabilities and (points) a protocol
  :class:`Binding` validated per protocol.
* :class:`NodeStore` -- nodes.db with an in-memory cache; mutating calls
  return the ``Entity*`` events to publish.
* :func:`suggest_tags` -- markers from a point's name, object type and unit.
* :func:`build_nodes` -- the model of a scenario and its device profiles;
  :func:`point_spec` -- a point node back into the PointSpec the runtime uses
  (:class:`SharedSpecs`: the same for many nodes, equal specs shared).
* :class:`UpsertNodes` -- the command that adds nodes to the running model.

Plain classes and functions, no threads: the model store actor owns a NodeStore.

The store (and SQLAlchemy with it) loads on first use of ``NodeStore``,
``Outcome`` or ``Upserted``: the messages carry nodes, and whoever only
reads or sends messages (the CLI's client) should not pay for a database.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bms.model._build import DISCOVERY, ORIGIN, build_nodes, build_site, retired
from bms.model._messages import DeleteNodes, UpsertNodes
from bms.model._node import NODE_TYPES, Binding, Capabilities, Node, NodeType, TagValue, normalised
from bms.model._spec import POINT_TYPES, SharedSpecs, device_of, is_point, point_spec
from bms.model._tags import suggest_tags

if TYPE_CHECKING:
    from bms.model._store import NodeStore, Outcome, Upserted

_ON_USE = frozenset({"NodeStore", "Outcome", "Upserted"})


def __getattr__(name: str) -> Any:
    if name in _ON_USE:
        return getattr(importlib.import_module("bms.model._store"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DISCOVERY",
    "NODE_TYPES",
    "ORIGIN",
    "POINT_TYPES",
    "Binding",
    "Capabilities",
    "DeleteNodes",
    "Node",
    "NodeStore",
    "NodeType",
    "Outcome",
    "SharedSpecs",
    "TagValue",
    "UpsertNodes",
    "Upserted",
    "build_nodes",
    "build_site",
    "device_of",
    "is_point",
    "normalised",
    "point_spec",
    "retired",
    "suggest_tags",
]
