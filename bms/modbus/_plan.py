"""Block planning: a device's points grouped into the fewest read requests.

Per table, points are sorted by address and merged greedily while the next
point starts at most ``max_gap`` addresses after the current block's end and
the block stays within the request limit (``max_registers`` registers or
``max_bits`` bits). A multi-register value is never split across blocks;
several points may share an address (bit fields). The plan is deterministic:
tables in function-code order (coil, discrete, holding, input), blocks by
address, points by address, then span, then point id.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from bms.config._schema import ModbusBinding, ModbusTable
from bms.modbus._codec import BIT_TABLES, width

MAX_REGISTERS = 125
MAX_BITS = 2000

#: Read function code of each table.
READ_FUNCTION: dict[ModbusTable, int] = {"coil": 1, "discrete": 2, "holding": 3, "input": 4}


class BlockPoint(NamedTuple):
    """A point inside a block: ``offset`` addresses after the block's start."""

    point_id: str
    offset: int
    binding: ModbusBinding


@dataclass(frozen=True, slots=True)
class ReadBlock:
    """One read request: ``count`` registers or bits of ``table`` from ``start``."""

    table: ModbusTable
    start: int
    count: int
    points: tuple[BlockPoint, ...]

    @property
    def function_code(self) -> int:
        return READ_FUNCTION[self.table]

    @property
    def is_bits(self) -> bool:
        return self.table in BIT_TABLES

    @property
    def end(self) -> int:
        """One past the last address read."""
        return self.start + self.count

    def describe(self) -> str:
        """``holding 100..109`` -- for fault reasons and logs."""
        return f"{self.table} {self.start}..{self.end - 1}"


@dataclass(frozen=True, slots=True)
class BlockPlan:
    """The read requests of one device's poll cycle."""

    blocks: tuple[ReadBlock, ...]

    def __iter__(self) -> Iterator[ReadBlock]:
        return iter(self.blocks)

    def __len__(self) -> int:
        return len(self.blocks)

    @property
    def point_ids(self) -> tuple[str, ...]:
        """Every planned point id, in plan order, each once."""
        return tuple(dict.fromkeys(p.point_id for b in self.blocks for p in b.points))


def plan_reads(
    points: Iterable[tuple[str, ModbusBinding]],
    *,
    max_registers: int = MAX_REGISTERS,
    max_bits: int = MAX_BITS,
    max_gap: int = 10,
) -> BlockPlan:
    """Plan the reads of ``points`` (point id, binding) within the request limits.

    Raises ValueError for limits outside the protocol's, a negative gap, or a
    point that cannot fit one request or the 16-bit address space.
    """
    if not 1 <= max_registers <= MAX_REGISTERS:
        raise ValueError(f"max_registers must be 1..{MAX_REGISTERS}, got {max_registers}")
    if not 1 <= max_bits <= MAX_BITS:
        raise ValueError(f"max_bits must be 1..{MAX_BITS}, got {max_bits}")
    if max_gap < 0:
        raise ValueError(f"max_gap must be 0 or more, got {max_gap}")
    by_table: dict[ModbusTable, list[tuple[int, int, str, ModbusBinding]]] = {t: [] for t in READ_FUNCTION}
    for point_id, binding in points:
        span = width(binding)
        limit = max_bits if binding.table in BIT_TABLES else max_registers
        if span > limit:
            raise ValueError(f"{point_id}: {binding.type} spans {span} registers, more than the limit of {limit}")
        if not 0 <= binding.address <= 0xFFFF - span + 1:
            raise ValueError(f"{point_id}: address {binding.address} (+{span}) is outside 0..65535")
        by_table[binding.table].append((binding.address, binding.address + span, point_id, binding))
    blocks: list[ReadBlock] = []
    for table, items in by_table.items():
        limit = max_bits if table in BIT_TABLES else max_registers
        blocks.extend(_merge(table, sorted(items, key=lambda i: (i[0], i[1], i[2])), limit, max_gap))
    return BlockPlan(tuple(blocks))


def _merge(
    table: ModbusTable, items: list[tuple[int, int, str, ModbusBinding]], limit: int, max_gap: int
) -> Iterator[ReadBlock]:
    group: list[tuple[int, int, str, ModbusBinding]] = []
    start = end = 0
    for item in items:
        first, stop, _, _ = item
        if group and first - end <= max_gap and max(end, stop) - start <= limit:
            end = max(end, stop)
            group.append(item)
            continue
        if group:
            yield _block(table, start, end, group)
        group, start, end = [item], first, stop
    if group:
        yield _block(table, start, end, group)


def _block(table: ModbusTable, start: int, end: int, group: list[tuple[int, int, str, ModbusBinding]]) -> ReadBlock:
    return ReadBlock(table, start, end - start, tuple(BlockPoint(pid, first - start, b) for first, _, pid, b in group))
