"""Discovered objects (or a profile) -> Equip and Point nodes; device records; pending accepts."""

from __future__ import annotations

import pytest

from bms.bacnet import StoredDevice, StoredObject
from bms.bacnet._accept import (
    accepted_nodes,
    configured_record,
    discovered_profile,
    discovered_record,
    equip_id_for,
    instance_of,
    point_key,
    slug,
)
from bms.config import BacnetDevice, ModbusDevice, SiteSpec
from bms.errors import ConfigError
from tests.bms.bacnet.loopback import profile

SITE = SiteSpec(id="hq", name="HQ")


def stored(**fields: object) -> StoredDevice:
    base: dict[str, object] = {
        "instance": 1201, "address": "127.0.0.9:47808", "network": "main", "name": "AHU-2", "vendor": "Acme",
        "vendor_id": 7, "model": "AX-1", "firmware": "1.0", "description": "roof unit", "max_apdu": 1476,
        "segmentation": "segmented-both", "state": "Discovered", "first_seen": 1.0, "last_seen": 2.0,
        "error": None, "changes": (), "objects": 4,
    }
    return StoredDevice(**{**base, **fields})  # type: ignore[arg-type]


def obj(objid: str, name: str, *, unit: str = "", commandable: bool = False, kind: str = "number",
        states: tuple[str, ...] = ()) -> StoredObject:
    return StoredObject(device=1201, objid=objid, name=name, description="", units=None, unit=unit,
                        commandable=commandable, kind=kind, states=states, first_seen=1.0, last_seen=2.0)


OBJECTS = [
    obj("analog-input,1", "Supply Air Temp", unit="°C"),
    obj("analog-output,1", "Cooling Valve", unit="%", commandable=True),
    obj("binary-value,3", "Fan Enable", kind="bool", commandable=True, states=("off", "on")),
    obj("multi-state-value,1", "Occupancy Mode", kind="enum", states=("occupied", "unoccupied")),
    obj("network-port,1", "NetworkPort-1", kind="text"),
    obj("analog-value,7", "", unit="Pa"),
]


@pytest.mark.parametrize(("text", "expected"), [
    ("Supply Air Temp (°C)", "supply_air_temp_c"), ("  ", ""), ("ZN-T 101", "zn_t_101"),
])
def test_slug(text: str, expected: str) -> None:
    assert slug(text) == expected


def test_equip_ids_are_unique() -> None:
    assert equip_id_for("AHU-2", 1201) == "ahu-2"
    assert equip_id_for("AHU-2", 1201, taken={"ahu-2"}) == "ahu-2-1201"
    assert equip_id_for("", 1201) == "bacnet-1201"
    assert equip_id_for("ahu", 5, taken={"ahu", "ahu-5"}) == "bacnet-5"


def test_point_keys_from_names_or_object_ids() -> None:
    assert point_key("Zone Temp", "analog-input,3") == "zone_temp"
    assert point_key("", "analog-input,3") == "ai_3"
    assert point_key("Zone Temp", "analog-input,4", taken={"zone_temp"}) == "zone_temp_ai_4"
    assert point_key("x", "binary-value,1", taken={"x", "x_bv_1"}) == "x_bv_1_2"


def test_discovered_profile_keeps_point_objects_only() -> None:
    found = discovered_profile(stored(), OBJECTS)
    by_key = {p.key: p for p in found.points}
    assert sorted(by_key) == ["av_7", "cooling_valve", "fan_enable", "occupancy_mode", "supply_air_temp"]
    assert by_key["supply_air_temp"].bacnet.cov and not by_key["cooling_valve"].bacnet.cov  # type: ignore[union-attr]
    assert by_key["cooling_valve"].writable and not by_key["supply_air_temp"].writable
    assert by_key["occupancy_mode"].states == ["occupied", "unoccupied"] and by_key["fan_enable"].states == []
    assert (found.vendor, found.model) == ("Acme", "AX-1")


def test_accepted_nodes_from_objects() -> None:
    nodes = accepted_nodes(stored(), OBJECTS, equip_id="ahu2", site=SITE)
    equip, *points = nodes
    assert (equip.id, equip.type, equip.parent, equip.name, equip.tags) == ("ahu2", "Equip", "hq", "AHU-2", ("equip",))
    assert equip.properties == {"protocol": "bacnet", "profile": "discovered", "network": "main", "vendor": "Acme",
                                "model": "AX-1", "description": "roof unit", "address": "127.0.0.9:47808",
                                "device_instance": 1201, "origin": "discovery"}
    by_id = {p.id: p for p in points}
    sat = by_id["ahu2/supply_air_temp"]
    assert {"supply", "air", "temp", "sensor", "point", "his"} <= set(sat.tags)
    assert sat.refs == {"equipRef": "ahu2", "siteRef": "hq"} and sat.tag_values["unit"] == "°C"
    valve = by_id["ahu2/cooling_valve"]
    assert valve.capabilities.writable and "cmd" in valve.tags and "sensor" not in valve.tags
    assert valve.binding is not None and valve.binding.bacnet is not None
    assert (valve.binding.device, valve.binding.bacnet.object) == ("ahu2", "analog-output,1")
    assert by_id["ahu2/occupancy_mode"].tag_values["enum"] == "occupied,unoccupied"


def test_accepted_nodes_from_a_profile_skip_missing_objects() -> None:
    vav = profile("vav")
    have = [obj("analog-input,1", "Zone"), obj("analog-output,1", "Damper", commandable=True)]
    nodes = accepted_nodes(stored(name="VAV-9"), have, equip_id="vav9", site=SITE, profile=vav)
    assert [n.id for n in nodes] == ["vav9", "vav9/zone_temp", "vav9/damper"]
    assert nodes[0].tags == ("equip", "vav") and nodes[0].properties["profile"] == "vav"
    assert nodes[2].properties["relinquish_default"] == 50.0
    every = accepted_nodes(stored(), [], equip_id="vav9", site=SITE, profile=vav)  # objects unknown: all of them
    assert len(every) == 1 + len(vav.points)


@pytest.mark.parametrize(("equip_id", "message"), [("", "must be non-empty"), ("a/b", "contain no '/'"),
                                                   ("hq", "the site's id")])
def test_bad_equipment_ids(equip_id: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        accepted_nodes(stored(), OBJECTS, equip_id=equip_id, site=SITE)


def test_a_modbus_profile_is_refused() -> None:
    with pytest.raises(ConfigError, match="is for modbus, not bacnet"):
        accepted_nodes(stored(), OBJECTS, equip_id="m", site=SITE, profile=profile("power-meter"))


def test_records_and_ids() -> None:
    assert (instance_of("bacnet:1201"), instance_of("1201"), instance_of("ahu1")) == (1201, 1201, None)
    spec = BacnetDevice(id="ahu1", profile="ahu", address="127.0.0.2", device_instance=1201)
    record = configured_record(spec, profile("ahu"), stored(), online=True)
    assert (record.device_id, record.state, record.online, record.objects, record.points) == (
        "ahu1", "Configured", True, 4, len(profile("ahu").points))
    meter = ModbusDevice(id="m1", profile="power-meter", host="10.0.0.5", port=502, enabled=False)
    off = configured_record(meter, None)
    assert (off.address, off.online, off.reason) == ("10.0.0.5:502", None, "disabled in the scenario")
    found = discovered_record(stored(state="Accepted"), points=5, note="equipment 'ahu2'")
    assert (found.device_id, found.state, found.points, found.reason) == ("bacnet:1201", "Accepted", 5, "equipment 'ahu2'")
    assert discovered_record(stored(), configured_as="ahu1").state == "Configured"
