"""A simulated Modbus TCP server: pymodbus on loopback, one unit per profile.

Each unit's registers are laid out from its :class:`~bms.config.Profile`
(see :mod:`bms.sim._registers`) and, for a meter profile (``equip =
"meter"``), driven by :class:`~bms.sim._meter.PowerMeter`: every
``interval`` seconds the simulator reads the model's inputs from their
writable registers, steps the model to ``clock()`` and writes its outputs.
Writable points keep what clients write; other addresses refuse writes
with exception 2.

Fault injection: :meth:`ModbusSimulator.set_silent` makes a unit stop
answering (requests are dropped), :meth:`~ModbusSimulator.set_failing`
makes it answer every request with exception 4 (device failure); units named in
``unidentified`` answer Read Device Identification (FC43) with exception 1,
as a device without it does. A unit id
the simulator does not serve answers exception 4, as pymodbus 3.16 itself
does (its simulator turns the unknown id into a datastore error), without
pymodbus's error log line.

A plain async server: ``await sim.start()`` / ``await sim.stop()`` inside a
running loop (``bms sim modbus`` runs it with ``asyncio.run``); the actor
layer's ``ModbusSimulatorThread`` (:mod:`actors.components.sim_modbus`)
serves it from a thread of its own for the daemon and the tests.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from typing import cast

from pymodbus.constants import ExcCodes
from pymodbus.pdu import ModbusPDU
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import SimAction

import bms
from bms.config._schema import ByteOrder, Profile
from bms.logs import get_logger
from bms.loop import cancel_and_wait
from bms.messages import Value
from bms.modbus import decode, encode, merge_bit, register_bit, width
from bms.sim._meter import DeviceModel, ModelValue, PowerMeter
from bms.sim._pdus import Refusal, identity_request
from bms.sim._registers import TABLE_FUNCTION, UnitMap, initial_value

__all__ = ["DeviceModel", "ModbusSimulator", "PowerMeter", "default_model"]


def default_model(profile: Profile, seed: int = 0) -> DeviceModel | None:
    """The model that drives a profile: a PowerMeter for meters, else none."""
    return PowerMeter(seed=seed) if profile.equip == "meter" else None


class ModbusSimulator:
    """Serves ``profiles_by_unit`` (unit id -> profile) on host:port (0 picks a free port)."""

    def __init__(
        self,
        profiles_by_unit: Mapping[int, Profile],
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        orders: Mapping[int, ByteOrder] | None = None,
        models: Mapping[int, DeviceModel | None] | None = None,
        interval: float = 1.0,
        clock: Callable[[], float] = time.time,
        seed: int = 0,
        unidentified: Collection[int] = (),
    ) -> None:
        if not profiles_by_unit:
            raise ValueError("a Modbus simulator needs at least one unit")
        for unit in profiles_by_unit:
            if not 1 <= unit <= 247:
                raise ValueError(f"unit id must be 1..247, got {unit}")
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self.interval = interval
        self._clock = clock
        self.units = {u: UnitMap.build(u, p, (orders or {}).get(u, "ABCD")) for u, p in sorted(profiles_by_unit.items())}
        given = models or {}
        self._models = {u: given[u] if u in given else default_model(p, seed + u) for u, p in profiles_by_unit.items()}
        self.requests: Counter[tuple[int, int]] = Counter()
        """Requests received, by (unit id, function code): for tests and benchmarks."""
        self._unidentified = frozenset(unidentified)
        self._silent: frozenset[int] = frozenset()
        self._failing: frozenset[int] = frozenset()
        self._server: ModbusTcpServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._log = get_logger("modbus-sim")

    # ---------------------------------------------------------- lifecycle

    @property
    def port(self) -> int:
        """The bound TCP port (after start)."""
        if self._port is None:
            raise RuntimeError("the simulator is not started")
        return self._port

    @property
    def running(self) -> bool:
        return self._server is not None

    def model(self, unit_id: int) -> DeviceModel | None:
        return self._models[unit_id]

    async def start(self) -> None:
        """Build the units, listen, and start refreshing from the models."""
        if self._server is not None:
            raise RuntimeError("the simulator is already started")
        now = self._clock()
        devices = []
        for unit, layout in self.units.items():
            model = self._models[unit]
            if model is not None:
                for key in model.inputs & layout.bindings.keys():
                    model.set_input(key, initial_value(layout.points[key], layout.bindings[key]))
                model.step(now)
            values = self._outputs(unit)
            devices.append(layout.simdevice(values, self._write_guard(layout)))
        identities: dict[int, dict[int, str]] = {
            u: {} if u in self._unidentified else
            {0: m.profile.vendor, 1: m.profile.model, 2: bms.__version__, 4: m.profile.name, 5: m.profile.model}
            for u, m in self.units.items()
        }
        server = ModbusTcpServer(
            devices,
            address=(self.host, self._requested_port),
            trace_pdu=cast(Callable[[bool, ModbusPDU], ModbusPDU], self._screen),
            custom_pdu=[identity_request(identities)],
        )
        await server.serve_forever(background=True)
        self._server = server
        self._port = int(cast(asyncio.Server, server.transport).sockets[0].getsockname()[1])
        self._task = asyncio.create_task(self._run(), name=f"modbus-sim:{self._port}")
        self._log.info("modbus simulator listening", host=self.host, port=self._port, units=sorted(self.units))

    async def stop(self) -> None:
        """Stop refreshing and close the server and its connections."""
        task, self._task = self._task, None
        await cancel_and_wait(task)
        server, self._server = self._server, None
        if server is not None:
            await server.shutdown()  # type: ignore[no-untyped-call]

    # ----------------------------------------------------- fault injection

    def set_silent(self, unit_id: int, silent: bool = True) -> None:
        """Make a unit drop every request (or answer again). Thread-safe."""
        self._silent = self._silent | {unit_id} if silent else self._silent - {unit_id}

    def set_failing(self, unit_id: int, failing: bool = True) -> None:
        """Make a unit answer every request with exception 4 (or normally again). Thread-safe."""
        self._failing = self._failing | {unit_id} if failing else self._failing - {unit_id}

    def _screen(self, sending: bool, pdu: ModbusPDU) -> ModbusPDU | None:
        """pymodbus trace hook: drop or refuse requests before they reach the datastore."""
        if sending:
            return pdu
        unit = pdu.dev_id
        self.requests[unit, pdu.function_code] += 1
        if unit in self._silent:
            return None
        if unit in self._failing or unit not in self.units:
            return Refusal(pdu, ExcCodes.DEVICE_FAILURE)
        return pdu

    def _write_guard(self, layout: UnitMap) -> SimAction:
        async def guard(
            function_code: int,
            start_address: int,
            address: int,
            count: int,
            registers: list[int],
            values: list[int] | list[bool] | None,
        ) -> ExcCodes | None:
            _ = start_address, count, registers
            if values is not None and layout.refuses(function_code, address, len(values)):
                return ExcCodes.ILLEGAL_ADDRESS
            return None

        return guard

    # ------------------------------------------------------------- values

    def _outputs(self, unit: int) -> dict[str, ModelValue]:
        model, layout = self._models[unit], self.units[unit]
        if model is None:
            return {}
        return {k: v for k, v in model.values().items() if k in layout.bindings and not layout.points[k].writable}

    def _live(self) -> ModbusTcpServer:
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        return self._server

    async def read_point(self, unit_id: int, key: str) -> Value:
        """A point's current value, decoded from the served registers."""
        layout = self.units[unit_id]
        binding = layout.bindings[key]
        raw = await self._live().async_getValues(unit_id, TABLE_FUNCTION[binding.table], binding.address, width(binding))
        return decode(binding, raw, layout.order)

    async def set_point(self, unit_id: int, key: str, value: Value) -> None:
        """Put ``value`` into a point's registers (any table, writable or not)."""
        layout = self.units[unit_id]
        binding = layout.bindings[key]
        server, function = self._live(), TABLE_FUNCTION[binding.table]
        if register_bit(binding) is not None:
            (current,) = await server.async_getValues(unit_id, function, binding.address, 1)
            registers: list[int] | list[bool] = [merge_bit(binding, value, int(current), layout.order, point=key)]
        else:
            registers = encode(binding, value, layout.order, point=key)
        await server.async_setValues(unit_id, function, binding.address, registers)

    async def refresh(self) -> None:
        """One model step for every unit: inputs from registers, outputs to them."""
        now = self._clock()
        for unit, model in self._models.items():
            if model is None:
                continue
            layout = self.units[unit]
            for key in model.inputs & layout.bindings.keys():
                value = await self.read_point(unit, key)
                if isinstance(value, (bool, int, float)):
                    model.set_input(key, value)
            model.step(now)
            for key, value in self._outputs(unit).items():
                try:
                    await self.set_point(unit, key, value)
                except ValueError as err:  # a model value the profile's type cannot hold
                    self._log.warning("simulated value not written", unit=unit, point=key, error=str(err))

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.refresh()
            except Exception as err:  # the server must keep serving
                self._log.error("simulator refresh failed", error=repr(err))

