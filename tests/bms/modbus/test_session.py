"""ModbusDeviceSession against the real simulator over loopback: round trips, faults, timeouts."""

from __future__ import annotations

import asyncio
import math
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from actors.components.sim_modbus import ModbusSimulatorThread
from bms.config import ModbusBinding, PointSpec
from bms.errors import DeviceRejected, DeviceTimeout, ProtocolError, WriteRefused
from bms.modbus import (
    DeviceIdentity,
    EncodeError,
    ExceptionReply,
    ModbusConnection,
    ModbusDeviceSession,
    RegisterPayload,
    TcpLink,
    plan_reads,
    unpack_registers,
)
from tests.bms.modbus.conftest import FAILING, METER, SILENT, TEST, TEST_DCBA, profile

T = TypeVar("T")
TEST_POINTS: dict[str, PointSpec] = {p.key: p for p in profile("modbus-test").points}
ROUND_TRIP_VALUES: dict[str, list[Any]] = {
    "int16": [-32768, 32767, -12345, 0],
    "uint16": [0, 65535, 0x1234],
    "int32": [-(2**31), 2**31 - 1, -123456789],
    "uint32": [2**32 - 1, 3_000_000_000],
    "int64": [-(2**63), 2**63 - 1, -1234567890123456789],
    "uint64": [2**64 - 1, 18_000_000_000_000_000_000],
    "float32": [-1234.5, 1.0e-3, 3.0e38],
    "float64": [math.pi, -1.0e300, 5e-324],
}
TYPED = [k for k in TEST_POINTS if k.split("_")[0] in ROUND_TRIP_VALUES and k.split("_")[1] in ("abcd", "cdab", "badc", "dcba")]


def run(sim: ModbusSimulatorThread, body: Callable[[ModbusDeviceSession], Awaitable[T]], unit: int = TEST, **kw: Any) -> T:
    """Run ``body(session)`` in a fresh event loop with a session on ``unit``."""

    async def main() -> T:
        session = ModbusDeviceSession(TcpLink(sim.host, sim.port), unit, **{"timeout": 1.0, "retries": 0, **kw})
        try:
            return await body(session)
        finally:
            session.close()

    return asyncio.run(main())


def binding(key: str) -> ModbusBinding:
    found = TEST_POINTS[key].modbus
    assert found is not None
    return found


def test_every_type_and_order_is_covered() -> None:
    assert len(TYPED) == 32


@pytest.mark.parametrize("key", TYPED)
def test_every_type_and_byte_order_round_trips(sim: ModbusSimulatorThread, key: str) -> None:
    values = ROUND_TRIP_VALUES[key.split("_")[0]]
    plan = plan_reads([(f"t/{key}", binding(key))])

    async def body(session: ModbusDeviceSession) -> list[tuple[Any, Any, Any]]:
        seen = []
        for value in values:
            readback = await session.write(f"t/{key}", binding(key), value)
            (sample,) = await session.poll(plan)
            seen.append((value, readback, sample.value))
        return seen

    for value, readback, polled in run(sim, body):
        expected = pytest.approx(value, rel=1e-7) if key.startswith("float32") else value
        assert readback == expected
        assert polled == expected
        assert type(polled) is type(value)
    assert sim.read_point(TEST, key) == readback


def test_registers_on_the_wire_follow_the_byte_order(sim: ModbusSimulatorThread) -> None:
    async def body(session: ModbusDeviceSession) -> list[list[int] | list[bool]]:
        out = []
        for order in ("abcd", "cdab", "badc", "dcba"):
            key = f"int32_{order}"
            await session.write(key, binding(key), 0x12345678)
            out.append(await session.read("holding", binding(key).address, 2))
        return out

    assert run(sim, body) == [[0x1234, 0x5678], [0x5678, 0x1234], [0x3412, 0x7856], [0x7856, 0x3412]]


