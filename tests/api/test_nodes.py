"""The building model: filtered lists, one node (point ids keep their slash), the nested tree."""

from __future__ import annotations

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from bms.api import NodeTree
from bms.model import Node
from tests.api.fake import FakeSite

Client = TestClient[Litestar]


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["test", "room1", "room1-eq", "room1/temp", "room1/sp"]),
    ("type=Point", ["room1/temp", "room1/sp"]),
    ("tag=temp&tag=sp", ["room1/sp"]),
    ("under=room1&type=Equip", ["room1-eq"]),
])
def test_list_nodes_filters(client: Client, query: str, expected: list[str]) -> None:
    r = client.get(f"/api/nodes?{query}")
    assert r.status_code == 200
    assert [n["id"] for n in r.json()] == expected


def test_one_node_by_id_including_a_point_id_with_its_slash(client: Client) -> None:
    assert client.get("/api/nodes/room1").json()["type"] == "Space"
    r = client.get("/api/nodes/room1/temp")
    assert r.status_code == 200
    node = msgspec.json.decode(r.content, type=Node)
    assert (node.id, node.type, node.parent, node.tags) == ("room1/temp", "Point", "room1-eq", ("temp", "sensor", "point"))


def test_unknown_node_is_404(client: Client) -> None:
    r = client.get("/api/nodes/attic")
    assert (r.status_code, r.json()) == (404, {"error": "unknown node 'attic'"})
    assert client.get("/api/nodes?under=attic").status_code == 404


def test_tree_of_the_whole_site(client: Client) -> None:
    r = client.get("/api/nodes/tree")
    assert r.status_code == 200
    (site,) = msgspec.json.decode(r.content, type=list[NodeTree])
    assert (site.id, site.type) == ("test", "Site")
    (room,) = site.children
    (equip,) = room.children
    assert [p.id for p in equip.children] == ["room1/temp", "room1/sp"]
    assert all(p.children == () for p in equip.children)


def test_tree_under_a_root(client: Client) -> None:
    r = client.get("/api/nodes/tree?root=room1-eq")
    assert r.status_code == 200
    assert r.json() == [{"id": "room1-eq", "type": "Equip", "name": "virtual-room", "children": [
        {"id": "room1/temp", "type": "Point", "name": "Room Temp", "children": []},
        {"id": "room1/sp", "type": "Point", "name": "Room Temp Setpoint", "children": []},
    ]}]
    assert client.get("/api/nodes/tree?root=attic").status_code == 404


def test_nodes_service_down_is_503(client: Client, site: FakeSite) -> None:
    site.down.add("nodes")
    for path in ("/api/nodes", "/api/nodes/tree", "/api/nodes/room1"):
        r = client.get(path)
        assert (r.status_code, r.json()) == (503, {"error": "the nodes service is not running"})
