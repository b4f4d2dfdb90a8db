"""probe(): which unit ids answer at an address, and who they are."""

from __future__ import annotations

import asyncio

from actors.components.sim_modbus import ModbusSimulatorThread
from bms.modbus import ProbeResult, probe
from tests.bms.modbus.conftest import FAILING, METER, SILENT, TEST


def test_probe_finds_the_served_units(sim: ModbusSimulatorThread) -> None:
    sim.simulator.set_silent(SILENT)
    try:
        found = asyncio.run(probe(sim.host, sim.port, [METER, TEST, 5, SILENT, FAILING, 200], timeout=0.2))
    finally:
        sim.simulator.set_silent(SILENT, False)
    assert [r.unit_id for r in found] == [METER, TEST, FAILING]
    assert found[0] == ProbeResult(METER, "exception 2 (illegal data address)", "bms", "PM-3100", "0.1.0")
    assert found[1].product_code == "MB-TEST"


def test_a_failing_unit_is_absent(sim: ModbusSimulatorThread) -> None:
    sim.simulator.set_failing(FAILING)
    try:
        found = asyncio.run(probe(sim.host, sim.port, [FAILING, TEST], timeout=0.5))
    finally:
        sim.simulator.set_failing(FAILING, False)
    assert [r.unit_id for r in found] == [TEST]
