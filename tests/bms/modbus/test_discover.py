"""probe(): which unit ids answer at an address, and who they are."""

from __future__ import annotations

import asyncio

from actors.components.sim_modbus import ModbusSimulatorThread
from bms.config import ModbusBinding, PointSpec, Profile
from bms.modbus import ProbeResult, probe
from bms.sim.modbus import ModbusSimulator
from tests.bms.modbus.conftest import FAILING, METER, SILENT, TEST


def test_probe_finds_the_served_units(sim: ModbusSimulatorThread) -> None:
    sim.simulator.set_silent(SILENT)
    try:
        found = asyncio.run(probe(sim.host, sim.port, [METER, TEST, 5, SILENT, FAILING, 200], timeout=0.2))
    finally:
        sim.simulator.set_silent(SILENT, False)
    assert [r.unit_id for r in found] == [METER, TEST, FAILING]
    refused = ("holding 0: exception 2 (illegal data address)", "input 0: exception 2 (illegal data address)")
    assert found[0] == ProbeResult(METER, (), refused, True, "bms", "PM-3100", "0.1.0")
    assert found[0].identification == "bms PM-3100 0.1.0"
    assert found[1].product_code == "MB-TEST"


def test_a_failing_unit_is_absent(sim: ModbusSimulatorThread) -> None:
    sim.simulator.set_failing(FAILING)
    try:
        found = asyncio.run(probe(sim.host, sim.port, [FAILING, TEST], timeout=0.5))
    finally:
        sim.simulator.set_failing(FAILING, False)
    assert [r.unit_id for r in found] == [TEST]


PLAIN = Profile(name="plain", protocol="modbus", vendor="acme", model="X1", points=[
    PointSpec(key="sp", name="Setpoint", writable=True, modbus=ModbusBinding(table="holding", address=0, type="int16"))])


def test_a_unit_missing_a_probe_register_or_fc43_is_present_and_says_what_answered() -> None:
    steps: list[tuple[int, int, int]] = []
    with ModbusSimulatorThread(ModbusSimulator({1: PLAIN, 2: PLAIN}, "127.0.0.1", 0, unidentified=[2])) as sim:
        found = asyncio.run(probe(sim.host, sim.port, [1, 2, 3], timeout=0.3,
                                  progress=lambda *step: steps.append(step)))
    no_input = ("input 0: exception 2 (illegal data address)",)
    assert found == [ProbeResult(1, ("holding 0",), no_input, True, "acme", "X1", "0.1.0"),
                     ProbeResult(2, ("holding 0",), no_input)]
    assert (found[0].identification, found[1].identification) == ("acme X1 0.1.0", "no identification")
    assert found[1].registers == "holding 0 answered; input 0: exception 2 (illegal data address)"
    assert steps == [(1, 3, 1), (2, 3, 2), (3, 3, 2)]  # unit ids tried, of how many, answered so far
