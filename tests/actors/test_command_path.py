"""The one command model, through to a real device: point store -> Modbus bridge -> simulator.

The bundled power-meter profile on a pymodbus simulator (127.0.0.1, a free
port): its ``demand_limit`` setpoint is writable with a guard (10..500 kW,
6 writes a minute) and a relinquish default of 250 kW.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors import ChildSpec, Context
from actors.components.api import StreamHub
from actors.components.api._gateway import ActorGateway
from actors.components.history import HistoryStore
from actors.components.modbus import ModbusBridge
from actors.components.nodes import ModelStore
from actors.components.points import PointStore
from actors.components.sim_modbus import ModbusSimulatorThread
from bms.config import LoadedScenario, ModbusDevice, ModbusNetwork, Scenario, SiteSpec, load_profile
from bms.errors import WriteRefused
from bms.messages import GetPoint, RelinquishPoint, WriteAccepted, WritePoint
from bms.sim.modbus import ModbusSimulator
from tests.conftest import ROOT, wait_until

PROFILE, _ = load_profile(ROOT / "conf/profiles/power-meter.toml")
assert PROFILE is not None


@pytest.fixture
def meter() -> Iterator[ModbusSimulatorThread]:
    with ModbusSimulatorThread(ModbusSimulator({1: PROFILE}, "127.0.0.1", 0)) as sim:
        yield sim


@pytest.fixture
def points(ctx: Context, meter: ModbusSimulatorThread) -> Iterator[object]:
    device = ModbusDevice(id="meter1", profile="power-meter", host="127.0.0.1", port=meter.port,
                          unit_id=1, poll_interval=1.0)
    site = LoadedScenario(Path("site.toml"), Scenario(site=SiteSpec(id="s", name="S"), devices=[device]),
                          {"power-meter": PROFILE})  # type: ignore[dict-item]
    specs = [
        ChildSpec("nodes", ModelStore, kwargs={"site": site}),
        ChildSpec("history", HistoryStore),
        ChildSpec("points", PointStore),
        ChildSpec("modbus.default", ModbusBridge, kwargs={
            "network": "default", "spec": ModbusNetwork(), "devices": ((device, PROFILE),)}),
    ]
    for spec in specs:
        assert ctx.supervisor.start_child(spec) is not None, spec.name
    yield ctx.registry.get("points")


def value(points: object, point_id: str) -> object:
    return points.ask(GetPoint(point_id=point_id)).value  # type: ignore[attr-defined]


def test_a_write_reaches_the_device_and_relinquish_restores_the_default(points: object, meter: ModbusSimulatorThread) -> None:
    # the first poll first: on the manual clock it carries the same time as the read-back, and would undo it
    wait_until(lambda: value(points, "meter1/demand_limit") == 250.0, what="the first poll")
    points.ask(WritePoint(point_id="meter1/demand_limit", value=320.0, priority=8))  # type: ignore[attr-defined]
    wait_until(lambda: meter.read_point(1, "demand_limit") == 320.0, what="the register written")
    wait_until(lambda: value(points, "meter1/demand_limit") == 320.0, what="the read-back in the point store")
    points.ask(RelinquishPoint(point_id="meter1/demand_limit", priority=8))  # type: ignore[attr-defined]
    wait_until(lambda: meter.read_point(1, "demand_limit") == 250.0, what="the relinquish default written")


def test_a_write_refused_by_a_guard_never_reaches_the_device(points: object, meter: ModbusSimulatorThread,
                                                             ctx: Context) -> None:
    wait_until(lambda: value(points, "meter1/demand_limit") == 250.0, what="the first poll")
    bridge = ctx.registry.get("modbus.default").proxy()
    writes_before = sum(n for (_unit, fc), n in meter.simulator.requests.items() if fc in (6, 16))
    with pytest.raises(WriteRefused, match=r"above maximum 500 \(guard max\)"):
        points.ask(WritePoint(point_id="meter1/demand_limit", value=900.0))  # type: ignore[attr-defined]
    with pytest.raises(WriteRefused, match="read-only"):
        points.ask(WritePoint(point_id="meter1/kw_total", value=1.0))  # type: ignore[attr-defined]
    bridge.devices.get()  # the bridge has handled everything sent to it before this ask
    assert sum(n for (_unit, fc), n in meter.simulator.requests.items() if fc in (6, 16)) == writes_before
    assert meter.read_point(1, "demand_limit") == 250.0
    assert value(points, "meter1/demand_limit") == 250.0


def test_a_writer_that_waits_gets_the_devices_answer(points: object, meter: ModbusSimulatorThread, ctx: Context,
                                                    tmp_path: Path) -> None:
    """Through the API's gateway: the read-back of a write the meter took, and why one it could not take failed."""
    assert ctx.supervisor.start_child(ChildSpec("stream", StreamHub)) is not None
    wait_until(lambda: value(points, "meter1/demand_limit") == 250.0, what="the first poll")
    gateway = ActorGateway(ctx, tmp_path / "history.db")

    async def write(v: float, wait: float) -> WriteAccepted:
        return await gateway.write(WritePoint(point_id="meter1/demand_limit", value=v, priority=8), wait=wait)

    try:
        took = asyncio.run(write(320.0, 5.0))
        assert took.request_id is not None and took.device is not None
        assert (took.device.ok, took.device.readback, took.device.request_id) == (True, 320.0, took.request_id)
        assert asyncio.run(write(330.0, 0.0)).device is None  # no wait: the priority array's answer only
        meter.simulator.set_silent(1)
        try:
            lost = asyncio.run(write(340.0, 5.0))
        finally:
            meter.simulator.set_silent(1, False)
        assert lost.device is not None and not lost.device.ok
        assert "no reply" in lost.device.error and lost.effective == 340.0  # the command is kept
    finally:
        gateway.shutdown()
