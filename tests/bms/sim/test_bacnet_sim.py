"""The BACnet simulator: its thermal model alone, and its devices through a real client."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from bms.bacnet import BacnetRejected, CovNotification, discover, restart_evidence
from bms.config import Profile
from bms.errors import ConfigError, NotFound
from bms.sim._thermal import AirHandler, ThermalModel, VavBox
from bms.sim.bacnet import BacnetSimulator
from tests.bms.bacnet.loopback import free_port, host, lan, profile, until

AHU, VAV = profile("ahu"), profile("vav")


def plant(damper: float = 50.0) -> tuple[ThermalModel, AirHandler, VavBox]:
    model = ThermalModel()
    ahu = model.add_ahu("ahu")
    vav = model.add_vav("vav")
    vav.set_input("damper", damper)
    return model, ahu, vav


# ------------------------------------------------------------------ the model


def test_model_is_deterministic_and_independent_of_step_size() -> None:
    one, _, _ = plant()
    many, _, _ = plant()
    one.step(600.0)
    for _ in range(120):
        many.step(5.0)
    assert [e.values() for _, e in one.equipment()] == [e.values() for _, e in many.equipment()]
    assert one.time == many.time == 12 * 3600 + 600


def test_zone_temperature_follows_the_damper_over_minutes() -> None:
    open_model, _, open_vav = plant(damper=100.0)
    shut_model, _, shut_vav = plant(damper=0.0)
    start = open_vav.zone_temp
    open_model.step(10.0)
    assert abs(open_vav.zone_temp - start) < 0.2  # not instantaneous
    open_model.step(890.0)
    shut_model.step(900.0)
    assert open_vav.zone_temp < start - 1.0  # cooled by supply air within 15 minutes
    assert shut_vav.zone_temp > start  # no air: the zone warms
    assert open_vav.airflow == pytest.approx(400 * 0.6, rel=0.01)  # damper 100 %, fan at 60 %
    assert shut_vav.airflow == pytest.approx(0.0, abs=0.01)


def test_air_handler_mixes_cools_and_stops() -> None:
    model, ahu, vav = plant()
    model.step(600.0)
    assert min(ahu.rat, ahu.oat) <= ahu.mat <= max(ahu.rat, ahu.oat)
    assert ahu.sat < ahu.mat - 4.0  # coil at 50 %
    assert ahu.values()["fan_status"] is True and ahu.sa_flow == pytest.approx(vav.airflow)
    ahu.set_input("fan_cmd", False)
    model.step(1800.0)
    values = ahu.values()
    assert values["fan_status"] is False and values["sa_flow"] == pytest.approx(0.0, abs=0.1)
    assert abs(ahu.sat - ahu.rat) < 2.0  # drifting back to room temperature
    ahu.set_input("fan_cmd", True)
    ahu.fan_failed = True
    model.step(5.0)
    assert ahu.values()["fan_status"] is False  # commanded on, not running


def test_outdoor_air_is_warmest_mid_afternoon() -> None:
    model = ThermalModel(outdoor_mean=20.0, outdoor_swing=5.0)
    assert model.outdoor(15 * 3600) == pytest.approx(25.0)
    assert model.outdoor(3 * 3600) == pytest.approx(15.0)
    with pytest.raises(KeyError, match="no input 'oat'"):
        model.add_ahu("a").set_input("oat", 1.0)
    with pytest.raises(ValueError, match="dt must be >= 0"):
        model.step(-1.0)


# ------------------------------------------------------------------ the devices


def test_model_drives_the_devices_and_commands_drive_the_model() -> None:
    async def body() -> None:
        async with lan([(1001, host(2), AHU), (1101, host(3), VAV)]) as (sim, client):
            vav = sim.address_of(1101)
            before = (await client.read_points(vav, [("t", "analog-input,1", "present-value")]))[0].value
            await client.write(vav, "analog-output,1", 100.0, priority=8)
            sim.step_now(900.0)
            points = [("t", "analog-input,1", "present-value"), ("f", "analog-input,2", "present-value"),
                      ("d", "analog-input,3", "present-value")]
            temp, flow, dat = (s.value for s in await client.read_points(vav, points))
            assert isinstance(temp, float) and isinstance(before, float) and temp < before - 1.0
            assert flow == pytest.approx(240.0, rel=0.02)
            assert isinstance(dat, float) and dat < temp
            ahu_flow = (await client.read_points(sim.address_of(1001), [("q", "analog-input,5", "present-value")]))[0]
            assert ahu_flow.value == pytest.approx(flow, rel=0.02)
            assert sim.value(1101, "analog-input,1") == temp

    asyncio.run(body())


def test_set_value_holds_until_released_and_model_changes_notify() -> None:
    async def body() -> None:
        async with lan([(1001, host(2), AHU), (1101, host(3), VAV)]) as (sim, client):
            got: list[CovNotification] = []
            await client.subscribe_cov(sim.address_of(1101), "analog-input,1", callback=got.append)
            await until(lambda: got, what="the initial notification")
            sim.set_value(1101, "analog-input,1", 30.0)
            sim.step_now(600.0)
            assert sim.value(1101, "analog-input,1") == 30.0
            await until(lambda: got[-1].value == 30.0, what="30.0")
            sim.release(1101, "analog-input,1")
            sim.step_now(5.0)
            assert sim.value(1101, "analog-input,1") != 30.0
            await until(lambda: got[-1].value != 30.0, what="a model-driven notification")
            sim.set_value(1101, "analog-output,1", 10.0)  # commandable: the relinquish default
            assert sim.value(1101, "analog-output,1") == 10.0 and sim.priority_array(1101, "analog-output,1") == [None] * 16

    asyncio.run(body())


def test_background_stepping_moves_values() -> None:
    async def body() -> None:
        sim = BacnetSimulator([(1101, host(3), VAV)], free_port(), interval=0.02, speed=600.0)
        await sim.start()
        try:
            start = sim.value(1101, "analog-input,2")
            await until(lambda: sim.value(1101, "analog-input,2") != start, what="the model to step")
        finally:
            await sim.stop()
        assert not sim.running

    asyncio.run(body())


MIXED = msgspec.convert(
    {
        "name": "mixed", "protocol": "bacnet", "equip": "test",
        "points": [
            {"key": "mode", "name": "Mode", "kind": "enum", "states": ["off", "heat", "cool"], "writable": True,
             "relinquish_default": 1, "guard": {"min": 1, "max": 3}, "bacnet": {"object": "multi-state-value,1"}},
            {"key": "alarm", "name": "Filter alarm", "kind": "bool", "bacnet": {"object": "binary-input,1"}},
            {"key": "enable", "name": "Enable", "kind": "bool", "writable": True, "bacnet": {"object": "binary-value,1"}},
            {"key": "stage", "name": "Stage", "kind": "enum", "states": ["a", "b"], "bacnet": {"object": "multi-state-input,1"}},
            {"key": "flow", "name": "Flow", "unit": "m³/h", "bacnet": {"object": "analog-value,1"}},
        ],
    },
    Profile,
)


def test_multi_state_and_binary_objects() -> None:
    async def body() -> None:
        async with lan([(4001, host(7), MIXED)]) as (sim, client):
            [device] = await discover(client, 4001, 4001, timeout=5.0)
            objects = {o.objid: o for o in device.objects}
            mode = objects["multi-state-value,1"]
            assert (mode.states, mode.commandable, mode.kind, mode.value) == (("off", "heat", "cool"), True, "enum", 1)
            assert objects["binary-value,1"].commandable and not objects["binary-input,1"].commandable
            assert objects["multi-state-input,1"].states == ("a", "b")
            assert (objects["analog-value,1"].unit, objects["analog-value,1"].commandable) == ("m³/h", False)
            address = sim.address_of(4001)
            await client.write(address, "multi-state-value,1", 3, priority=8)
            await client.write(address, "binary-value,1", True, priority=8)
            assert [s.value for s in await client.read_points(
                address, [("m", "multi-state-value,1", "present-value"), ("e", "binary-value,1", "present-value")]
            )] == [3, True]
            with pytest.raises(BacnetRejected, match="value-out-of-range"):
                await client.write(address, "multi-state-value,1", 4, priority=8)
            with pytest.raises(BacnetRejected, match="write-access-denied"):
                await client.write(address, "binary-input,1", True, priority=8)
            got: list[CovNotification] = []
            await client.subscribe_cov(address, "multi-state-input,1", callback=got.append)
            sim.set_value(4001, "multi-state-input,1", 2)
            await until(lambda: got and got[-1].value == 2, what="a multi-state notification")

    asyncio.run(body())


def test_configuration_mistakes() -> None:
    with pytest.raises(ConfigError, match="used twice"):
        BacnetSimulator([(1, host(2), VAV), (1, host(3), VAV)])
    bad = msgspec.convert(
        {"name": "bad", "protocol": "bacnet", "points": [{"key": "s", "name": "S", "bacnet": {"object": "schedule,1"}}]},
        Profile,
    )

    async def body() -> None:
        sim = BacnetSimulator([(5, host(8), bad)], free_port(), interval=None)
        with pytest.raises(ConfigError, match="cannot serve a schedule"):
            await sim.start()
        ok = BacnetSimulator([(6, host(9), VAV)], free_port(), interval=None)
        await ok.start()
        try:
            with pytest.raises(RuntimeError, match="already started"):
                await ok.start()
            with pytest.raises(NotFound, match="no simulated BACnet device 7"):
                ok.value(7, "analog-input,1")
            with pytest.raises(NotFound, match="has no object analog-input,9"):
                ok.value(6, "analog-input,9")
        finally:
            await ok.stop()

    asyncio.run(body())


def test_a_restarted_device_forgets_its_commands_and_says_when_it_restarted() -> None:
    async def body() -> None:
        async with lan([(1101, host(3), VAV)]) as (sim, client):
            vav = sim.address_of(1101)
            before = await client.read_device_status(vav, 1101)
            assert before.system_status == "operational" and before.database_revision == 1
            assert before.restarted_at and before.restart_reason == "coldstart"
            await client.write(vav, "analog-output,1", 100.0, priority=8)
            await sim.set_offline(1101)
            await sim.set_offline(1101, False)
            assert sim.priority_array(1101, "analog-output,1")[7] == 100.0  # offline and back: commands intact
            assert await client.read_device_status(vav, 1101) == before
            await sim.restart(1101, reason="warmstart")
            assert sim.priority_array(1101, "analog-output,1") == [None] * 16  # a power cycle: all forgotten
            after = await client.read_device_status(vav, 1101)
            assert after.restarted_at != before.restarted_at and after.restart_reason == "warmstart"
            assert restart_evidence(before, after).startswith("time-of-device-restart ")

    asyncio.run(body())