def test_bits_bools_and_scaled_points_round_trip(sim: ModbusSimulatorThread) -> None:
    async def body(session: ModbusDeviceSession) -> tuple[Any, ...]:
        await session.write("t/flags_bit0", binding("flags_bit0"), False)
        await session.write("t/flags_bit3", binding("flags_bit3"), True)
        bit0 = await session.write("t/flags_bit0", binding("flags_bit0"), True)
        word = await session.read("holding", binding("flags_bit0").address, 1)
        cleared = await session.write("t/flags_bit3", binding("flags_bit3"), False)
        word_after = await session.read("holding", binding("flags_bit0").address, 1)
        flag = await session.write("t/bool_reg", binding("bool_reg"), True)
        temp = await session.write("t/scaled_int16", binding("scaled_int16"), 21.7)
        energy = await session.write("t/scaled_uint32", binding("scaled_uint32"), 123456.78)
        return bit0, word, cleared, word_after, flag, temp, energy

    bit0, word, cleared, word_after, flag, temp, energy = run(sim, body)
    assert (bit0, word, cleared, word_after, flag) == (True, [0x0009], False, [0x0001], True)
    assert temp == pytest.approx(21.7)
    assert energy == pytest.approx(123456.78)


def test_coils_use_fc5_or_fc15(sim: ModbusSimulatorThread) -> None:
    before = dict(sim.simulator.requests)
    assert run(sim, lambda s: s.write("t/coil_a", binding("coil_a"), True)) is True
    assert run(sim, lambda s: s.write("t/coil_b", binding("coil_b"), True), single_write=False) is True
    assert run(sim, lambda s: s.write("t/coil_c", binding("coil_c"), 1)) is True
    counts = {k: v - before.get(k, 0) for k, v in sim.simulator.requests.items()}
    assert counts.get((TEST, 5)) == 2
    assert counts.get((TEST, 15)) == 1
    plan = plan_reads([(k, binding(k)) for k in ("coil_a", "coil_b", "coil_c")])
    assert [s.value for s in run(sim, lambda s: s.poll(plan))] == [True, True, True]
    assert run(sim, lambda s: s.write("t/coil_b", binding("coil_b"), False)) is False


def test_registers_use_fc6_or_fc16(sim: ModbusSimulatorThread) -> None:
    before = dict(sim.simulator.requests)
    run(sim, lambda s: s.write("t/uint16_abcd", binding("uint16_abcd"), 7))
    run(sim, lambda s: s.write("t/uint16_abcd", binding("uint16_abcd"), 8), single_write=False)
    run(sim, lambda s: s.write("t/float32_abcd", binding("float32_abcd"), 8.5))
    counts = {k: v - before.get(k, 0) for k, v in sim.simulator.requests.items()}
    assert (counts.get((TEST, 6)), counts.get((TEST, 16))) == (1, 2)


def test_discrete_and_input_points_read_what_the_device_holds(sim: ModbusSimulatorThread) -> None:
    sim.set_point(TEST, "di_b", True)
    sim.set_point(TEST, "in_float", 12.25)
    sim.set_point(TEST, "in_int16", -300)
    plan = plan_reads([(k, binding(k)) for k in ("di_a", "di_b", "in_float", "in_int16")])
    assert [(s.point_id, s.value) for s in run(sim, lambda s: s.poll(plan))] == [
        ("di_a", False), ("di_b", True), ("in_float", 12.25), ("in_int16", -300),
    ]


def test_the_device_order_applies_to_points_without_their_own(sim: ModbusSimulatorThread) -> None:
    sim.set_point(TEST_DCBA, "scaled_uint32", 1000.0)  # the simulator lays this unit out DCBA
    plan = plan_reads([("e", binding("scaled_uint32"))])
    assert run(sim, lambda s: s.poll(plan), unit=TEST_DCBA, device_order="DCBA")[0].value == pytest.approx(1000.0)
    assert run(sim, lambda s: s.poll(plan), unit=TEST_DCBA)[0].value != pytest.approx(1000.0)


def test_samples_carry_the_injected_clock(sim: ModbusSimulatorThread) -> None:
    plan = plan_reads([("a", binding("uint16_abcd")), ("c", binding("coil_a"))])
    samples = run(sim, lambda s: s.poll(plan), now=lambda: 1234.5)
    assert [s.ts for s in samples] == [1234.5, 1234.5]


