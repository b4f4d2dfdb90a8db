"""BacnetClient against real bacpypes3 devices (the simulator) on loopback."""

from __future__ import annotations

import asyncio
import time

import msgspec
import pytest

from bms.bacnet import BacnetClient, BacnetRejected, CovNotification, IAmInfo
from bms.config import BacnetNetwork
from bms.errors import ConfigError, DeviceRejected, DeviceTimeout, ProtocolError, WriteRefused
from bms.sim.bacnet import BacnetSimulator, DeviceOptions, SimDevice
from tests.bms.bacnet.loopback import free_port, host, lan, network, profile, until

AHU, VAV = profile("ahu"), profile("vav")
AHU_ID, VAV_ID, OLD_ID = 1001, 1101, 1102
DEVICES = [
    SimDevice(AHU_ID, host(2), AHU),
    SimDevice(VAV_ID, host(3), VAV),
    SimDevice(OLD_ID, host(4), VAV, DeviceOptions(rpm=False, max_apdu=206, segmentation=False)),
]
AHU_POINTS = [
    ("ahu/oat", "analog-input,1", "present-value"),
    ("ahu/sat", "analog-input,2", "present-value"),
    ("ahu/fan_status", "binary-input,1", "present-value"),
    ("ahu/fan_cmd", "binary-output,1", "present-value"),
    ("ahu/fan_speed", "analog-output,1", "present-value"),
    ("ahu/sat_sp", "analog-value,1", "present-value"),
    ("ahu/units", "analog-input,1", "units"),
    ("ahu/name", "analog-input,2", "object-name"),
]


def test_who_is_finds_every_device_and_ranges() -> None:
    async def body() -> None:
        async with lan(DEVICES) as (sim, client):
            found = await client.who_is(timeout=0.3)
            assert [i.instance for i in found] == [AHU_ID, VAV_ID, OLD_ID]
            assert found[0] == IAmInfo(
                instance=AHU_ID, address=sim.address_of(AHU_ID), max_apdu=1476,
                segmentation="segmented-both", vendor_id=999,
            )
            assert found[2].max_apdu == 206 and found[2].segmentation == "no-segmentation"
            assert [i.instance for i in await client.who_is(1100, 1200, timeout=0.3)] == [VAV_ID, OLD_ID]
            single = await client.who_is(VAV_ID, VAV_ID, timeout=5.0)  # returns at the first answer
            assert [i.address for i in single] == [sim.address_of(VAV_ID)]
            direct = await client.who_is(address=host(2), timeout=5.0)
            assert [i.instance for i in direct] == [AHU_ID]
            assert await client.who_is(5000, 6000, timeout=0.2) == []
            with pytest.raises(ConfigError, match="both low and high"):
                await client.who_is(low=1)

    asyncio.run(body())


def test_read_points_in_one_rpm_with_per_point_faults() -> None:
    async def body() -> None:
        async with lan(DEVICES) as (sim, client):
            sim.set_value(AHU_ID, "analog-input,1", 31.7)
            address = sim.address_of(AHU_ID)
            requests = [*AHU_POINTS, ("ahu/ghost", "analog-input,99", "present-value"),
                        ("ahu/noprop", "binary-input,1", "units"), ("ahu/bad", "analog-inptu,1", "present-value")]
            samples = await client.read_points(address, requests)
            by_id = {s.point_id: s for s in samples}
            assert [s.point_id for s in samples] == [r[0] for r in requests]
            assert by_id["ahu/oat"].value == 31.7 and by_id["ahu/oat"].fault is None
            assert by_id["ahu/fan_cmd"].value is True and by_id["ahu/fan_status"].value is True
            assert by_id["ahu/fan_speed"].value == 60.0 and by_id["ahu/sat_sp"].value == 13.0
            assert by_id["ahu/units"].value == "degrees-celsius"
            assert by_id["ahu/name"].value == "Supply air temperature"
            assert by_id["ahu/ghost"].fault == "unknown-object" and by_id["ahu/ghost"].value is None
            assert by_id["ahu/noprop"].fault == "unknown-property"
            assert by_id["ahu/bad"].fault is not None and "analog-inptu" in by_id["ahu/bad"].fault
            state = client.device_state(address)
            assert state.rpm is True and state.rpm_requests == 1 and state.rp_requests == 0

    asyncio.run(body())


