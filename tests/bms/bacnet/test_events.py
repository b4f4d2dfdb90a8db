"""Device alarms against the simulated AHU on loopback: event notifications, GetEventInformation, AcknowledgeAlarm."""

from __future__ import annotations

import asyncio

import pytest

from bms.bacnet import BacnetClient, BacnetRejected, EventNotice, parse_stamp, stamp_epoch, stamp_text
from bms.errors import ConfigError
from bms.sim.bacnet import BacnetSimulator, DeviceOptions, LimitReporting, SimDevice
from tests.bms.bacnet.loopback import host, lan, profile, until

AHU, VAV = profile("ahu"), profile("vav")
AHU_ID, VAV_ID, LIMITED_ID = 1501, 1502, 1503
SAT = "analog-input,2"
DEVICES = [
    SimDevice(AHU_ID, host(40), AHU),
    SimDevice(VAV_ID, host(41), VAV),
    # three reporting inputs and one notification class: GetEventInformation pages two at a time below
    SimDevice(LIMITED_ID, host(42), AHU, DeviceOptions(limits=(
        ("oat", LimitReporting(high_limit=40.0)), ("sat", LimitReporting(high_limit=28.0)),
        ("rat", LimitReporting(low_limit=5.0, deadband=0.5)),
    ))),
]


def _notices(client: BacnetClient) -> list[EventNotice]:
    got: list[EventNotice] = []
    client.on_event(got.append)
    return got


async def _raise(sim: BacnetSimulator, instance: int, objid: str, value: float) -> None:
    sim.set_value(instance, objid, value)


def test_a_joined_client_receives_the_ahus_high_limit_event_and_acknowledges_it() -> None:
    async def body() -> None:
        async with lan(DEVICES) as (sim, client):
            got = _notices(client)
            assert sim.recipients(AHU_ID) == []
            how = await client.join_recipients(host(40), "notification-class,1", process_id=7)
            assert how == "add-list-element"
            assert await client.join_recipients(host(40), "notification-class,1", process_id=7) == "add-list-element"
            ours = client.network.address.split("/")[0] + ":" + client.network.address.rsplit(":", 1)[1]
            assert sim.recipients(AHU_ID) == [ours]  # not twice

            sim.set_value(AHU_ID, SAT, 31.5)
            await until(lambda: got, what="the to-offnormal notification")
            (notice,) = got
            assert (notice.address, notice.device_instance, notice.objid) == (sim.address_of(AHU_ID), AHU_ID, SAT)
            assert (notice.from_state, notice.to_state, notice.event_type) == ("normal", "high-limit", "out-of-range")
            assert (notice.priority, notice.notification_class, notice.ack_required) == (100, 1, True)
            assert (notice.process_id, notice.confirmed, notice.notify_type) == (7, True, "alarm")
            assert notice.message == "Supply air temperature 31.5 above its high limit 28"
            assert stamp_epoch(notice.device_time) is not None
            assert sim.event_state(AHU_ID, SAT) == "high-limit"
            assert sim.acked_transitions(AHU_ID, SAT) == (False, True, True)

            (summary,) = await client.event_information(host(40))
            assert (summary.objid, summary.event_state, summary.acked) == (SAT, "high-limit", (False, True, True))
            assert summary.device_times[0] == notice.device_time and summary.priorities == (100, 60, 200)
            assert await client.event_information(host(41)) == []  # a VAV reports nothing

            with pytest.raises(BacnetRejected, match="invalid-time-stamp") as refused:
                await client.acknowledge_alarm(host(40), SAT, "high-limit", "2001-01-01T00:00:00.00")
            assert refused.value.error_code == "invalid-time-stamp"
            assert sim.acked_transitions(AHU_ID, SAT) == (False, True, True)
            await client.acknowledge_alarm(host(40), SAT, "high-limit", notice.device_time, source="ops")
            assert sim.acked_transitions(AHU_ID, SAT) == (True, True, True)
            (summary,) = await client.event_information(host(40))  # still active: still listed
            assert summary.acked == (True, True, True)

            sim.set_value(AHU_ID, SAT, 27.5)  # within the deadband: still high
            sim.set_value(AHU_ID, SAT, 26.0)
            await until(lambda: len(got) == 2, what="the to-normal notification")
            assert (got[1].from_state, got[1].to_state, got[1].priority) == ("high-limit", "normal", 200)
            assert sim.acked_transitions(AHU_ID, SAT) == (True, True, False)
            await client.acknowledge_alarm(host(40), SAT, "normal", got[1].device_time)
            assert await client.event_information(host(40)) == []

            with pytest.raises(BacnetRejected, match="unknown-object"):
                await client.acknowledge_alarm(host(40), "analog-input,77", "normal", got[1].device_time)
            with pytest.raises(BacnetRejected, match="no-alarm-configured"):
                await client.acknowledge_alarm(host(40), "analog-input,1", "normal", got[1].device_time)
            with pytest.raises(ConfigError, match="bad event state"):
                await client.acknowledge_alarm(host(40), SAT, "sideways", got[1].device_time)

    asyncio.run(body())


def test_event_information_follows_more_events_pages() -> None:
    async def body() -> None:
        async with lan(DEVICES) as (sim, client):
            app = sim._device(LIMITED_ID).app
            app.events_per_page = 2  # three events: two pages
            sim.set_value(LIMITED_ID, "analog-input,1", 45.0)
            sim.set_value(LIMITED_ID, SAT, 35.0)
            sim.set_value(LIMITED_ID, "analog-input,3", 2.0)
            await until(lambda: sim.event_state(LIMITED_ID, "analog-input,3") == "low-limit", what="three events")
            summaries = await client.event_information(host(42))
            assert [(s.objid, s.event_state) for s in summaries] == [
                ("analog-input,1", "high-limit"), (SAT, "high-limit"), ("analog-input,3", "low-limit")]
            assert client.device_state(host(42)) is not None
            # nobody joined: the device sent nothing, and says so in its list
            assert sim.recipients(LIMITED_ID) == []

    asyncio.run(body())


def test_joining_a_device_without_the_object_is_refused_with_the_bacnet_reason() -> None:
    async def body() -> None:
        async with lan(DEVICES) as (_sim, client):
            with pytest.raises(BacnetRejected, match="unknown-object"):
                await client.join_recipients(host(41), "notification-class,1")
            with pytest.raises(ConfigError, match="not a notification-class"):
                await client.join_recipients(host(40), "analog-input,1")

    asyncio.run(body())


@pytest.mark.parametrize("text", ["2026-12-03T13:50:01.25", "T07:05:00.00", "#12"])
def test_device_timestamps_round_trip_as_text(text: str) -> None:
    assert stamp_text(parse_stamp(text)) == text


@pytest.mark.parametrize("text", ["yesterday", "2026-13-03T13:50:01.25", "", "#"])
def test_a_bad_device_timestamp_names_itself(text: str) -> None:
    with pytest.raises(ConfigError, match="bad device timestamp"):
        parse_stamp(text)
