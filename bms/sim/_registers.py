"""A profile laid out as one unit's register tables (pymodbus simulator blocks).

Each table is served as one contiguous block from its lowest to its highest
point address: gaps between points read as 0, addresses outside the span
answer exception 2 (illegal data address). pymodbus needs a block in every
table, so a table without points gets a placeholder: an invalid register at
65535 for register tables, and sixteen readable False bits at 65520..65535
for coils and discrete inputs (its bit tables cannot hold invalid entries).
Clients may write only the addresses of points marked ``writable``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pymodbus.simulator import DataType, SimAction, SimData, SimDevice

from bms.config._schema import ByteOrder, ModbusBinding, ModbusTable, PointSpec, Profile
from bms.modbus import encode, merge_bit, register_bit, width
from bms.sim._meter import ModelValue

TABLES: tuple[ModbusTable, ...] = ("coil", "discrete", "holding", "input")
#: Function code the simulator uses to read or refresh each table internally.
TABLE_FUNCTION: dict[ModbusTable, int] = {"coil": 1, "discrete": 2, "holding": 3, "input": 4}
_CLIENT_WRITES = {5: "coil", 15: "coil", 6: "holding", 16: "holding", 22: "holding", 23: "holding"}


def initial_value(point: PointSpec, binding: ModbusBinding) -> ModelValue:
    """A point's value before anything is written: its relinquish default, else zero."""
    default = point.relinquish_default
    if isinstance(default, (bool, int, float)):
        return default
    return False if binding.table in ("coil", "discrete") or binding.bit is not None or binding.type == "bool" else 0


@dataclass(frozen=True)
class UnitMap:
    """Where each point of a profile lives in one unit's tables."""

    unit_id: int
    profile: Profile
    order: ByteOrder
    points: dict[str, PointSpec]
    bindings: dict[str, ModbusBinding]
    writable: dict[ModbusTable, frozenset[int]]

    @classmethod
    def build(cls, unit_id: int, profile: Profile, order: ByteOrder = "ABCD") -> UnitMap:
        points = {p.key: p for p in profile.points if p.modbus is not None}
        bindings = {k: p.modbus for k, p in points.items() if p.modbus is not None}
        writable: dict[ModbusTable, set[int]] = {t: set() for t in TABLES}
        for key, binding in bindings.items():
            if points[key].writable:
                writable[binding.table].update(range(binding.address, binding.address + width(binding)))
        return cls(unit_id, profile, order, points, bindings, {t: frozenset(a) for t, a in writable.items()})

    def image(self, values: Mapping[str, ModelValue]) -> dict[ModbusTable, dict[int, int | bool]]:
        """Every table's contents with ``values`` (or initial values) encoded."""
        tables: dict[ModbusTable, dict[int, int | bool]] = {t: {} for t in TABLES}
        for key, binding in self.bindings.items():
            value = values.get(key, initial_value(self.points[key], binding))
            table = tables[binding.table]
            if register_bit(binding) is not None:
                current = int(table.get(binding.address, 0))
                table[binding.address] = merge_bit(binding, value, current, self.order, point=key)
                continue
            for i, item in enumerate(encode(binding, value, self.order, point=key)):
                table[binding.address + i] = item
        return tables

    def refuses(self, function_code: int, address: int, count: int) -> bool:
        """Whether a client write touches an address that is not a writable point."""
        table = _CLIENT_WRITES.get(function_code)
        if table is None:
            return False
        allowed = self.writable["coil" if table == "coil" else "holding"]
        return any(a not in allowed for a in range(address, address + count))

    def simdevice(self, values: Mapping[str, ModelValue], action: SimAction) -> SimDevice:
        """The pymodbus simulator device serving this unit."""
        tables = self.image(values)
        return SimDevice(
            id=self.unit_id,
            simdata=(
                _bit_blocks(tables["coil"]),
                _bit_blocks(tables["discrete"]),
                _register_blocks(tables["holding"]),
                _register_blocks(tables["input"]),
            ),
            action=action,
        )


def _register_blocks(image: Mapping[int, int | bool]) -> list[SimData]:
    if not image:
        return [SimData(address=0xFFFF, datatype=DataType.INVALID)]
    low, high = min(image), max(image)
    values = [int(image.get(a, 0)) for a in range(low, high + 1)]
    return [SimData(address=low, values=values, datatype=DataType.REGISTERS)]


def _bit_blocks(image: Mapping[int, int | bool]) -> list[SimData]:
    if not image:
        return [SimData(address=0xFFF0, values=[False] * 16, datatype=DataType.BITS)]
    low, high = min(image), max(image)
    bits = [bool(image.get(a, False)) for a in range(low, high + 1)]
    return [SimData(address=low, values=bits, datatype=DataType.BITS)]
