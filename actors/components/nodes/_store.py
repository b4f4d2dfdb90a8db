"""The model store as a component: ``nodes``, the only writer of ``nodes.db``.

On start it loads the building model and brings it in line with the
scenario (sites, spaces, equipment and points built from the profiles),
publishing ``EntityCreated`` / ``EntityUpdated`` / ``EntityDeleted`` for
what changed. Devices accepted during commissioning (Equip nodes marked
``origin = "discovery"``) stay, with their points and the spaces above them;
any other node the scenario no longer names is deleted.
It answers ``ListNodes`` / ``GetNode`` from its in-memory cache and applies
``UpsertNodes`` and ``DeleteNodes`` (a removed device's Equip and points).
"""

from __future__ import annotations

from typing import Any

from actors._base import BmsActor, handles
from actors._supervisor import ChildSpec
from actors.platform import Platform
from bms.config import LoadedScenario
from bms.messages import GetNode, ListNodes
from bms.model import DeleteNodes, Node, NodeStore, Upserted, UpsertNodes, build_site, retired
from bms.supervision import RestartPolicy

NAME = "nodes"


class ModelStore(BmsActor):
    def __init__(self, name: str, ctx: Any, site: LoadedScenario | None = None) -> None:
        super().__init__(name, ctx)
        self.site = site
        self.store: NodeStore | None = None

    def setup(self) -> None:
        self.store = NodeStore(self.ctx.data_dir / "nodes.db", self.clock)
        if self.site is not None:
            built = build_site(self.site)
            removed = 0
            for root in retired(self.store.all(), built):  # gone from the scenario since the last start
                for event in self.store.delete(root, recursive=True):
                    self.publish(event)
                    removed += 1
            outcomes = self.store.upsert_many(built)
            changed = self._publish(outcomes)
            self.log.info("building model loaded", nodes=len(self.store), changed=changed, removed=removed)

    def teardown(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def _publish(self, outcomes: list[Upserted]) -> int:
        changed = 0
        for outcome in outcomes:
            for event in outcome.events:
                self.publish(event)
            changed += outcome.outcome != "unchanged"
        return changed

    @property
    def _store(self) -> NodeStore:
        assert self.store is not None
        return self.store

    @handles(ListNodes)
    def list_nodes(self, query: ListNodes) -> list[Node]:
        if query.under is None and not query.tags and query.node_type is None:
            return self._store.all()
        return self._store.find(query.tags, under=query.under, type=query.node_type)

    @handles(GetNode)
    def get_node(self, query: GetNode) -> Node:
        return self._store.get(query.node_id)

    @handles(UpsertNodes)
    def upsert(self, command: UpsertNodes) -> list[Upserted]:
        outcomes = self._store.upsert_many(command.nodes)
        self._publish(outcomes)
        return outcomes


    @handles(DeleteNodes)
    def delete(self, command: DeleteNodes) -> list[str]:
        events = self._store.delete(command.root, recursive=True)
        for event in events:
            self.publish(event)
        return [event.node_id for event in events]


def nodes_component(platform: Platform) -> list[ChildSpec]:
    return [ChildSpec(NAME, ModelStore, kwargs={"site": platform.site}, policy=RestartPolicy(), critical=True)]


__all__ = ["NAME", "ModelStore", "UpsertNodes", "nodes_component"]
