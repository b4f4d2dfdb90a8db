"""The building model: nodes, filtered lists and the nested tree."""

from __future__ import annotations

from litestar import Router, get

from bms.api._auth import requires
from bms.api._errors import error_responses
from bms.api._gateway import Gateway
from bms.api._params import NodeId, NodeType, Root, Tags, Under
from bms.api._tree import build_tree
from bms.api._wire import NodeTree
from bms.messages import ListNodes
from bms.model import Node


def nodes_router(gateway: Gateway) -> Router:
    @get("/", operation_id="listNodes", **requires("read"), responses=error_responses(404, 503))
    async def list_nodes(under: Under = None, tag: Tags = (), type: NodeType = None) -> list[Node]:
        """Nodes under a node, carrying all the tags, of a type."""
        return await gateway.nodes(ListNodes(under=under, tags=tag, node_type=type))

    @get("/tree", operation_id="nodeTree", **requires("read"), responses=error_responses(404, 503))
    async def tree(root: Root = None) -> list[NodeTree]:
        """The hierarchy nested by parent: the tree under ``root``, or one per site."""
        if root is None:
            return build_tree(await gateway.nodes(ListNodes()))
        top = await gateway.node(root)
        return build_tree([top, *await gateway.nodes(ListNodes(under=root))], root)

    @get("/{node_id:path}", operation_id="getNode", **requires("read"), responses=error_responses(404, 503))
    async def node(node_id: NodeId) -> Node:
        """One node with its tags, refs, properties, capabilities and binding."""
        return await gateway.node(node_id.lstrip("/"))

    return Router("/api/nodes", route_handlers=[list_nodes, tree, node], tags=["nodes"])
