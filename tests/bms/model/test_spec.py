"""point_spec: a point node read back into the PointSpec it was built from."""

from __future__ import annotations

import pytest

from bms.config import load_scenario
from bms.errors import ConfigError
from bms.model import Node, build_nodes, point_spec
from tests.conftest import ROOT


def test_every_demo_point_round_trips() -> None:
    loaded = load_scenario(ROOT / "conf/scenarios/demo.toml")
    nodes = {n.id: n for n in build_nodes(loaded.scenario, loaded.profiles)}
    checked = 0
    for device in loaded.scenario.devices:
        for spec in loaded.profiles[device.profile].points:
            got = point_spec(nodes[f"{device.id}/{spec.key}"])
            for field in ("key", "name", "kind", "unit", "writable", "cov_increment", "stale_after", "states",
                          "history", "guard", "relinquish_default", "command_priority", "modbus", "bacnet"):
                assert getattr(got, field) == getattr(spec, field), (device.id, spec.key, field)
            assert set(spec.tags) <= set(got.tags)
            checked += 1
    assert checked == loaded.point_count > 20


def test_a_node_that_is_not_a_point_is_refused() -> None:
    with pytest.raises(ConfigError, match="'s1': a Site is not a point"):
        point_spec(Node(id="s1", type="Site", name="S"))


def test_unreadable_settings_name_the_node() -> None:
    node = Node(id="d/p", type="VirtualPoint", name="P", parent="d", properties={"kind": "colour"})
    with pytest.raises(ConfigError, match="node 'd/p': its point settings cannot be read"):
        point_spec(node)
