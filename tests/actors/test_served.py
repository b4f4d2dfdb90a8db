"""Simulators (plain async servers of bms.sim) served from a thread of their own by the actor layer."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import pytest

from actors.components.sim_bacnet import BacnetSimulatorThread
from actors.components.sim_modbus import ModbusSimulatorThread
from bms.bacnet import BacnetClient
from bms.config import ModbusBinding
from bms.errors import ProtocolError
from bms.modbus import ModbusDeviceSession, TcpLink, plan_reads
from bms.sim.bacnet import BacnetSimulator
from bms.sim.modbus import ModbusSimulator
from tests.bms.bacnet.loopback import free_port, host, network
from tests.bms.bacnet.loopback import profile as bacnet_profile
from tests.bms.sim.test_modbus_sim import profile

AHU, VAV = bacnet_profile("ahu"), bacnet_profile("vav")


def test_a_modbus_simulator_serves_from_its_thread() -> None:
    handle = ModbusSimulatorThread(ModbusSimulator({1: profile("modbus-test")}, interval=3600.0))
    with handle:
        port = handle.port
        handle.set_point(1, "in_float", 2.5)
        assert handle.read_point(1, "in_float") == 2.5

        async def read() -> Any:
            s = ModbusDeviceSession(TcpLink("127.0.0.1", port), 1, timeout=1.0)
            try:
                point = ModbusBinding(table="input", address=300, type="float32", order="CDAB")
                return (await s.poll(plan_reads([("f", point)])))[0].value
            finally:
                s.close()

        assert asyncio.run(read()) == 2.5
    assert not handle.simulator.running

    async def refused() -> None:
        s = ModbusDeviceSession(TcpLink("127.0.0.1", port), 1, timeout=0.5)
        with pytest.raises(ProtocolError, match="cannot connect"):
            await s.read("input", 300, 2)

    asyncio.run(refused())


def test_a_modbus_simulator_that_cannot_listen_says_why() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(RuntimeError, match="failed to start"):
            ModbusSimulatorThread(ModbusSimulator({1: profile("power-meter")}, port=taken.getsockname()[1]))


def test_a_bacnet_simulator_serves_from_its_thread() -> None:
    sim = BacnetSimulator([(1001, host(2), AHU), (1101, host(3), VAV)], free_port(), interval=None)
    handle = BacnetSimulatorThread(sim)
    try:
        assert handle.simulator is sim
        handle.set_value(1101, "analog-input,1", 26.5)
        assert handle.value(1101, "analog-input,1") == 26.5

        async def read() -> object:
            async with BacnetClient(network(sim.device_port)) as client:
                return (await client.read_points(sim.address_of(1101), [("t", "analog-input,1", "present-value")]))[0].value

        assert asyncio.run(read()) == 26.5
        handle.step_now(60.0)
        handle.run(lambda: sim.rename(1101, "analog-input,1", "Office temperature"))
        handle.set_offline(1101)
        handle.set_offline(1101, False)
        assert asyncio.run(read()) == 26.5
        assert handle.call(lambda: asyncio.sleep(0, result="on the loop")) == "on the loop"
    finally:
        handle.stop()
    assert not any(t.name == "bacnet-sim" for t in threading.enumerate())