def test_many_points_are_chunked_to_a_small_device() -> None:
    async def body() -> None:
        small = SimDevice(2001, host(5), AHU, DeviceOptions(max_apdu=206, segmentation=False))
        async with lan([small]) as (sim, client):
            requests = [(f"p{i}", f"analog-input,{1 + i % 5}", "present-value") for i in range(60)]
            [i_am] = await client.who_is(2001, 2001, timeout=5.0)
            samples = await client.read_points(i_am.address, requests, i_am.max_apdu, i_am.segmentation)
            assert all(s.fault is None for s in samples)
            assert samples[0].value == samples[5].value == sim.value(2001, "analog-input,1")
            state = client.device_state(i_am.address)
            # 5 distinct properties, 24 references fit one request: one RPM
            assert state.rpm_requests == 1
            wanted = [(f"p{i}", f"analog-input,{i}", "present-value") for i in range(1, 6)] * 10
            readings = await client.read_readings(i_am.address, wanted)
            assert all(r.flags == () for r in readings)

    asyncio.run(body())


def test_device_without_rpm_is_read_property_by_property() -> None:
    async def body() -> None:
        async with lan(DEVICES) as (sim, client):
            address = sim.address_of(OLD_ID)
            sim.set_value(OLD_ID, "analog-input,1", 23.5)
            requests = [("z", "analog-input,1", "present-value"), ("sp", "analog-value,1", "present-value"),
                        ("ghost", "analog-input,42", "present-value")]
            first = await client.read_points(address, requests)
            assert [(s.value, s.fault) for s in first] == [(23.5, None), (22.0, None), (None, "unknown-object")]
            state = client.device_state(address)
            assert state.rpm is False and state.rpm_requests == 1 and state.rp_requests == 3
            await client.read_points(address, requests)
            assert state.rpm_requests == 1 and state.rp_requests == 6  # RPM is not tried again

    asyncio.run(body())


def test_status_flags_come_with_the_values() -> None:
    async def body() -> None:
        async with lan(DEVICES) as (sim, client):
            sim.set_fault(AHU_ID, "analog-input,1")
            sim.set_fault(AHU_ID, "analog-input,2")  # sat reports alarms: a fault is its event state too
            await until(lambda: sim.event_state(AHU_ID, "analog-input,2") == "fault", what="sat's fault event")
            readings = await client.read_readings(sim.address_of(AHU_ID), AHU_POINTS[:3])
            assert [r.flags for r in readings] == [("fault",), ("in-alarm", "fault"), ()]
            assert client.device_state(sim.address_of(AHU_ID)).rpm_requests == 1

    asyncio.run(body())


def test_write_priorities_and_relinquish() -> None:
    async def body() -> None:
        async with lan(DEVICES) as (sim, client):
            address, damper = sim.address_of(VAV_ID), "analog-output,1"
            await client.write(address, damper, 30.0, priority=8)
            assert await client.read_property(address, damper) == 30.0
            await client.write(address, damper, 75.0, priority=5)
            levels = await client.read_priority_array(address, damper)
            assert levels[4] == 75.0 and levels[7] == 30.0
            assert [v for i, v in enumerate(levels) if i not in (4, 7)] == [None] * 14
            assert await client.read_property(address, damper) == 75.0
            await client.write(address, damper, None, priority=5)
            assert await client.read_property(address, damper) == 30.0
            assert (await client.read_priority_array(address, damper))[4] is None
            await client.write(address, damper, None, priority=8)
            assert await client.read_property(address, damper) == 50.0  # relinquish default
            await client.write(sim.address_of(AHU_ID), "binary-output,1", False, priority=8)
            assert await client.read_property(sim.address_of(AHU_ID), "binary-output,1") is False
            assert sim.priority_array(AHU_ID, "binary-output,1")[7] is False

    asyncio.run(body())


