"""Block planning: exact plans for gaps, limits, multi-register values, bits and duplicates."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from bms.config import ModbusBinding, load_profile
from bms.modbus import BlockPlan, ReadBlock, plan_reads

PROFILES = Path(__file__).resolve().parents[3] / "conf" / "profiles"


def b(table: Any, address: int, type_: Any = "uint16", **kw: Any) -> ModbusBinding:
    return ModbusBinding(table=table, address=address, type=type_, **kw)


def shape(plan: BlockPlan) -> list[tuple[str, int, int, list[tuple[str, int]]]]:
    """A plan as (table, start, count, [(point, offset)]) for exact comparison."""
    return [(blk.table, blk.start, blk.count, [(p.point_id, p.offset) for p in blk.points]) for blk in plan]


def test_contiguous_values_become_one_request() -> None:
    plan = plan_reads([(p, b("holding", a, "float32")) for p, a in (("a", 100), ("b", 102), ("c", 104))])
    assert shape(plan) == [("holding", 100, 6, [("a", 0), ("b", 2), ("c", 4)])]
    assert plan.blocks[0].function_code == 3
    assert plan.blocks[0].describe() == "holding 100..105"


def test_a_gap_up_to_max_gap_is_read_through() -> None:
    merged = plan_reads([("a", b("holding", 100)), ("b", b("holding", 111))], max_gap=10)
    assert shape(merged) == [("holding", 100, 12, [("a", 0), ("b", 11)])]
    split = plan_reads([("a", b("holding", 100)), ("b", b("holding", 112))], max_gap=10)
    assert shape(split) == [("holding", 100, 1, [("a", 0)]), ("holding", 112, 1, [("b", 0)])]
    assert len(plan_reads([("a", b("holding", 100)), ("b", b("holding", 102))], max_gap=0)) == 2
    assert len(plan_reads([("a", b("holding", 100)), ("b", b("holding", 101))], max_gap=0)) == 1


def test_blocks_stay_within_max_registers() -> None:
    points = [(f"p{i}", b("input", 100 + 2 * i, "float32")) for i in range(6)]
    plan = plan_reads(points, max_registers=10)
    assert shape(plan) == [
        ("input", 100, 10, [("p0", 0), ("p1", 2), ("p2", 4), ("p3", 6), ("p4", 8)]),
        ("input", 110, 2, [("p5", 0)]),
    ]


def test_a_125_register_block_is_the_protocol_limit() -> None:
    points = [(f"r{i:03}", b("holding", i)) for i in range(300)]
    plan = plan_reads(points)
    assert [(blk.start, blk.count) for blk in plan] == [(0, 125), (125, 125), (250, 50)]


def test_multi_register_values_are_never_split() -> None:
    points = [("a", b("holding", 100)), ("big", b("holding", 101, "float64")), ("c", b("holding", 105))]
    assert shape(plan_reads(points, max_registers=4)) == [
        ("holding", 100, 1, [("a", 0)]),
        ("holding", 101, 4, [("big", 0)]),
        ("holding", 105, 1, [("c", 0)]),
    ]


def test_overlapping_values_share_a_block() -> None:
    plan = plan_reads([("whole", b("holding", 10, "uint32")), ("low_word", b("holding", 11))])
    assert shape(plan) == [("holding", 10, 2, [("whole", 0), ("low_word", 1)])]


def test_bits_and_registers_are_planned_per_table() -> None:
    plan = plan_reads([
        ("h", b("holding", 10)),
        ("c1", b("coil", 10)),
        ("i", b("input", 10)),
        ("d", b("discrete", 10)),
        ("c2", b("coil", 11, "float64")),  # a coil is one bit whatever the type
    ])
    assert shape(plan) == [
        ("coil", 10, 2, [("c1", 0), ("c2", 1)]),
        ("discrete", 10, 1, [("d", 0)]),
        ("holding", 10, 1, [("h", 0)]),
        ("input", 10, 1, [("i", 0)]),
    ]
    assert [blk.function_code for blk in plan] == [1, 2, 3, 4]
    assert plan.blocks[0].is_bits and not plan.blocks[2].is_bits


def test_bit_tables_use_max_bits() -> None:
    plan = plan_reads([(f"c{i:04}", b("coil", i)) for i in range(2500)])
    assert [(blk.start, blk.count) for blk in plan] == [(0, 2000), (2000, 500)]
    small = plan_reads([(f"c{i}", b("discrete", i)) for i in range(10)], max_bits=4)
    assert [(blk.start, blk.count) for blk in small] == [(0, 4), (4, 4), (8, 2)]


def test_bit_fields_of_one_register_share_it() -> None:
    plan = plan_reads([
        ("st/ok", b("input", 120, bit=0)),
        ("st/alarm", b("input", 120, bit=1)),
        ("st/word", b("input", 120)),
    ])
    assert shape(plan) == [("input", 120, 1, [("st/alarm", 0), ("st/ok", 0), ("st/word", 0)])]


def test_the_plan_does_not_depend_on_the_input_order() -> None:
    layout = [
        ("holding", 5, "float32"), ("coil", 3, "bool"), ("holding", 40, "uint16"),
        ("input", 7, "int64"), ("holding", 5, "uint16"),
    ]
    points = [(f"p{i}", b(t, a, ty)) for i, (t, a, ty) in enumerate(layout)]
    reference = plan_reads(points)
    rng = random.Random(7)
    for _ in range(20):
        rng.shuffle(points)
        assert plan_reads(points) == reference
    assert reference.point_ids == ("p1", "p4", "p0", "p2", "p3")  # by address, span, id


def test_the_bundled_meter_profile_takes_two_requests() -> None:
    profile, problems = load_profile(PROFILES / "power-meter.toml")
    assert profile is not None, problems
    plan = plan_reads([(f"meter1/{p.key}", p.modbus) for p in profile.points if p.modbus])
    assert [(blk.table, blk.start, blk.count, len(blk.points)) for blk in plan] == [
        ("holding", 200, 4, 3),
        ("input", 100, 21, 14),
    ]
    assert len(plan.point_ids) == len(profile.points)


def test_the_round_trip_profile_plan() -> None:
    profile, problems = load_profile(PROFILES / "modbus-test.toml")
    assert profile is not None, problems
    points = [(p.key, p.modbus) for p in profile.points if p.modbus]
    assert [(blk.table, blk.start, blk.count) for blk in plan_reads(points)] == [
        ("coil", 10, 2), ("coil", 25, 1), ("discrete", 10, 3), ("holding", 100, 85), ("input", 300, 3),
    ]
    holding = [(blk.start, blk.count) for blk in plan_reads(points, max_registers=40) if blk.table == "holding"]
    assert holding == [(100, 40), (140, 40), (180, 5)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_registers": 126}, "max_registers must be 1..125"),
        ({"max_registers": 0}, "max_registers must be 1..125"),
        ({"max_bits": 2001}, "max_bits must be 1..2000"),
        ({"max_gap": -1}, "max_gap must be 0 or more"),
    ],
)
def test_limits_outside_the_protocol_are_refused(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_reads([], **kwargs)


def test_points_that_cannot_be_read_are_named() -> None:
    with pytest.raises(ValueError, match="dev/energy: float64 spans 4 registers"):
        plan_reads([("dev/energy", b("holding", 0, "float64"))], max_registers=3)
    with pytest.raises(ValueError, match="dev/top: address 65535"):
        plan_reads([("dev/top", b("holding", 65535, "float32"))])


def test_an_empty_device_has_an_empty_plan() -> None:
    assert plan_reads([]) == BlockPlan(())
    assert ReadBlock("holding", 5, 3, ()).end == 8
