"""Discovery against real devices, and the discovery store across re-discoveries."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
import pytest

from bms.bacnet import DiscoveredDevice, DiscoveryStore, ObjectInfo, discover
from bms.config import BacnetBinding, PointSpec, Profile
from bms.errors import ConfigError, NotFound, SchemaTooNew, StoreError
from bms.sim.bacnet import DeviceOptions, SimDevice
from bms.store import open_database
from tests.bms.bacnet.loopback import host, lan, profile

AHU, VAV = profile("ahu"), profile("vav")
DEVICES = [
    SimDevice(1001, host(2), AHU, DeviceOptions(name="AHU-1")),
    SimDevice(1101, host(3), VAV, DeviceOptions(name="VAV-101")),
    SimDevice(1102, host(4), VAV, DeviceOptions(name="VAV-102", rpm=False, max_apdu=206, segmentation=False)),
]


def test_discover_finds_devices_objects_units_and_commandability(tmp_path: Path) -> None:
    steps: list[tuple[str, int, int]] = []

    async def body() -> list[DiscoveredDevice]:
        async with lan(DEVICES) as (_, client):
            return await discover(client, timeout=0.3, progress=lambda *step: steps.append(step))

    found = asyncio.run(body())
    assert [(d.instance, d.name, d.error) for d in found] == [
        (1001, "AHU-1", None), (1101, "VAV-101", None), (1102, "VAV-102", None),
    ]
    ahu = found[0]
    assert (ahu.vendor, ahu.model, ahu.vendor_id, ahu.max_apdu) == ("bms", "SIM-AHU", 999, 1476)
    assert found[2].max_apdu == 206 and found[2].segmentation == "no-segmentation"
    objects = {o.objid: o for o in ahu.objects}
    assert len(objects) == 18 and "device,1001" not in objects  # 14 points, the port, the alarms' class, 2 calendars
    oat = objects["analog-input,1"]
    assert (oat.name, oat.units, oat.unit, oat.commandable, oat.kind, oat.description) == (
        "Outdoor air temperature", 62, "°C", False, "number", "oat",
    )
    assert (objects["analog-output,1"].unit, objects["analog-output,1"].commandable) == ("%", True)
    assert objects["analog-value,1"].commandable and objects["binary-output,1"].commandable
    assert objects["binary-input,1"].kind == "bool" and objects["binary-input,1"].value is True
    assert objects["analog-input,5"].unit == "L/s"
    # the device without RPM gives the same answers
    assert [(o.objid, o.unit, o.commandable) for o in found[2].objects] == [
        (o.objid, o.unit, o.commandable) for o in found[1].objects
    ]
    assert steps[:2] == [("who-is", 0, 1), ("who-is", 1, 1)]
    assert steps[2:5] == [("device 1001", 0, 1), ("device 1101", 0, 1), ("device 1102", 0, 1)]  # all found, first
    last = {task: (done, total) for task, done, total in steps}
    assert last == {"who-is": (1, 1), "device 1001": (19, 19), "device 1101": (7, 7), "device 1102": (7, 7)}


def test_store_keeps_state_and_notes_changes_across_rediscovery(tmp_path: Path) -> None:
    path = tmp_path / "discovery.db"

    async def body() -> None:
        async with lan(DEVICES[:2]) as (sim, client):
            with DiscoveryStore(path) as store:
                first = store.save_many(await discover(client, timeout=0.3))
                assert [(c.instance, c.outcome) for c in first] == [(1001, "new"), (1101, "new")]
                assert "analog-input,1" in first[0].added
                store.accept(1001)
                store.ignore(1101)
                sim.rename(1001, "device,1001", "AHU-1 (plant room)")
                sim.rename(1001, "analog-input,2", "Discharge air temperature")
                again = store.save_many(await discover(client, timeout=0.3))
                unchanged = {c.instance: c for c in again}
                assert unchanged[1101].outcome == "unchanged" and unchanged[1101].changes == ()
                changed = unchanged[1001]
                assert changed.outcome == "changed"
                assert "name: 'AHU-1' -> 'AHU-1 (plant room)'" in changed.changes
                assert "analog-input,2 name: 'Supply air temperature' -> 'Discharge air temperature'" in changed.changes
                device = store.get(1001)
                assert (device.state, device.name, device.objects) == ("Accepted", "AHU-1 (plant room)", 18)
                assert device.changes == changed.changes and device.first_seen < device.last_seen
                assert store.get(1101).state == "Ignored"
                await sim.set_offline(1101)
                assert store.save_many(await discover(client, 1101, 1101, timeout=0.2)) == []
                assert store.get(1101).name == "VAV-101"  # a silent device is not forgotten

    asyncio.run(body())
    with DiscoveryStore(path) as store:  # reopened: everything is still there
        assert [d.instance for d in store.devices()] == [1001, 1101]
        assert [d.instance for d in store.devices("Accepted")] == [1001]
        names = {o.objid: o.name for o in store.objects(1001)}
        assert names["analog-input,2"] == "Discharge air temperature"
        assert store.history(1001)[0][1].startswith("name: ")
        record = store.get(1001).record("ahu1", online=True)
        assert (record.device_id, record.state, record.objects, record.protocol) == ("ahu1", "Accepted", 18, "bacnet")


def _device(instance: int, seen: float, *objects: ObjectInfo, **fields: object) -> DiscoveredDevice:
    base = DiscoveredDevice(instance=instance, address="127.0.0.2:47808", max_apdu=1476, segmentation="segmented-both",
                            seen=seen, name="VAV-1", objects=objects)
    return msgspec.structs.replace(base, **fields)


def test_store_notes_objects_added_removed_and_changed(tmp_path: Path) -> None:
    temp = ObjectInfo(objid="analog-input,1", name="Zone temp", units=62, unit="°C", kind="number")
    flow = ObjectInfo(objid="analog-input,2", name="Airflow", units=87, unit="L/s", kind="number")
    damper = ObjectInfo(objid="analog-output,1", name="Damper", units=98, unit="%", commandable=True, kind="number")
    with DiscoveryStore(tmp_path / "discovery.db") as store:
        assert store.save(_device(7, 100.0, temp, flow)).outcome == "new"
        result = store.save(_device(7, 200.0, msgspec.structs.replace(temp, units=64, unit="°F"), damper))
        assert result.outcome == "changed"
        assert result.added == ("analog-output,1",) and result.removed == ("analog-input,2",)
        assert "analog-input,1 units: 62 -> 64" in result.changes
        assert "objects removed: analog-input,2" in result.changes
        assert [o.objid for o in store.objects(7)] == ["analog-input,1", "analog-output,1"]
        assert store.objects(7)[1].commandable is True and store.objects(7)[0].unit == "°F"
        # answered I-Am but could not be read: name and objects stay, the error is recorded
        broken = store.save(_device(7, 300.0, name="", error="no answer to read-property-multiple"))
        assert broken.outcome == "unchanged"
        kept = store.get(7)
        assert (kept.name, kept.objects, kept.error, kept.last_seen) == ("VAV-1", 2, "no answer to read-property-multiple", 300.0)
        assert store.save(_device(7, 400.0, msgspec.structs.replace(temp, units=64, unit="°F"), damper)).outcome == "unchanged"
        assert store.get(7).error is None
        with pytest.raises(ConfigError, match="Discovered, Accepted, Ignored"):
            store.set_state(7, "Maybe")
        with pytest.raises(NotFound):
            store.accept(99)
        store.forget(7)
        assert store.devices() == [] and store.history(7) == []


def test_store_refuses_newer_and_foreign_files(tmp_path: Path) -> None:
    path = tmp_path / "discovery.db"
    DiscoveryStore(path).close()
    open_database(path, "discovery", ["SELECT 1"] * 4).dispose()  # a newer bms migrated it (this one knows 3)
    with pytest.raises(SchemaTooNew):
        DiscoveryStore(path)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match=r"junk\.db"):
        DiscoveryStore(junk)


def test_a_device_that_encodes_properties_wrongly_is_discovered_with_them_unreadable(tmp_path: Path) -> None:
    """priority-array[0] as a REAL, inactive-text as Null, property-is-not-an-array: as real devices did."""
    plain = Profile(name="plain", protocol="bacnet", points=[
        PointSpec(key="limit", name="Limit", kind="number", bacnet=BacnetBinding(object="analog-value,9"))])
    devices = [
        SimDevice(1001, host(2), AHU, DeviceOptions(name="AHU-1", malformed=("priority-array-real", "inactive-text-null"))),
        SimDevice(1101, host(3), VAV, DeviceOptions(name="VAV-101")),
        SimDevice(1201, host(4), plain, DeviceOptions(name="PLAIN", malformed=("not-an-array",))),
    ]

    async def body() -> list[DiscoveredDevice]:
        async with lan(devices) as (_, client):
            return await discover(client, timeout=0.3)

    ahu, vav, odd = asyncio.run(body())
    assert (ahu.error, vav.error, odd.error, len(ahu.objects), len(vav.objects)) == (None, None, None, 18, 6)
    objects = {o.objid: o for o in ahu.objects}
    setpoint = objects["analog-value,1"]  # commandable: its priority-array[0] came as a REAL
    assert (setpoint.unit, setpoint.error, setpoint.value) == ("°C", None, 13.0)
    assert setpoint.unreadable == (
        "priority-array[0]: cannot decode priority-array: unsigned application tag expected",)
    assert setpoint.commandable  # a priority array there is, however badly it is told
    fan = objects["binary-input,1"]
    assert fan.unreadable == ("inactive-text: cannot decode inactive-text: character string application tag expected",)
    assert (fan.states, fan.kind, fan.value) == ((), "bool", True)
    assert all(not o.unreadable for o in vav.objects)
    limit = next(o for o in odd.objects if o.objid == "analog-value,9")  # not-an-array: there is no priority array
    assert (limit.objid, limit.commandable, limit.unreadable, limit.error) == ("analog-value,9", False, (), None)
    with DiscoveryStore(tmp_path / "discovery.db") as store:
        store.save_many([ahu, vav, odd])
        stored = {o.objid: o for o in store.objects(1001)}
        assert len(stored) == 18 and len(store.objects(1101)) == 6
        assert stored["analog-value,1"].unreadable == setpoint.unreadable and stored["analog-input,1"].unreadable == ()