@pytest.mark.parametrize(
    ("objid", "value", "code"),
    [
        ("analog-input,1", 5.0, "write-access-denied"),
        ("analog-output,77", 5.0, "unknown-object"),
        ("analog-output,1", 150.0, "value-out-of-range"),
    ],
)
def test_write_errors_name_the_bacnet_error(objid: str, value: float, code: str) -> None:
    async def body() -> None:
        async with lan(DEVICES[:1]) as (sim, client):
            with pytest.raises(BacnetRejected) as caught:
                await client.write(sim.address_of(AHU_ID), objid, value, priority=8)
            assert isinstance(caught.value, DeviceRejected)
            assert caught.value.kind == "error" and caught.value.error_code == code
            assert code in str(caught.value) and objid in str(caught.value)

    asyncio.run(body())


def test_bad_write_arguments_are_refused_before_sending() -> None:
    async def body() -> None:
        async with lan(DEVICES[:1]) as (sim, client):
            with pytest.raises(WriteRefused, match=r"priority must be 1\.\.16"):
                await client.write(sim.address_of(AHU_ID), "analog-output,1", 5.0, priority=17)
            with pytest.raises(WriteRefused, match="not a valid value"):
                await client.write(sim.address_of(AHU_ID), "binary-output,1", "maybe", priority=8)

    asyncio.run(body())


def test_read_errors_raise_for_single_reads() -> None:
    async def body() -> None:
        async with lan(DEVICES[:1]) as (sim, client):
            with pytest.raises(BacnetRejected) as caught:
                await client.read_property(sim.address_of(AHU_ID), "analog-value,9")
            assert caught.value.error_class == "object" and caught.value.error_code == "unknown-object"
            with pytest.raises(DeviceRejected, match="unknown-object"):
                await client.read_object_info(sim.address_of(AHU_ID), "analog-value,9")

    asyncio.run(body())


def test_offline_device_times_out_then_recovers_with_its_commands() -> None:
    async def body() -> None:
        async with lan(DEVICES, timeout=0.4, retries=1) as (sim, client):
            address = sim.address_of(VAV_ID)
            await client.write(address, "analog-output,1", 80.0, priority=8)
            await sim.set_offline(VAV_ID)
            started = time.monotonic()
            with pytest.raises(DeviceTimeout, match="no answer"):
                await client.read_points(address, [("z", "analog-input,1", "present-value")])
            assert time.monotonic() - started < 0.4 * 2 + 1.0
            with pytest.raises(DeviceTimeout):
                await client.write(address, "analog-output,1", 10.0, priority=8)
            assert await client.who_is(VAV_ID, VAV_ID, timeout=0.3) == []
            await sim.set_offline(VAV_ID, False)
            [sample] = await client.read_points(address, [("d", "analog-output,1", "present-value")])
            assert sample.value == 80.0
            assert (await client.read_priority_array(address, "analog-output,1"))[7] == 80.0

    asyncio.run(body())


def test_cov_notifications_arrive_and_renew() -> None:
    async def body() -> None:
        async with lan(DEVICES) as (sim, client):
            address = sim.address_of(AHU_ID)
            got: list[CovNotification] = []
            sub = await client.subscribe_cov(address, "analog-input,1", callback=got.append, lifetime=60)
            await until(lambda: len(got) >= 1, what="the initial notification")
            sim.set_value(AHU_ID, "analog-input,1", 35.5)
            await until(lambda: any(n.value == 35.5 for n in got), what="a notification of 35.5")
            note = got[-1]
            assert (note.objid, note.address, note.flags) == ("analog-input,1", address, ())
            assert 0 < note.time_remaining <= 60
            sim.set_value(AHU_ID, "analog-input,1", 35.55)  # below the 0.2 COV increment: no notification
            sim.set_value(AHU_ID, "analog-input,1", 36.0)
            await until(lambda: got[-1].value == 36.0, what="a notification of 36.0")
            assert [n.value for n in got].count(35.55) == 0
            assert (sub.active, client.subscriptions) == (True, [sub])
            await sub.cancel()
            assert (sub.active, client.subscriptions) == (False, [])

    asyncio.run(body())