def test_the_meter_polls_in_two_requests(sim: ModbusSimulatorThread) -> None:
    meter = profile("power-meter")
    plan = plan_reads([(f"meter1/{p.key}", p.modbus) for p in meter.points if p.modbus])
    before = dict(sim.simulator.requests)
    samples = {s.point_id: s for s in run(sim, lambda s: s.poll(plan), unit=METER)}
    counts = {k: v - before.get(k, 0) for k, v in sim.simulator.requests.items() if v != before.get(k, 0)}
    assert counts == {(METER, 3): 1, (METER, 4): 1}
    assert set(samples) == {f"meter1/{p.key}" for p in meter.points}
    assert all(s.fault is None for s in samples.values())
    assert 200 < float(samples["meter1/voltage_l1"].value or 0) < 260
    assert samples["meter1/status_ok"].value is True
    assert samples["meter1/demand_limit"].value == 250.0


# ------------------------------------------------------------------- faults


def test_exception_2_faults_only_its_block(sim: ModbusSimulatorThread) -> None:
    plan = plan_reads([("t/nothing", ModbusBinding(table="holding", address=20)), ("t/ok", binding("uint16_abcd"))])
    gone, ok = run(sim, lambda s: s.poll(plan))
    assert gone.value is None
    assert gone.fault == "exception 2 (illegal data address) reading holding 20..20"
    assert ok.fault is None and isinstance(ok.value, int)


def test_exception_4_faults_every_block(sim: ModbusSimulatorThread) -> None:
    plan = plan_reads([(k, binding(k)) for k in ("uint16_abcd", "coil_a", "in_int16")])
    sim.simulator.set_failing(FAILING)
    try:
        samples = run(sim, lambda s: s.poll(plan), unit=FAILING)
    finally:
        sim.simulator.set_failing(FAILING, False)
    assert [s.fault for s in samples] == [
        "exception 4 (device failure) reading coil 10..10",
        "exception 4 (device failure) reading holding 104..104",
        "exception 4 (device failure) reading input 302..302",
    ]
    assert all(s.value is None for s in samples)
    assert run(sim, lambda s: s.poll(plan), unit=FAILING)[0].fault is None


def test_a_unit_the_server_does_not_serve_answers_exception_4(sim: ModbusSimulatorThread) -> None:
    with pytest.raises(ExceptionReply) as caught:
        run(sim, lambda s: s.read("holding", 100, 1), unit=42)
    assert caught.value.code == 4
    assert isinstance(caught.value, DeviceRejected)
    assert "exception 4 (device failure) reading holding 100..100" in str(caught.value)


def test_write_errors(sim: ModbusSimulatorThread) -> None:
    with pytest.raises(WriteRefused, match="input 302 is read-only"):
        run(sim, lambda s: s.write("t/in_int16", binding("in_int16"), 1))
    with pytest.raises(EncodeError, match="t/int16_abcd: 40000 is out of range for int16"):
        run(sim, lambda s: s.write("t/int16_abcd", binding("int16_abcd"), 40000))
    with pytest.raises(ExceptionReply, match=r"exception 2 \(illegal data address\) writing t/x \(holding 20\)") as caught:
        run(sim, lambda s: s.write("t/x", ModbusBinding(table="holding", address=20), 1))
    assert (caught.value.code, caught.value.function_code) == (2, 6)


def test_a_silent_device_times_out_within_its_timeout(sim: ModbusSimulatorThread) -> None:
    plan = plan_reads([("t/a", binding("uint16_abcd"))])
    sim.simulator.set_silent(SILENT)
    started = time.monotonic()
    try:
        expected = r"unit 7: no reply reading holding 104\.\.104 within 0.2 s \(2 attempt\(s\)\)"
        with pytest.raises(DeviceTimeout, match=expected) as caught:
            run(sim, lambda s: s.poll(plan), unit=SILENT, timeout=0.2, retries=1)
    finally:
        sim.simulator.set_silent(SILENT, False)
    elapsed = time.monotonic() - started
    assert elapsed < 0.2 * 2 + 1.0
    assert caught.value.__cause__ is not None

    async def recovers(session: ModbusDeviceSession) -> Any:
        session.connection.timeout = 0.2
        sim.simulator.set_silent(SILENT)
        try:
            with pytest.raises(DeviceTimeout):
                await session.poll(plan)
        finally:
            sim.simulator.set_silent(SILENT, False)
        return (await session.poll(plan))[0].fault  # same connection, stale replies skipped

    assert run(sim, recovers, unit=SILENT, timeout=0.2) is None


