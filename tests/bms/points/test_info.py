"""point_infos: what the point store and history know of each point node, ancestors included."""

from __future__ import annotations

from pathlib import Path

import msgspec

from bms.config import load_scenario
from bms.model import Node, build_site
from bms.points import point_infos

DEMO = Path(__file__).resolve().parents[3] / "conf" / "scenarios" / "demo.toml"


def demo() -> list[Node]:
    return build_site(load_scenario(DEMO))


def test_every_point_of_the_model_with_its_device_protocol_ancestors_and_tags() -> None:
    nodes = demo()
    infos, problems = point_infos(nodes)
    assert problems == []
    assert {i.point_id for i in infos} == {n.id for n in nodes if n.type in ("Point", "VirtualPoint")}
    by_id = {i.point_id: i for i in infos}
    zone = by_id["vav101/zone_temp"]
    assert (zone.device, zone.protocol, zone.spec.key) == ("vav101", "bacnet", "zone_temp")
    assert zone.ancestors == {"vav101", "zone-101", "floor1", "demo"}
    assert {"point", "zone", "temp"} <= zone.tags and "unit" in zone.tags  # markers and value tags
    assert by_id["ahu1/sat"].ancestors == {"ahu1", "plant", "demo"}


def test_points_given_alone_find_their_ancestors_in_the_rest_of_the_model() -> None:
    nodes = demo()
    device = [n for n in nodes if n.id == "vav101" or n.id.startswith("vav101/")]  # an accepted device's nodes
    rest = {n.id: n.parent for n in nodes if n not in device}
    infos, _ = point_infos(device, rest)
    assert {i.ancestors for i in infos} == {frozenset({"vav101", "zone-101", "floor1", "demo"})}
    alone, _ = point_infos(device)
    assert {i.ancestors for i in alone} == {frozenset({"vav101", "zone-101"})}  # only as far as it can see


def test_a_point_that_cannot_be_read_is_one_line_and_the_others_load() -> None:
    nodes = demo()
    bad = next(n for n in nodes if n.id == "ahu1/sat")
    broken = msgspec.structs.replace(bad, properties={**bad.properties, "cov_increment": "lots"})
    infos, problems = point_infos([broken if n is bad else n for n in nodes])
    assert "ahu1/sat" not in {i.point_id for i in infos} and len(infos) == len(point_infos(nodes)[0]) - 1
    assert len(problems) == 1 and problems[0].startswith("node 'ahu1/sat': its point settings cannot be read")
