"""Commands to the model store that carry nodes (kept beside Node, not in bms.messages,
so that the messages module does not pull in the model and SQLAlchemy)."""

from __future__ import annotations

import msgspec

from bms.model._node import Node


class UpsertNodes(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Create or replace nodes (parents first) in one transaction; the reply is a list of ``Upserted``."""

    nodes: tuple[Node, ...]
