"""Commissioning: the decisions the devices service and `bms devices` without a daemon share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bms.bacnet import Commissioning, DiscoveredDevice, DiscoveryStore, ObjectInfo
from bms.bacnet._accept import PENDING_NAME, PendingAccept, read_pending
from bms.config import BacnetDevice, LoadedScenario, ModbusDevice, Scenario, SiteSpec
from bms.errors import BmsError, NotFound
from bms.model import Node
from tests.bms.bacnet.loopback import profile

VAV = profile("vav")


def found(instance: int, name: str, objects: int = 3) -> DiscoveredDevice:
    return DiscoveredDevice(
        instance=instance, address=f"127.0.0.{instance % 200}:47808", max_apdu=1476, segmentation="both", seen=1.0,
        name=name, network="lan",
        objects=tuple(ObjectInfo(objid=f"analog-input,{n}", name=f"Zone {n} temp", unit="°C", kind="number")
                      for n in range(1, objects + 1)))


@pytest.fixture
def site(tmp_path: Path) -> LoadedScenario:
    scenario = Scenario(site=SiteSpec(id="hq", name="HQ"), devices=[
        BacnetDevice(id="ahu1", profile="vav", address="127.0.0.2", device_instance=1001),
        ModbusDevice(id="meter1", profile="meter", host="127.0.0.1", port=1502)])
    return LoadedScenario(tmp_path / "site.toml", scenario, {"vav": VAV})


@pytest.fixture
def devices(tmp_path: Path, site: LoadedScenario) -> Iterator[Commissioning]:
    with DiscoveryStore(tmp_path / "discovery.db") as store:
        store.save_many([found(1001, "AHU-1"), found(2001, "VAV-1"), found(2002, "VAV-2")])
        yield Commissioning(site, store, tmp_path)


def test_records_list_the_scenario_then_what_only_discovery_knows(devices: Commissioning) -> None:
    records = devices.records()
    assert [(r.device_id, r.state) for r in records] == [
        ("ahu1", "Configured"), ("meter1", "Configured"), ("bacnet:2001", "Discovered"), ("bacnet:2002", "Discovered")]
    assert (records[0].objects, records[0].points, records[1].address) == (3, len(VAV.points), "127.0.0.1:1502")
    devices.online["ahu1"] = True
    assert devices.record("ahu1").online is True


@pytest.mark.parametrize(("asked", "expected"), [
    ("bacnet:2001", "bacnet:2001"), ("2001", "bacnet:2001"), ("ahu1", "ahu1")])
def test_a_device_by_any_of_its_names(devices: Commissioning, asked: str, expected: str) -> None:
    assert devices.record(asked).device_id == expected


def test_an_unknown_device_names_the_closest(devices: Commissioning) -> None:
    with pytest.raises(NotFound, match=r"unknown device 'ahu2' \(did you mean 'ahu1'\?\)"):
        devices.record("ahu2")


def test_only_discovered_devices_are_accepted_or_ignored(devices: Commissioning) -> None:
    for configured in ("ahu1", "bacnet:1001"):
        with pytest.raises(BmsError, match="already part of the site \\(configured in the scenario\\)"):
            devices.acceptable(configured)
    with pytest.raises(NotFound, match="run a discovery first"):
        devices.acceptable("bacnet:9")
    assert devices.ignore("2002").state == "Ignored"
    assert devices.acceptable("bacnet:2002").instance == 2002  # an ignored device may still be accepted


def test_accepting_makes_the_nodes_and_the_event_that_carries_them(devices: Commissioning) -> None:
    stored = devices.acceptable("bacnet:2001")
    with pytest.raises(BmsError, match="node 'ahu1' already exists"):
        devices.nodes_for(stored, profile=None, equip_id="ahu1", taken=())
    nodes = devices.nodes_for(stored, profile=None, equip_id=None, taken={"vav-1"})
    assert [n.id for n in nodes] == ["vav-1-2001", "vav-1-2001/zone_1_temp", "vav-1-2001/zone_2_temp",
                                     "vav-1-2001/zone_3_temp"]
    assert all(n.tags == tuple(sorted(set(n.tags))) for n in nodes)  # as the model store keeps them
    event = devices.accepted(stored, nodes, ts=5.0)
    assert (event.device_id, event.equip, event.points, event.ts) == ("bacnet:2001", nodes[0], tuple(nodes[1:]), 5.0)
    record = devices.record("vav-1-2001")  # the equipment id names the device now
    assert (record.device_id, record.state, record.points, record.reason) == (
        "bacnet:2001", "Accepted", 3, "equipment 'vav-1-2001'")
    with pytest.raises(BmsError, match="already part of the site"):
        devices.acceptable("bacnet:2001")
    with pytest.raises(BmsError, match="cannot be ignored"):
        devices.ignore("vav-1-2001")


def test_accepts_without_the_model_wait_for_it(tmp_path: Path, site: LoadedScenario, devices: Commissioning) -> None:
    record = devices.defer(devices.acceptable("2001"), "vav", "box1")
    assert record.state == "Accepted" and "nodes are created when the daemon next starts" in record.reason
    assert read_pending(tmp_path) == [PendingAccept(2001, "vav", "box1")]
    devices.defer(devices.acceptable("2002"), None, None)
    with DiscoveryStore(tmp_path / "discovery.db") as store:  # the daemon's next start
        daemon = Commissioning(site, store, tmp_path)
        daemon.know_model([Node(id="hq", type="Site", name="HQ")])
        assert [(s.instance, w) for s, w in daemon.waiting()] == [
            (2001, PendingAccept(2001, "vav", "box1")), (2002, PendingAccept(2002))]
        daemon.keep_waiting([PendingAccept(2002)])  # the first one was completed
        assert read_pending(tmp_path) == [PendingAccept(2002)]
        daemon.keep_waiting([])
        assert not (tmp_path / PENDING_NAME).exists()


def test_the_model_says_which_devices_are_accepted(tmp_path: Path, site: LoadedScenario,
                                                   devices: Commissioning) -> None:
    stored = devices.acceptable("2001")
    nodes = devices.nodes_for(stored, profile=None, equip_id="box1", taken=())
    devices.accepted(stored, nodes, ts=1.0)
    with DiscoveryStore(tmp_path / "discovery.db") as store:  # a restart: what the model holds
        again = Commissioning(site, store, tmp_path)
        again.know_model([Node(id="hq", type="Site", name="HQ"), *nodes])
        assert (again.equips, again.points) == ({"bacnet:2001": "box1"}, {"bacnet:2001": 3})
        assert again.waiting() == []
        assert again.record("box1").reason == "equipment 'box1'"
