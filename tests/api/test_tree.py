"""build_tree: the flat node list nested by parent (pure function)."""

from __future__ import annotations

from bms.api import NodeTree, build_tree
from bms.model import Node, NodeType


def node(node_id: str, parent: str | None = None, kind: NodeType = "Space") -> Node:
    return Node(id=node_id, type=kind, name=node_id.upper(), parent=parent or ("s0" if kind != "Site" else None))


def ids(trees: tuple[NodeTree, ...] | list[NodeTree]) -> list[object]:
    return [(t.id, ids(t.children)) if t.children else t.id for t in trees]


def test_one_tree_per_node_without_a_known_parent_in_input_order() -> None:
    nodes = [node("s1", kind="Site"), node("b", "s1"), node("a", "s1"), node("s2", kind="Site"), node("c", "b")]
    assert ids(build_tree(nodes)) == [("s1", [("b", ["c"]), "a"]), "s2"]


def test_root_keeps_only_its_subtree() -> None:
    nodes = [node("b", "s1"), node("c", "b"), node("d", "b")]
    assert ids(build_tree(nodes, root="b")) == [("b", ["c", "d"])]
    assert build_tree(nodes, root="zzz") == []


def test_orphans_become_tops_and_cycles_terminate() -> None:
    nodes = [node("x", "missing"), node("p", "q"), node("q", "p")]
    assert ids(build_tree(nodes)) == ["x"]  # p and q only reach each other
    assert ids(build_tree(nodes, root="p")) == [("p", ["q"])]


def test_duplicates_keep_the_first() -> None:
    assert build_tree([node("a"), Node(id="a", type="Equip", name="other", parent="s0")]) == [
        NodeTree(id="a", type="Space", name="A")]
