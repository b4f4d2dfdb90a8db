"""point_infos: the points of a model as the point store holds them, equal parts shared."""

from __future__ import annotations

import msgspec

from bms.config import GuardSpec, ModbusBinding, ModbusDevice, PointSpec, Profile, Scenario, SiteSpec, SpaceSpec
from bms.model import Node, build_nodes, point_spec
from bms.points import point_infos

METER = Profile(name="meter", protocol="modbus", equip="meter", points=[
    PointSpec(key="kw", name="Active Power", unit="kW", modbus=ModbusBinding(table="input", address=0, type="float32")),
    PointSpec(key="kwh", name="Energy", unit="kWh", modbus=ModbusBinding(table="input", address=2, type="float32")),
    PointSpec(key="limit", name="Demand limit", unit="kW", writable=True, guard=GuardSpec(min=0, max=500),
              modbus=ModbusBinding(table="holding", address=10, type="float32")),
])
SCENARIO = Scenario(
    site=SiteSpec(id="site", name="Site"),
    spaces=[SpaceSpec(id="plant", name="Plant"), SpaceSpec(id="roof", name="Roof")],
    devices=[ModbusDevice(id=f"m{i}", profile="meter", host="127.0.0.1", unit_id=i + 1,
                        space="plant" if i < 2 else "roof") for i in range(3)],
)


def model() -> list[Node]:
    return build_nodes(SCENARIO, {"meter": METER})


def test_every_point_is_read_with_its_own_spec_device_and_ancestors() -> None:
    nodes = model()
    infos, problems = point_infos(nodes)
    assert problems == []
    by_id = {i.point_id: i for i in infos}
    assert sorted(by_id) == sorted(f"m{d}/{p.key}" for d in range(3) for p in METER.points)
    for node in nodes:
        if node.type == "Point":
            info = by_id[node.id]
            assert info.spec == point_spec(node)
            assert info.device == node.id.split("/")[0] and info.protocol == "modbus"
            assert info.tags == frozenset((*node.tags, *node.tag_values))
    assert by_id["m0/kw"].ancestors == frozenset({"m0", "plant", "site"})
    assert by_id["m2/kw"].ancestors == frozenset({"m2", "roof", "site"})


def test_the_same_point_on_every_device_shares_one_spec_and_one_tag_set() -> None:
    infos, _ = point_infos(model())
    by_id = {i.point_id: i for i in infos}
    for key in ("kw", "kwh", "limit"):
        first = by_id[f"m0/{key}"]
        for d in (1, 2):
            assert by_id[f"m{d}/{key}"].spec is first.spec
            assert by_id[f"m{d}/{key}"].tags is first.tags
    assert by_id["m0/kw"].spec is not by_id["m0/kwh"].spec
    assert len({id(i.spec) for i in infos}) == len(METER.points)


def test_the_points_of_one_device_share_their_ancestor_set() -> None:
    infos, _ = point_infos(model())
    of_m1 = [i.ancestors for i in infos if i.device == "m1"]
    assert len(of_m1) == 3 and all(a is of_m1[0] for a in of_m1)


def test_nodes_that_differ_only_in_a_setting_get_their_own_specs() -> None:
    nodes = model()
    first = next(n for n in nodes if n.id == "m1/kw")
    changed = msgspec.structs.replace(first, properties={**first.properties, "cov_increment": 0.5})
    infos, _ = point_infos([changed if n.id == "m1/kw" else n for n in nodes])
    by_id = {i.point_id: i for i in infos}
    assert by_id["m1/kw"].spec.cov_increment == 0.5
    assert by_id["m0/kw"].spec.cov_increment == 0.0 and by_id["m2/kw"].spec is by_id["m0/kw"].spec


def test_a_point_whose_settings_cannot_be_read_is_a_problem_line_and_the_rest_load() -> None:
    nodes = model()
    bad = msgspec.structs.replace(next(n for n in nodes if n.id == "m0/kw"), properties={"kind": "colour"})
    infos, problems = point_infos([bad if n.id == "m0/kw" else n for n in nodes])
    assert len(infos) == 8
    assert len(problems) == 1 and problems[0].startswith("node 'm0/kw': its point settings cannot be read")
