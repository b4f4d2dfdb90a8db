"""A real Modbus TCP simulator on a free loopback port, shared by a test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from actors.components.sim_modbus import ModbusSimulatorThread
from bms.config import Profile, load_profile
from bms.sim.modbus import ModbusSimulator

PROFILES = Path(__file__).resolve().parents[3] / "conf" / "profiles"

METER, TEST, TEST_DCBA, SILENT, FAILING = 1, 2, 3, 7, 8


def profile(name: str) -> Profile:
    loaded, problems = load_profile(PROFILES / f"{name}.toml")
    assert loaded is not None, problems
    return loaded


@pytest.fixture(scope="module")
def sim() -> Iterator[ModbusSimulatorThread]:
    test = profile("modbus-test")
    units = {METER: profile("power-meter"), TEST: test, TEST_DCBA: test, SILENT: test, FAILING: test}
    handle = ModbusSimulatorThread(ModbusSimulator(units, orders={TEST_DCBA: "DCBA"}, interval=3600.0))
    try:
        yield handle
    finally:
        handle.stop()