def test_confirmed_cov_on_a_command_and_renewal() -> None:
    async def body() -> None:
        async with lan(DEVICES) as (sim, client):
            address = sim.address_of(VAV_ID)
            got: list[CovNotification] = []
            sub = await client.subscribe_cov(address, "analog-value,1", callback=got.append, confirmed=True, lifetime=1)
            await until(lambda: len(got) >= 1, what="the initial notification")
            await client.write(address, "analog-value,1", 24.0, priority=8)
            await until(lambda: got[-1].value == 24.0, what="a confirmed notification of 24.0")
            await until(lambda: sub.renewals >= 1, what="a renewal")
            assert sub.last_error is None
            await client.write(address, "analog-value,1", 25.0, priority=8)
            await until(lambda: got[-1].value == 25.0, what="a notification after renewal")

    asyncio.run(body())


def test_a_failing_callback_does_not_stop_the_client() -> None:
    async def body() -> None:
        async with lan(DEVICES[:1]) as (sim, client):
            calls: list[float] = []

            def explode(note: CovNotification) -> None:
                calls.append(1.0)
                raise RuntimeError("subscriber bug")

            await client.subscribe_cov(sim.address_of(AHU_ID), "analog-input,1", callback=explode)
            await until(lambda: calls, what="the callback")
            assert (await client.read_points(sim.address_of(AHU_ID), AHU_POINTS[:1]))[0].fault is None

    asyncio.run(body())


def test_object_list_too_big_for_one_answer_is_read_by_index() -> None:
    async def body() -> None:
        plain = SimDevice(3001, host(6), AHU, DeviceOptions(segmentation=False))
        async with lan([plain], client_max_apdu=50) as (sim, client):
            info = await client.read_device_info(sim.address_of(3001), 3001)
            assert info.name == "AHU-3001" and len(info.object_list) == 19  # device, port, 14 points, NC, calendar, schedule
            assert info.object_list[:3] == ("device,3001", "network-port,1", "analog-input,1")
            state = client.device_state(sim.address_of(3001))
            assert state.rpm_requests + state.rp_requests >= 13  # element by element

    asyncio.run(body())


def test_client_lifecycle_errors() -> None:
    async def body() -> None:
        client = BacnetClient()
        with pytest.raises(ProtocolError, match="not started"):
            await client.who_is()
        with pytest.raises(ConfigError, match="bad BACnet network address"):
            await BacnetClient(BacnetNetwork(address="not-an-address")).start()
        with pytest.raises(ConfigError, match="bad BACnet address"):
            client.address("nowhere.invalid:1")

    asyncio.run(body())


def test_foreign_device_registration_through_a_bbmd() -> None:
    async def body() -> None:
        sim = BacnetSimulator(DEVICES[:2], free_port(), interval=None, bbmd=host(9))
        await sim.start()
        try:
            net = msgspec.structs.replace(network(sim.device_port), bbmd=f"{host(9)}:{sim.device_port}", bbmd_ttl=30)
            async with BacnetClient(net) as client:
                # start() waited for the registration; the Who-Is goes to the BBMD, which distributes it
                found = [i.instance for i in await client.who_is(timeout=0.3)]
                assert found == [AHU_ID, VAV_ID, sim.bbmd_instance]
                assert (await client.read_points(sim.address_of(AHU_ID), AHU_POINTS[:1]))[0].fault is None
        finally:
            await sim.stop()

    asyncio.run(body())


@pytest.mark.parametrize(("raised", "says"), [
    ("InvalidTag('unsigned application tag expected')", "invalid tag: unsigned application tag expected"),
    ("UndefinedEnumeration()", "undefined enumeration"),
    ("SegmentationNotSupported()", "segmentation not supported"),
    ("DecodingError('no more packet data')", "no more packet data"),
    ("PropertyError('unknownProperty')", "unknown-property"),
    ("ServicesError('serviceRequestDenied')", "services: service-request-denied"),
])
def test_every_error_of_the_stack_is_translated_at_the_client_boundary(raised: str, says: str) -> None:
    import bacpypes3.errors as stack

    async def body() -> None:
        client = BacnetClient(network(free_port()))

        async def failing() -> None:
            raise eval(raised, vars(stack))  # the literal of the parameter above

        with pytest.raises(ProtocolError) as caught:
            await client.call("read-property-multiple", "127.0.0.2:47808", failing())
        assert str(caught.value) == f"127.0.0.2:47808: read-property-multiple failed: {says}"

    asyncio.run(body())

