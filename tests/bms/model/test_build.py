"""build_nodes: the model of a small scenario, and its problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from bms.clock import ManualClock
from bms.config import (
    BacnetBinding,
    BacnetDevice,
    GuardSpec,
    HistorySpec,
    ModbusBinding,
    ModbusDevice,
    PointSpec,
    Profile,
    Scenario,
    SiteSpec,
    SpaceSpec,
    VirtualBinding,
    VirtualDevice,
)
from bms.errors import ConfigError
from bms.model import Capabilities, NodeStore, build_nodes

AHU = Profile(name="ahu", protocol="bacnet", equip="ahu", vendor="bms", points=[
    PointSpec(key="sat", name="Supply Air Temp", unit="°C", cov_increment=0.1, stale_after=60,
              bacnet=BacnetBinding(object="analog-input,1"), tags=["discharge"]),
    PointSpec(key="sat_sp", name="SAT Setpoint", unit="°C", writable=True, relinquish_default=13.0,
              guard=GuardSpec(min=10, max=30), bacnet=BacnetBinding(object="analog-value,1")),
    PointSpec(key="fan_cmd", name="Fan Command", kind="bool", writable=True,
              history=HistorySpec(cov=False), bacnet=BacnetBinding(object="binary-output,1")),
    PointSpec(key="fan_speed", name="Fan Speed", unit="%", writable=True, bacnet=BacnetBinding(object="analog-value,7")),
])
METER = Profile(name="power-meter", protocol="modbus", equip="meter elec", points=[
    PointSpec(key="kw", name="Active Power", unit="kW", modbus=ModbusBinding(table="input", address=0, type="float32")),
])
ROOM = Profile(name="virtual-room", protocol="virtual", points=[
    PointSpec(key="occ", name="Occupied", kind="enum", states=["unocc", "occ"], virtual=VirtualBinding(initial="occ")),
    PointSpec(key="note", name="Note", kind="text"),
])
PROFILES = {p.name: p for p in (AHU, METER, ROOM)}

SCENARIO = Scenario(
    site=SiteSpec(id="demo", name="Demo Office", timezone="Europe/London", area_m2=1200),
    spaces=[
        SpaceSpec(id="zone-101", name="Open office", parent="floor1"),  # listed before its parent
        SpaceSpec(id="floor1", name="Floor 1"),
        SpaceSpec(id="plant", name="Plant room"),
    ],
    devices=[
        BacnetDevice(id="ahu1", name="AHU-1", profile="ahu", address="127.0.0.2", device_instance=1001,
                     space="plant"),
        ModbusDevice(id="meter1", profile="power-meter", host="127.0.0.1", port=15020),
        VirtualDevice(id="room1", profile="virtual-room", space="zone-101"),
        BacnetDevice(id="old", profile="ahu", device_instance=9, enabled=False),
    ],
)


def test_ids_types_and_order() -> None:
    nodes = build_nodes(SCENARIO, PROFILES)
    assert [(n.id, n.type, n.parent) for n in nodes] == [
        ("demo", "Site", None),
        ("floor1", "Space", "demo"),
        ("plant", "Space", "demo"),
        ("zone-101", "Space", "floor1"),
        ("ahu1", "Equip", "plant"),
        ("ahu1/sat", "Point", "ahu1"),
        ("ahu1/sat_sp", "Point", "ahu1"),
        ("ahu1/fan_cmd", "Point", "ahu1"),
        ("ahu1/fan_speed", "Point", "ahu1"),
        ("meter1", "Equip", "demo"),
        ("meter1/kw", "Point", "meter1"),
        ("room1", "Equip", "zone-101"),
        ("room1/occ", "VirtualPoint", "room1"),
        ("room1/note", "VirtualPoint", "room1"),
    ]
    assert build_nodes(SCENARIO, PROFILES) == nodes  # deterministic


def test_site_spaces_and_equips() -> None:
    by_id = {n.id: n for n in build_nodes(SCENARIO, PROFILES)}
    assert by_id["demo"].tags == ("site",) and by_id["demo"].tag_values == {"tz": "Europe/London", "area": 1200.0}
    assert by_id["zone-101"].refs == {"siteRef": "demo", "spaceRef": "floor1"}
    ahu = by_id["ahu1"]
    assert (ahu.name, ahu.tags) == ("AHU-1", ("ahu", "equip"))
    assert ahu.refs == {"siteRef": "demo", "spaceRef": "plant"}
    assert ahu.properties == {"protocol": "bacnet", "profile": "ahu", "network": "default", "vendor": "bms",
                              "address": "127.0.0.2", "device_instance": 1001}
    assert by_id["meter1"].tags == ("elec", "equip", "meter") and by_id["meter1"].name == "meter1"
    assert by_id["meter1"].refs == {"siteRef": "demo"}


def test_points() -> None:
    by_id = {n.id: n for n in build_nodes(SCENARIO, PROFILES)}
    sat = by_id["ahu1/sat"]
    assert sat.tags == ("air", "discharge", "his", "point", "sensor", "supply", "temp")
    assert sat.tag_values == {"kind": "Number", "unit": "°C"}
    assert sat.refs == {"equipRef": "ahu1", "siteRef": "demo", "spaceRef": "plant"}
    assert sat.capabilities == Capabilities(readable=True, historizable=True, alarmable=True)
    assert sat.binding is not None and (sat.binding.protocol, sat.binding.device) == ("bacnet", "ahu1")
    assert sat.binding.config == BacnetBinding(object="analog-input,1")
    assert sat.properties["stale_after"] == 60 and sat.properties["cov_increment"] == 0.1

    sp = by_id["ahu1/sat_sp"]
    assert sp.tags == ("air", "cmd", "his", "point", "sp", "supply", "temp")
    assert sp.capabilities == Capabilities(readable=True, writable=True, historizable=True, alarmable=True, schedulable=True)
    assert sp.properties["guard"] == {"min": 10.0, "max": 30.0, "max_writes_per_minute": None, "interlock": None}
    assert sp.properties["relinquish_default"] == 13.0 and sp.properties["command_priority"] == 8

    fan = by_id["ahu1/fan_cmd"]
    assert fan.tags == ("cmd", "fan", "point")  # not historized: no "his"
    assert fan.tag_values == {"kind": "Bool"} and not fan.capabilities.historizable
    assert "sensor" not in by_id["ahu1/fan_speed"].tags  # writable: cmd, not a suggested sensor

    kw = by_id["meter1/kw"]
    assert kw.tags == ("his", "point", "power", "sensor")
    assert kw.binding is not None and kw.binding.config == ModbusBinding(table="input", address=0, type="float32")

    occ, note = by_id["room1/occ"], by_id["room1/note"]
    assert occ.tag_values == {"kind": "Str", "enum": "unocc,occ"} and occ.properties["states"] == ["unocc", "occ"]
    assert occ.binding is not None and occ.binding.config == VirtualBinding(initial="occ")
    assert note.binding is not None and note.binding.config == VirtualBinding()
    assert not note.capabilities.alarmable


def test_the_model_loads_into_a_store(tmp_path: Path, clock: ManualClock) -> None:
    nodes = build_nodes(SCENARIO, PROFILES)
    with NodeStore(tmp_path / "nodes.db", clock) as store:
        results = store.upsert_many(nodes)
        assert {r.outcome for r in results} == {"created"}
        assert [n.id for n in store.find(tags=["temp", "sensor"])] == ["ahu1/sat"]
        assert [n.id for n in store.find(tags=["point"], under="zone-101")] == ["room1/occ", "room1/note"]
        assert {r.outcome for r in store.upsert_many(build_nodes(SCENARIO, PROFILES))} == {"unchanged"}


def test_problems_are_collected() -> None:
    bad = Scenario(
        site=SiteSpec(id="demo", name="Demo"),
        spaces=[SpaceSpec(id="a", name="A", parent="b"), SpaceSpec(id="b", name="B", parent="a"), SpaceSpec(id="ahu1", name="X")],
        devices=[
            BacnetDevice(id="ahu1", profile="ahu", device_instance=1),
            ModbusDevice(id="m", profile="nope", host="h"),
            ModbusDevice(id="v", profile="ahu", host="h"),
            VirtualDevice(id="w", profile="virtual-room", space="nowhere"),
            BacnetDevice(id="n", profile="bare", device_instance=2),
        ],
    )
    bare = Profile(name="bare", protocol="bacnet", points=[PointSpec(key="x", name="X")])
    with pytest.raises(ConfigError) as caught:
        build_nodes(bad, {**PROFILES, "bare": bare})
    problems = caught.value.problems
    assert problems == [
        "spaces.a.parent: unknown space or a cycle ('b')",
        "spaces.b.parent: unknown space or a cycle ('a')",
        "devices.m.profile: no profile named 'nope'",
        "devices.v.protocol: 'modbus' but profile 'ahu' is 'bacnet'",
        "devices.w.space: unknown space 'nowhere'",
        "n/x: profile 'bare' gives no bacnet binding",
        "ahu1: duplicate node id (sites, spaces, devices and points share one namespace)",
    ]
