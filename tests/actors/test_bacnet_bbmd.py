"""Discovery and polling through a BBMD: bms on another subnet than its devices, as a foreign device."""

from __future__ import annotations

import asyncio

import msgspec

from actors.components.bacnet._poller import NetworkPoller
from actors.components.bacnet._targets import DeviceTarget, PointTarget
from bms.bacnet import BacnetClient, discover
from bms.clock import ManualClock
from bms.logs import get_logger
from bms.messages import SampleBatch
from bms.sim.bacnet import BacnetSimulator, SimDevice
from tests.bms.bacnet.loopback import free_port, host, network, profile, until

AHU_ID, VAV_ID = 1001, 1101
DEVICES = [SimDevice(AHU_ID, host(2), profile("ahu")), SimDevice(VAV_ID, host(3), profile("vav"))]


def test_discovery_and_polling_through_a_bbmd() -> None:
    """bms on another subnet than its devices: registered as a foreign device, it discovers and polls them."""
    async def body() -> None:
        sim = BacnetSimulator(DEVICES[:2], free_port(), interval=None, bbmd=host(9))
        await sim.start()
        got: list[SampleBatch] = []
        try:
            net = msgspec.structs.replace(network(sim.device_port), bbmd=f"{host(9)}:{sim.device_port}", bbmd_ttl=30)
            async with BacnetClient(net) as client:
                found = await discover(client, timeout=0.3)
                assert [(d.instance, d.name, d.error, len(d.objects)) for d in found] == [
                    (AHU_ID, "AHU-1001", None, 18), (VAV_ID, "VAV-1101", None, 6), (sim.bbmd_instance,
                                                                                     f"BBMD-{sim.bbmd_instance}", None, 1)]
            poller = NetworkPoller("bacnet.far", "far", net, ManualClock(), publish=lambda m: got.append(m) or 1,
                                   report=lambda *_: None, log=get_logger("test"))
            await poller.start()
            try:
                poller.add(DeviceTarget("ahu1", sim.address_of(AHU_ID), AHU_ID, 1.0,
                                        (PointTarget("ahu1/sat_sp", "analog-value,1"),)))
                poller.tick()
                await until(lambda: any(isinstance(m, SampleBatch) for m in got), what="a poll through the BBMD")
            finally:
                await poller.stop()
            [batch] = [m for m in got if isinstance(m, SampleBatch)]
            assert [(s.point_id, s.value, s.fault) for s in batch.all_samples()] == [("ahu1/sat_sp", 13.0, None)]
        finally:
            await sim.stop()

    asyncio.run(body())
