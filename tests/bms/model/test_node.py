"""Node: consistency rules, bindings validated per protocol, the wire format."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from bms.config import BacnetBinding, ModbusBinding, VirtualBinding
from bms.errors import ConfigError
from bms.model import Binding, Capabilities, Node, normalised

MODBUS = ModbusBinding(table="holding", address=10, type="float32", scale=0.1)


def point(**fields: Any) -> Node:
    base: dict[str, Any] = {"id": "meter1/kw", "type": "Point", "name": "Power", "parent": "meter1"}
    return Node(**{**base, **fields})


def test_a_bound_point() -> None:
    node = point(tags=("power", "point"), tag_values={"unit": "kW"}, binding=Binding.of("modbus", "meter1", MODBUS),
                 capabilities=Capabilities(readable=True, historizable=True))
    assert node.binding is not None and node.binding.config == MODBUS
    assert node.capabilities.names() == ("readable", "historizable")
    assert node.has("power", "unit") and not node.has("sensor")


@pytest.mark.parametrize(("fields", "problem"), [
    ({"binding": Binding(protocol="modbus", device="meter1", bacnet=BacnetBinding(object="analog-input,1"))},
     "protocol 'modbus' needs its 'modbus' config"),
    ({"binding": Binding(protocol="bacnet", device="meter1", bacnet=BacnetBinding(object="analog-input,1"), modbus=MODBUS)},
     "protocol 'bacnet' cannot carry a 'modbus' config"),
    ({"binding": Binding(protocol="modbus", device="", modbus=MODBUS)}, "binding.device: must not be empty"),
    ({"binding": Binding.of("bacnet", "meter1", MODBUS)}, "binding.bacnet: a ModbusBinding is not a BacnetBinding"),
    ({"type": "VirtualPoint", "binding": Binding.of("modbus", "meter1", MODBUS)}, "a VirtualPoint cannot be bound to modbus"),
    ({"type": "Equip", "binding": Binding.of("virtual", "meter1", VirtualBinding())},
     "only points have a protocol binding (Equip nodes do not)"),
    ({"type": "Site"}, "a Site has no parent"),
    ({"parent": None}, "every Point node needs a parent"),
    ({"parent": "meter1/kw"}, "its own parent"),
    ({"type": "Room"}, "'Room' is not one of Site, Space, Equip, Point, VirtualPoint"),
    ({"tags": ("power", "bad tag")}, "'bad tag' is not a tag name"),
    ({"tags": ("unit",), "tag_values": {"unit": "kW"}}, "'unit' is both a marker and a value tag"),
    ({"id": ""}, "id: must not be empty"),
])
def test_inconsistent_nodes_are_config_errors_naming_the_node(fields: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        point(**fields)
    assert problem in str(caught.value)
    assert str(caught.value).startswith(f"node {fields.get('id', 'meter1/kw')!r}: ")


def test_decoding_checks_bindings_too() -> None:
    good = point(binding=Binding.of("modbus", "meter1", MODBUS))
    data = msgspec.json.encode(good)
    assert msgspec.json.decode(data, type=Node) == good
    bad = data.replace(b'"protocol":"modbus"', b'"protocol":"bacnet"')
    with pytest.raises(ConfigError, match="needs its 'bacnet' config"):
        msgspec.json.decode(bad, type=Node)


def test_normalised_sorts_and_dedups_markers() -> None:
    assert normalised(point(tags=("sensor", "power", "sensor"))).tags == ("power", "sensor")
    same = point(tags=("a", "b"))
    assert normalised(same) is same
