"""The Modbus simulator: the meter model, the served registers, fault injection, lifecycle."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bms.clock import ManualClock
from bms.config import ModbusBinding, PointSpec, Profile, load_profile
from bms.errors import ProtocolError
from bms.modbus import ExceptionReply, ModbusDeviceSession, TcpLink, plan_reads
from bms.sim._meter import PowerMeter, load_fraction
from bms.sim.modbus import ModbusSimulator

T = TypeVar("T")
PROFILES = Path(__file__).resolve().parents[3] / "conf" / "profiles"
NOON_MONDAY = 1_700_438_400.0 + 12 * 3600  # 2023-11-20 12:00 UTC
MIDNIGHT_MONDAY = 1_700_438_400.0


def profile(name: str) -> Profile:
    loaded, problems = load_profile(PROFILES / f"{name}.toml")
    assert loaded is not None, problems
    return loaded


def serve(sim: ModbusSimulator, body: Callable[[ModbusSimulator], Awaitable[T]]) -> T:
    """Start ``sim`` in a fresh loop, run ``body``, always stop it."""

    async def main() -> T:
        await sim.start()
        try:
            return await body(sim)
        finally:
            await sim.stop()

    return asyncio.run(main())


def session(sim: ModbusSimulator, unit: int = 1, **kw: Any) -> ModbusDeviceSession:
    return ModbusDeviceSession(TcpLink(sim.host, sim.port), unit, **{"timeout": 1.0, "retries": 0, **kw})


def meter_plan() -> Any:
    return plan_reads([(p.key, p.modbus) for p in profile("power-meter").points if p.modbus])


# ------------------------------------------------------------------ model


def test_the_load_curve_is_an_office_day() -> None:
    assert load_fraction(3.0) < 0.01
    assert load_fraction(10.0) > 0.9
    assert load_fraction(12.5) < load_fraction(10.0)  # lunch dip
    assert load_fraction(23.0) < 0.05
    assert load_fraction(10.0, weekend=True) == pytest.approx(load_fraction(10.0) * 0.25)


def test_the_meter_is_deterministic() -> None:
    a, b = PowerMeter(seed=3), PowerMeter(seed=3)
    for t in (NOON_MONDAY, NOON_MONDAY + 1, NOON_MONDAY + 60):
        a.step(t)
        b.step(t)
        assert a.values() == b.values()
    other = PowerMeter(seed=4)
    other.step(NOON_MONDAY + 60)
    assert other.values()["kw_total"] != a.values()["kw_total"]


def test_power_follows_the_time_of_day() -> None:
    meter = PowerMeter(peak_kw=200.0, base_kw=40.0, noise=0.0)
    meter.step(MIDNIGHT_MONDAY + 3 * 3600)
    night = meter.values()["kw_total"]
    meter.step(NOON_MONDAY - 2 * 3600)
    day = meter.values()["kw_total"]
    assert night == pytest.approx(40.0, abs=2.0)
    assert day == pytest.approx(200.0, rel=0.05)


def test_energy_integrates_power() -> None:
    meter = PowerMeter(peak_kw=100.0, base_kw=100.0, noise=0.0, energy_kwh=1000.0)
    for minute in range(61):
        meter.step(NOON_MONDAY + 60 * minute)
    assert meter.values()["kwh_import"] == pytest.approx(1100.0)


def test_electrical_values_are_consistent() -> None:
    meter = PowerMeter(noise=0.0)
    meter.step(NOON_MONDAY)
    v = meter.values()
    power = sum(float(v[f"voltage_l{i}"]) * float(v[f"current_l{i}"]) for i in (1, 2, 3)) * float(v["pf_total"]) / 1000
    assert power == pytest.approx(float(v["kw_total"]), rel=1e-6)
    assert 0.8 <= float(v["pf_total"]) <= 0.99
    assert 49.9 < float(v["frequency"]) < 50.1


def test_the_demand_limit_sheds_load() -> None:
    meter = PowerMeter(peak_kw=200.0, noise=0.0)
    meter.set_input("demand_limit", 120.0)
    meter.step(NOON_MONDAY)
    assert meter.values()["kw_total"] == 120.0
    assert meter.values()["status_over_demand"] is True


# ------------------------------------------------------------- the server


def test_units_answer_on_a_free_port_with_their_identity() -> None:
    sim = ModbusSimulator({1: profile("power-meter"), 2: profile("modbus-test")}, interval=3600.0)

    async def body(sim: ModbusSimulator) -> list[Any]:
        out = []
        for unit in (1, 2):
            s = session(sim, unit)
            out.append(await s.identify())
            s.close()
        return out

    meter, test = serve(sim, body)
    assert (meter.vendor, meter.product_code) == ("bms", "PM-3100")
    assert test.product_code == "MB-TEST"


def test_a_given_port_is_used() -> None:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]
    sim = ModbusSimulator({1: profile("power-meter")}, port=port, interval=3600.0)
    assert serve(sim, lambda s: asyncio.sleep(0, s.port)) == port


def test_the_model_drives_the_registers_on_the_simulator_clock() -> None:
    clock = ManualClock(NOON_MONDAY)
    sim = ModbusSimulator({1: profile("power-meter")}, interval=3600.0, clock=clock.now,
                          models={1: PowerMeter(peak_kw=150.0, base_kw=150.0, noise=0.0, energy_kwh=5000.0)})

    async def body(sim: ModbusSimulator) -> tuple[dict[str, Any], dict[str, Any]]:
        s = session(sim)
        first = {x.point_id: x.value for x in await s.poll(meter_plan())}
        clock.advance(3600.0)
        await sim.refresh()
        second = {x.point_id: x.value for x in await s.poll(meter_plan())}
        s.close()
        return first, second

    first, second = serve(sim, body)
    assert first["kw_total"] == pytest.approx(150.0)
    assert first["kwh_import"] == pytest.approx(5000.0)
    assert second["kwh_import"] == pytest.approx(5150.0)


def test_written_setpoints_are_kept_and_feed_the_model() -> None:
    clock = ManualClock(NOON_MONDAY)
    sim = ModbusSimulator({1: profile("power-meter")}, interval=3600.0, clock=clock.now,
                          models={1: PowerMeter(peak_kw=200.0, noise=0.0)})
    points = {p.key: p for p in profile("power-meter").points}

    def write(key: str) -> Callable[[ModbusDeviceSession, Any], Awaitable[Any]]:
        modbus = points[key].modbus
        assert modbus is not None
        return lambda s, value: s.write(key, modbus, value)

    async def body(sim: ModbusSimulator) -> dict[str, Any]:
        s = session(sim)
        await write("demand_limit")(s, 90.0)
        await write("ct_primary")(s, 1200)
        clock.advance(1.0)
        await sim.refresh()
        values = {x.point_id: x.value for x in await s.poll(meter_plan())}
        s.close()
        return values

    values = serve(sim, body)
    assert values["demand_limit"] == 90.0
    assert values["ct_primary"] == 1200
    assert values["kw_total"] == pytest.approx(90.0)
    assert values["status_over_demand"] is True


class StepRecorder:
    """A model that only records when it is stepped."""

    inputs: frozenset[str] = frozenset()

    def __init__(self) -> None:
        self.steps: list[float] = []
        self.stepped = asyncio.Event()

    def set_input(self, key: str, value: Any) -> None:
        raise AssertionError("no inputs")

    def step(self, now: float) -> None:
        self.steps.append(now)
        self.stepped.set()

    def values(self) -> dict[str, Any]:
        return {}


def test_the_refresh_task_steps_the_model_on_its_interval() -> None:
    async def main() -> list[float]:
        recorder = StepRecorder()
        sim = ModbusSimulator({1: profile("power-meter")}, interval=0.01, clock=iter(range(100)).__next__,
                              models={1: recorder})
        await sim.start()
        try:
            assert recorder.steps == [0]  # stepped once before serving
            while len(recorder.steps) < 3:
                recorder.stepped.clear()
                await asyncio.wait_for(recorder.stepped.wait(), 5.0)
        finally:
            await sim.stop()
        return recorder.steps

    assert asyncio.run(main())[:3] == [0, 1, 2]


def test_writes_outside_writable_points_are_refused() -> None:
    spec = Profile(name="p", protocol="modbus", points=[
        PointSpec(key="ro", name="read only", modbus=ModbusBinding(table="holding", address=10)),
        PointSpec(key="rw", name="setpoint", writable=True, modbus=ModbusBinding(table="holding", address=11)),
        PointSpec(key="lamp", name="lamp", kind="bool", modbus=ModbusBinding(table="coil", address=3)),
    ])
    sim = ModbusSimulator({1: spec}, interval=3600.0)

    async def body(sim: ModbusSimulator) -> list[Any]:
        s = session(sim)
        out: list[Any] = [await s.write("rw", ModbusBinding(table="holding", address=11), 5)]
        for binding in (ModbusBinding(table="holding", address=10), ModbusBinding(table="coil", address=3),
                        ModbusBinding(table="holding", address=10, type="uint32")):
            with pytest.raises(ExceptionReply) as caught:
                await s.write("x", binding, 1)
            out.append(caught.value.code)
        out.append(await s.read("holding", 10, 2))
        with pytest.raises(ExceptionReply) as absent:  # no discrete inputs in this profile
            await s.read("discrete", 0, 1)
        out.append(absent.value.code)
        s.close()
        return out

    assert serve(sim, body) == [5, 2, 2, 2, [0, 5], 2]


def test_silent_and_failing_units() -> None:
    sim = ModbusSimulator({1: profile("power-meter"), 2: profile("power-meter")}, interval=3600.0)

    async def body(sim: ModbusSimulator) -> list[Any]:
        sim.set_silent(1)
        sim.set_failing(2)
        out: list[Any] = []
        for unit in (1, 2, 9):
            s = session(sim, unit, timeout=0.2)
            try:
                await s.read("holding", 200, 1)
            except ProtocolError as err:
                out.append(type(err).__name__ + ":" + str(getattr(err, "code", "")))
            s.close()
        sim.set_silent(1, False)
        sim.set_failing(2, False)
        for unit in (1, 2):
            s = session(sim, unit)
            out.append(await s.read("holding", 200, 2) != [])
            s.close()
        return out

    assert serve(sim, body) == ["DeviceTimeout:", "ExceptionReply:4", "ExceptionReply:4", True, True]
    assert sim.requests[(9, 3)] == 1


@pytest.mark.parametrize("units", [{}, {0: None}, {248: None}])
def test_bad_unit_ids_are_refused(units: dict[int, Any]) -> None:
    with pytest.raises(ValueError):
        ModbusSimulator({u: profile("power-meter") for u in units})
