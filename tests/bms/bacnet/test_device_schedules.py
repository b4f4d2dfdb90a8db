"""Pull, edit and push of the simulated AHU's Schedule object, read back by a separate BACnet client."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import msgspec
import pytest

from bms.bacnet import BacnetClient, BacnetRejected
from bms.bacnet._schedules import read_device_schedules, write_device_schedule
from bms.errors import WriteRefused
from bms.schedules import Easter, Relative, ScheduleException, TimeValue, Yearly
from bms.sim.bacnet import BacnetSimulator, SimDevice
from tests.bms.bacnet.loopback import free_port, host, network, profile

ZONE = ZoneInfo("Europe/London")
AHU = 3501
POINTS = {"binary-output,1": "ahu1/fan_cmd"}


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


def test_pull_edit_push_and_a_separate_client_reads_it_back() -> None:
    now = [dt.datetime(2026, 12, 5, 10, 0, tzinfo=ZONE)]  # a Saturday: the office week is closed

    async def scenario() -> None:
        sim = BacnetSimulator([SimDevice(AHU, host(50), profile("ahu"))], free_port(), interval=None,
                              clock=lambda: now[0])
        await sim.start()
        try:
            async with BacnetClient(network(sim.device_port)) as client:
                objects = await client.read_object_list(host(50), AHU)
                calendar, held = await read_device_schedules(client, host(50), "ahu1", objects, points=POINTS)
                assert (calendar.object_id, calendar.name) == ("calendar,1", "Holidays")
                assert Relative(month=11, weekday="thu", nth=4) in calendar.dates
                assert held.object_id == "schedule,1" and held.references == ["ahu1/fan_cmd"]
                assert held.schedule is not None and held.schedule.default is False
                assert held.schedule.weekly["mon"] == [TimeValue(at="07:00", value=True),
                                                       TimeValue(at="18:00", value=False)]
                assert "sat" not in held.schedule.weekly
                christmas = held.schedule.exceptions[0]
                assert (christmas.when, christmas.priority) == (Yearly(month=12, day=25), 10)
                assert {ex.name for ex in held.schedule.exceptions[1:]} == {"Holidays (calendar,1)"}
                assert held.present_value is False and sim.schedule_value(AHU, "schedule,1") is False

                edited = msgspec.structs.replace(held.schedule, weekly={
                    **held.schedule.weekly, "sat": [TimeValue(at="09:00", value=True), TimeValue(at="13:00", value=False)]},
                    exceptions=[*held.schedule.exceptions, ScheduleException(
                        name="stocktake", when=Yearly(month=12, day=5), program=[TimeValue(at="08:00", value=True)],
                        priority=5)])
                written = await write_device_schedule(client, host(50), "ahu1", "schedule,1", schedule=edited,
                                                      points=POINTS)
                assert written.schedule is not None and written.schedule.weekly["sat"] == edited.weekly["sat"]

            async with BacnetClient(network(sim.device_port)) as other:  # another client, another port
                objects = await other.read_object_list(host(50), AHU)
                _, again = await read_device_schedules(other, host(50), "ahu1", objects)
                assert again.schedule is not None
                assert again.schedule.weekly == edited.weekly
                assert [(e.when, e.program, e.priority) for e in again.schedule.exceptions] == [
                    (e.when, e.program, e.priority) for e in edited.exceptions]
                assert again.references == ["binary-output,1/present-value"]
                assert again.present_value is True  # 10:00 on 5 December: the stocktake exception, at once
                assert sim.schedule_value(AHU, "schedule,1") is True
                now[0] = dt.datetime(2026, 12, 7, 6, 59, tzinfo=ZONE)  # Monday before opening
                sim.step_now(1.0)
                assert sim.schedule_value(AHU, "schedule,1") is False
                now[0] = dt.datetime(2026, 12, 7, 7, 0, tzinfo=ZONE)
                sim.step_now(1.0)
                assert sim.schedule_value(AHU, "schedule,1") is True
        finally:
            await sim.stop()

    run(scenario())


def test_what_the_device_cannot_hold_is_refused_and_nothing_is_written() -> None:
    async def scenario() -> None:
        sim = BacnetSimulator([SimDevice(AHU, host(51), profile("ahu"))], free_port(), interval=None)
        await sim.start()
        try:
            async with BacnetClient(network(sim.device_port)) as client:
                objects = await client.read_object_list(host(51), AHU)
                _, held = await read_device_schedules(client, host(51), "ahu1", objects)
                assert held.schedule is not None
                easter = msgspec.structs.replace(held.schedule, exceptions=[
                    ScheduleException(name="Good Friday", when=Easter(offset=-2))])
                with pytest.raises(WriteRefused, match=r"ahu1 schedule,1 exception 'Good Friday'.*Easter"):
                    await write_device_schedule(client, host(51), "ahu1", "schedule,1", schedule=easter)
                assert len(sim.schedule(AHU, "schedule,1").exceptions) == len(held.schedule.exceptions)
                with pytest.raises(BacnetRejected, match="unknown-object"):
                    await write_device_schedule(client, host(51), "ahu1", "schedule,9", schedule=held.schedule)
        finally:
            await sim.stop()

    run(scenario())
