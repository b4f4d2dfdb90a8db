"""retired: what a daemon start deletes from the model when the scenario dropped it."""

from __future__ import annotations

from bms.model import DISCOVERY, ORIGIN, Node, retired

SITE = Node(id="s", type="Site", name="S", tags=("site",))


def node(id: str, type: str, parent: str, **props: object) -> Node:
    return Node(id=id, type=type, name=id, parent=parent, properties=dict(props))  # type: ignore[arg-type]


EXISTING = [
    SITE,
    node("f1", "Space", "s"), node("f2", "Space", "s"), node("f3", "Space", "f2"),
    node("ahu1", "Equip", "f1"), node("ahu1/sat", "Point", "ahu1"),
    node("vav9", "Equip", "f2"), node("vav9/t", "Point", "vav9"),  # dropped from the scenario
    node("acc1", "Equip", "f3", **{ORIGIN: DISCOVERY}), node("acc1/x", "Point", "acc1"),  # accepted in the field
]


def test_dropped_equipment_goes_with_its_points_accepted_stays_with_its_spaces() -> None:
    built = [SITE, node("f1", "Space", "s"), node("ahu1", "Equip", "f1"), node("ahu1/sat", "Point", "ahu1")]
    assert sorted(retired(EXISTING, built)) == ["vav9"]  # f2 and f3 hold accepted equipment: they stay


def test_a_dropped_point_alone() -> None:
    built = [n for n in EXISTING if n.id not in ("ahu1/sat",)]
    assert retired(EXISTING, built) == ["ahu1/sat"]


def test_nothing_dropped_nothing_retired() -> None:
    assert retired(EXISTING, EXISTING) == []
    assert retired([], [SITE]) == []