def test_connection_refused_is_a_protocol_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there

    async def main() -> None:
        session = ModbusDeviceSession(TcpLink("127.0.0.1", port), 1, timeout=0.5)
        with pytest.raises(ProtocolError, match=f"cannot connect to 127.0.0.1:{port}") as caught:
            await session.poll(plan_reads([("a", ModbusBinding(table="holding", address=1))]))
        assert not isinstance(caught.value, DeviceTimeout)

    asyncio.run(main())


def test_sessions_share_a_connection(sim: ModbusSimulatorThread) -> None:
    async def main() -> list[Any]:
        connection = ModbusConnection(TcpLink(sim.host, sim.port), timeout=1.0)
        try:
            a = ModbusDeviceSession(connection, TEST)
            b = ModbusDeviceSession(connection, METER)
            plan = plan_reads([("x", binding("uint16_abcd"))])
            results = await asyncio.gather(a.poll(plan), b.identify(), a.identify())
            a.close()  # a shared connection stays open
            assert connection.connected
            return list(results)
        finally:
            connection.close()

    polled, meter, test = asyncio.run(main())
    assert polled[0].fault is None
    assert meter == DeviceIdentity(vendor="bms", product_code="PM-3100", revision="0.1.0")
    assert test.product_code == "MB-TEST"


def test_a_shorter_timeout_on_a_shared_connection_is_the_sessions_own(sim: ModbusSimulatorThread) -> None:
    """The line waits 5 s (pymodbus's timer); a session with 0.2 s times its own requests and gives up first."""
    plan = plan_reads([("t/a", binding("uint16_abcd"))])

    async def main() -> tuple[float, Any]:
        connection = ModbusConnection(TcpLink(sim.host, sim.port), timeout=5.0)
        quick = ModbusDeviceSession(connection, SILENT, timeout=0.2, retries=0)
        other = ModbusDeviceSession(connection, TEST, timeout=5.0, retries=0)
        try:
            sim.simulator.set_silent(SILENT)
            started = time.monotonic()
            with pytest.raises(DeviceTimeout, match=r"within 0\.2 s"):
                await quick.poll(plan)
            elapsed = time.monotonic() - started
            return elapsed, (await other.poll(plan))[0].fault  # the line is still usable
        finally:
            sim.simulator.set_silent(SILENT, False)
            connection.close()

    elapsed, fault = asyncio.run(main())
    assert elapsed < 2.5  # well short of the line's 5 s
    assert fault is None


def test_register_replies_arrive_as_bytes_and_still_give_registers(sim: ModbusSimulatorThread) -> None:
    """FC3/FC4 replies decode to RegisterPayload (bytes) on our clients; read() gives the registers."""
    async def body(session: ModbusDeviceSession) -> tuple[Any, Any]:
        await session.connect()
        client = session.connection.client
        address = binding("float64_abcd").address  # four registers
        reply = await client.read_holding_registers(address, count=4, device_id=TEST)
        return reply, await session.read("holding", address, 4)

    reply, registers = run(sim, body)
    assert isinstance(reply, RegisterPayload)
    assert len(reply.payload) == 8
    assert reply.registers == registers == unpack_registers(reply.payload)
    assert "8 bytes" in str(reply)


def test_a_client_with_pymodbus_own_register_replies_polls_the_same(sim: ModbusSimulatorThread) -> None:
    """Should pymodbus hand back its own reply class, the registers are checked and decoded all the same."""
    from pymodbus.pdu.register_message import ReadHoldingRegistersResponse

    plan = plan_reads([("t/a", binding("float64_abcd")), ("t/b", binding("uint16_abcd"))])

    async def body(session: ModbusDeviceSession) -> tuple[Any, Any]:
        ours = await session.poll(plan)
        session.connection.client.register(ReadHoldingRegistersResponse)  # back to pymodbus's class
        return ours, await session.poll(plan)

    ours, stock = run(sim, body, now=lambda: 5.0)
    assert ours == stock and all(s.fault is None for s in stock)


def test_bad_session_arguments() -> None:
    with pytest.raises(ValueError, match="unit id"):
        ModbusDeviceSession(TcpLink("127.0.0.1"), 300)
    with pytest.raises(ValueError, match="timeout"):
        ModbusDeviceSession(TcpLink("127.0.0.1"), 1, timeout=0)
