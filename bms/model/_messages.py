"""Commands to the model store that carry nodes (kept beside the model; the events that carry
nodes, EntityCreated, EntityUpdated and DeviceAccepted, are in :mod:`bms.messages`)."""

from __future__ import annotations

import msgspec

from bms.model._node import Node


class UpsertNodes(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Create or replace nodes (parents first) in one transaction; the reply is a list of ``Upserted``."""

    nodes: tuple[Node, ...]


class DeleteNodes(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Delete ``root`` and every node below it; the reply is the deleted ids, deepest first."""

    root: str
