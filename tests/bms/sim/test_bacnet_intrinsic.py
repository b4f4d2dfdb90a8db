"""The simulated AHU's intrinsic alarm: its supply air crosses the high limit as the model drives it."""

from __future__ import annotations

import asyncio

import pytest
from bacpypes3.apdu import RemoveListElementRequest
from bacpypes3.basetypes import Destination
from bacpypes3.constructeddata import Any as AnyValue
from bacpypes3.constructeddata import ListOf

from bms.bacnet import BacnetClient, BacnetRejected, EventNotice, parse_object_id
from bms.errors import NotFound
from bms.sim.bacnet import BacnetSimulator, SimDevice
from tests.bms.bacnet.loopback import host, lan, profile, until

AHU, VAV = profile("ahu"), profile("vav")
AHU_ID, VAV_ID = 1701, 1702
SAT, CLG_VALVE, OA_DAMPER = "analog-input,2", "analog-output,3", "analog-output,2"
DEVICES = [SimDevice(AHU_ID, host(60), AHU), SimDevice(VAV_ID, host(61), VAV)]


async def _step_until(sim: BacnetSimulator, state: str, what: str) -> None:
    for _ in range(60):  # at most an hour of model time, a minute a step
        sim.step_now(60.0)
        await asyncio.sleep(0)  # the event algorithm runs on the loop
        await asyncio.sleep(0)
        if sim.event_state(AHU_ID, SAT) == state:
            return
    raise AssertionError(f"supply air never reached {state}: {what}")


def test_closing_the_cooling_valve_raises_the_ahus_high_limit_alarm_and_opening_it_clears_it() -> None:
    async def body() -> None:
        async with lan(DEVICES) as (sim, client):
            got: list[EventNotice] = []
            client.on_event(got.append)
            await client.join_recipients(host(60), "notification-class,1", confirmed=False)
            assert sim.event_state(AHU_ID, SAT) == "normal" and float(sim.value(AHU_ID, SAT) or 0) < 28.0
            sim.set_value(AHU_ID, CLG_VALVE, 0.0)  # no cooling, all outdoor air on a 28 °C noon
            sim.set_value(AHU_ID, OA_DAMPER, 100.0)
            await _step_until(sim, "high-limit", "with the valve shut")
            assert float(sim.value(AHU_ID, SAT) or 0) > 28.0
            await until(lambda: got, what="the unconfirmed notification")
            assert (got[0].to_state, got[0].confirmed, got[0].event_type) == ("high-limit", False, "out-of-range")
            sim.set_value(AHU_ID, CLG_VALVE, 100.0)
            await _step_until(sim, "normal", "with the valve open")
            assert float(sim.value(AHU_ID, SAT) or 99) < 27.0  # below the limit less the deadband
            await until(lambda: len(got) == 2, what="the return to normal")
            assert sim.acked_transitions(AHU_ID, SAT) == (False, True, False)  # nobody acknowledged either

    asyncio.run(body())


def test_the_recipient_list_survives_going_offline_and_a_restart_and_can_be_left() -> None:
    async def body() -> None:
        async with lan(DEVICES) as (sim, client):
            await client.join_recipients(host(60), "notification-class,1", process_id=3)
            await sim.set_offline(AHU_ID)
            await sim.set_offline(AHU_ID, False)
            await sim.restart(AHU_ID)
            (ours,) = sim.recipients(AHU_ID)
            assert ours.endswith(client.network.address.rsplit(":", 1)[1])
            await _remove(client, host(60), client.recipient(3))
            assert sim.recipients(AHU_ID) == []
            with pytest.raises(BacnetRejected, match="list-element-not-found"):
                await _remove(client, host(60), client.recipient(3))
            with pytest.raises(NotFound, match="does not report alarms"):
                sim.acked_transitions(AHU_ID, "analog-input,1")
            assert sim.recipients(VAV_ID) == []  # a VAV reports nothing: no notification class

    asyncio.run(body())


async def _remove(client: BacnetClient, address: str, entry: Destination) -> None:
    text, addr = client.address(address)
    request = RemoveListElementRequest(
        destination=addr, objectIdentifier=client.io.identifier(parse_object_id("notification-class,1")),
        propertyIdentifier="recipientList", listOfElements=AnyValue(ListOf(Destination)([entry])),
    )
    await client.call("remove-list-element", text, client.application().request(request))
