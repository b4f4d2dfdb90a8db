"""NodeStore: CRUD with events, the tree rules, subtree (CTE), tag queries, reopening."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from bms.clock import ManualClock
from bms.config import BacnetBinding, ModbusBinding
from bms.errors import ConfigError, Conflict, NotFound, StoreError
from bms.messages import EntityCreated, EntityDeleted, EntityUpdated
from bms.model import Binding, Capabilities, Node, NodeStore

READ = Capabilities(readable=True, historizable=True, alarmable=True)


def site_nodes() -> list[Node]:
    return [
        Node(id="demo", type="Site", name="Demo Office", tags=("site",), tag_values={"tz": "Europe/London", "area": 1200.0}),
        Node(id="floor1", type="Space", name="Floor 1", parent="demo", tags=("space", "floor"), refs={"siteRef": "demo"}),
        Node(id="plant", type="Space", name="Plant room", parent="demo", tags=("space",), refs={"siteRef": "demo"}),
        Node(id="ahu1", type="Equip", name="AHU-1", parent="plant", tags=("equip", "ahu"),
             refs={"siteRef": "demo", "spaceRef": "plant"}, properties={"protocol": "bacnet", "device_instance": 1001}),
        Node(id="ahu1/sat", type="Point", name="Supply Air Temp", parent="ahu1",
             tags=("point", "supply", "air", "temp", "sensor"), tag_values={"unit": "°C", "kind": "Number"},
             refs={"equipRef": "ahu1"}, properties={"cov_increment": 0.1, "stale_after": None, "states": []},
             capabilities=READ, binding=Binding.of("bacnet", "ahu1", BacnetBinding(object="analog-input,1", cov=True))),
        Node(id="ahu1/sat_sp", type="Point", name="SAT Setpoint", parent="ahu1",
             tags=("point", "supply", "air", "temp", "sp", "cmd"), refs={"equipRef": "ahu1"},
             properties={"relinquish_default": 13.0, "command_priority": 8, "guard": {"min": 10.0, "max": 30.0}},
             capabilities=Capabilities(readable=True, writable=True, schedulable=True),
             binding=Binding.of("bacnet", "ahu1", BacnetBinding(object="analog-value,1"))),
        Node(id="meter1", type="Equip", name="Main meter", parent="plant", tags=("equip", "meter")),
        Node(id="meter1/kw", type="Point", name="Power", parent="meter1", tags=("point", "power", "sensor"),
             tag_values={"unit": "kW"}, capabilities=READ,
             binding=Binding.of("modbus", "meter1", ModbusBinding(table="holding", address=3, type="float32",
                                                                  order="CDAB", scale=0.001))),
        Node(id="zone-101", type="Space", name="Open office", parent="floor1", tags=("space",)),
    ]


@pytest.fixture
def store(tmp_path: Path, clock: ManualClock) -> Iterator[NodeStore]:
    with NodeStore(tmp_path / "nodes.db", clock) as nodes:
        nodes.upsert_many(site_nodes())
        yield nodes


def test_create_returns_created_and_the_event(tmp_path: Path, clock: ManualClock) -> None:
    with NodeStore(tmp_path / "nodes.db", clock) as store:
        demo = Node(id="demo", type="Site", name="Demo")
        result = store.upsert(demo)
        assert result.outcome == "created"
        assert result.events == (EntityCreated(demo, clock.now()),)
        floor = Node(id="floor1", type="Space", name="Floor 1", parent="demo", tags=("space", "floor"))
        outcome, events = store.upsert(floor)
        assert (outcome, events) == ("created", (EntityCreated(store.get("floor1"), clock.now()),))
        (created,) = events
        assert (created.node_id, created.node_type, created.parent) == ("floor1", "Space", "demo")
        assert created.node.tags == ("floor", "space")  # the node as the store keeps it
        assert store.get("floor1").name == "Floor 1" and len(store) == 2


def test_unchanged_and_updated(store: NodeStore, clock: ManualClock) -> None:
    sat = store.get("ahu1/sat")
    same_tags_other_order = msgspec.structs.replace(sat, tags=tuple(reversed(sat.tags)))
    assert store.upsert(same_tags_other_order) == ("unchanged", ())
    clock.advance(5)
    properties = {**sat.properties, "cov_increment": 0.2}
    changed = msgspec.structs.replace(sat, name="SAT", tags=(*sat.tags, "his"), properties=properties)
    outcome, events = store.upsert(changed)
    assert outcome == "updated"
    assert events == (EntityUpdated(store.get("ahu1/sat"), clock.now(), ("name", "tags", "properties")),)
    assert store.get("ahu1/sat").tags == tuple(sorted({*sat.tags, "his"}))
    assert events[0].node_id == "ahu1/sat" and events[0].node.name == "SAT"


def test_tree_rules(store: NodeStore) -> None:
    with pytest.raises(ConfigError, match="parent 'nowhere' does not exist"):
        store.upsert(Node(id="x", type="Equip", name="X", parent="nowhere"))
    with pytest.raises(ConfigError, match="would make a cycle"):
        store.upsert(Node(id="floor1", type="Space", name="Floor 1", parent="zone-101"))
    with pytest.raises(ConfigError, match="is a Point, which holds no other nodes"):
        store.upsert(Node(id="x", type="Point", name="X", parent="ahu1/sat"))
    with pytest.raises(ConfigError, match="holds no other nodes, and 2 are below it"):
        store.upsert(Node(id="ahu1", type="Point", name="AHU as point", parent="plant"))
    assert "x" not in store


def test_move_a_node(store: NodeStore, clock: ManualClock) -> None:
    meter = store.get("meter1")
    assert store.upsert(msgspec.structs.replace(meter, parent="zone-101")) == (
        "updated", (EntityUpdated(store.get("meter1"), clock.now(), ("parent",)),)
    )
    assert [n.id for n in store.subtree("floor1")] == ["floor1", "zone-101", "meter1", "meter1/kw"]
    assert [n.id for n in store.children("plant")] == ["ahu1"]
    assert [n.id for n in store.find(tags=["point"], under="floor1")] == ["meter1/kw"]
    assert store.subtree_ids("floor1") == ["floor1", "zone-101", "meter1", "meter1/kw"]


def test_a_failed_batch_writes_nothing(store: NodeStore, tmp_path: Path, clock: ManualClock) -> None:
    batch = [Node(id="vav1", type="Equip", name="VAV", parent="zone-101"),
             Node(id="vav1/x", type="Point", name="X", parent="vav9")]
    with pytest.raises(ConfigError, match="vav1/x"):
        store.upsert_many(batch)
    assert "vav1" not in store
    with NodeStore(tmp_path / "nodes.db", clock) as again:
        assert "vav1" not in again


def test_delete(store: NodeStore, clock: ManualClock) -> None:
    assert store.delete("ahu1/sat") == [EntityDeleted("ahu1/sat", clock.now())]
    with pytest.raises(NotFound):
        store.get("ahu1/sat")
    with pytest.raises(Conflict, match="has 2 child node"):
        store.delete("plant")
    events = store.delete("plant", recursive=True)
    deleted = [e.node_id for e in events]
    assert sorted(deleted) == ["ahu1", "ahu1/sat_sp", "meter1", "meter1/kw", "plant"]
    assert deleted.index("meter1/kw") < deleted.index("meter1") < deleted.index("plant")  # deepest first
    assert [n.id for n in store.all()] == ["demo", "floor1", "zone-101"]
    with pytest.raises(NotFound):
        store.delete("plant")


def test_delete_cascades_to_every_part_table(store: NodeStore) -> None:
    store.delete("plant", recursive=True)
    with sqlite3.connect(store.path) as db:
        for table in ("tags", "refs", "properties", "capabilities", "bindings"):
            owners = {row[0] for row in db.execute(f"SELECT node_id FROM {table}")}
            assert owners <= {"demo", "floor1", "zone-101"}, table
    db.close()


def test_subtree_from_the_cache_and_from_the_cte_agree(store: NodeStore) -> None:
    cached = [n.id for n in store.subtree("demo")]
    assert cached[0] == "demo" and set(cached) == {n.id for n in store.all()}
    cte = store.subtree_ids("demo")
    assert set(cte) == set(cached)
    assert cte[:3] == ["demo", "floor1", "plant"]  # shallowest first, then creation order
    assert store.subtree_ids("ahu1") == ["ahu1", "ahu1/sat", "ahu1/sat_sp"]
    assert [n.id for n in store.subtree("ahu1")] == ["ahu1", "ahu1/sat", "ahu1/sat_sp"]
    with pytest.raises(NotFound):
        store.subtree_ids("nowhere")


def test_all_lists_parents_first(store: NodeStore) -> None:
    ids = [n.id for n in store.all()]
    assert ids == ["demo", "floor1", "zone-101", "plant", "ahu1", "ahu1/sat", "ahu1/sat_sp", "meter1", "meter1/kw"]
    position = {node_id: i for i, node_id in enumerate(ids)}
    assert all(position[n.parent] < position[n.id] for n in store.all() if n.parent)


@pytest.mark.parametrize(("query", "expected"), [
    ({"tags": ["temp", "sensor"]}, ["ahu1/sat"]),
    ({"tags": ["temp"]}, ["ahu1/sat", "ahu1/sat_sp"]),
    ({"tags": ["point"], "under": "plant"}, ["ahu1/sat", "ahu1/sat_sp", "meter1/kw"]),
    ({"tags": ["point"], "under": "meter1"}, ["meter1/kw"]),
    ({"tags": ["unit"]}, ["ahu1/sat", "meter1/kw"]),  # value tags count as tags
    ({"type": "Space"}, ["floor1", "plant", "zone-101"]),  # creation order
    ({"type": "Equip", "under": "demo"}, ["ahu1", "meter1"]),
    ({"tags": ["equip", "ahu"]}, ["ahu1"]),
    ({"tags": ["temp", "power"]}, []),
    ({"tags": ["nothing"]}, []),
    ({"under": "zone-101"}, []),
])
def test_find(store: NodeStore, query: dict[str, Any], expected: list[str]) -> None:
    assert [n.id for n in store.find(**query)] == expected


def test_find_under_an_unknown_node(store: NodeStore) -> None:
    with pytest.raises(NotFound):
        store.find(under="nowhere")


def test_reopen_from_disk_gives_the_same_model(store: NodeStore, tmp_path: Path, clock: ManualClock) -> None:
    store.delete("ahu1/sat")
    store.upsert(Node(id="ahu1/sat", type="Point", name="SAT again", parent="ahu1", tags=("point",)))
    before = store.all()
    with NodeStore(tmp_path / "nodes.db", clock) as again:
        after = again.all()
        assert after == before
        kw = again.get("meter1/kw")
        assert kw.binding == site_nodes()[7].binding
        assert again.get("demo").tag_values == {"tz": "Europe/London", "area": 1200.0}
        assert again.get("ahu1/sat_sp").properties["guard"] == {"min": 10.0, "max": 30.0}
        assert again.get("ahu1").properties["device_instance"] == 1001
        assert [n.id for n in again.find(tags=["temp"])] == ["ahu1/sat_sp"]
        assert [n.id for n in again.children("ahu1")] == ["ahu1/sat_sp", "ahu1/sat"]
        assert again.upsert_many(site_nodes()[:4])[0].outcome == "unchanged"


def test_not_a_database(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "nodes.db"
    path.write_bytes(b"garbage" * 1000)
    with pytest.raises(StoreError, match=r"nodes\.db"):
        NodeStore(path, clock)
