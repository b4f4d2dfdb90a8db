"""Reply validation and block decoding: short or malformed replies are rejected, not decoded."""

from __future__ import annotations

import math
from typing import Any

import pytest

from bms.config import ModbusBinding
from bms.errors import ProtocolError
from bms.messages import Sample
from bms.modbus import (
    HoldingPayload,
    InputPayload,
    MalformedReply,
    ReadBlock,
    check_payload,
    check_reply,
    decode_block,
    decode_columns,
    decode_payload,
    exception_text,
    fault_block,
    plan_reads,
)


def block(table: Any, start: int, count: int) -> ReadBlock:
    return ReadBlock(table, start, count, ())


def test_a_short_register_reply_is_rejected() -> None:
    with pytest.raises(MalformedReply, match=r"holding 100\.\.109: asked 10 registers, got 8"):
        check_reply(block("holding", 100, 10), [0] * 8)


def test_an_empty_reply_is_rejected() -> None:  # what a jsmodbus server sends for an out-of-range read
    with pytest.raises(MalformedReply, match="asked 2 registers, got 0"):
        check_reply(block("input", 0, 2), [])


def test_a_long_register_reply_is_rejected() -> None:
    with pytest.raises(MalformedReply, match="asked 2 registers, got 3"):
        check_reply(block("holding", 0, 2), [1, 2, 3])


@pytest.mark.parametrize("bad", [70000, -1, True])
def test_registers_must_be_16_bit_numbers(bad: int) -> None:
    with pytest.raises(MalformedReply, match=r"outside 0\.\.65535"):
        check_reply(block("holding", 0, 2), [1, bad])


def test_bit_replies_lose_their_byte_padding() -> None:
    assert check_reply(block("coil", 10, 3), [True, False, True, False, False, False, False, False]) == [True, False, True]


def test_short_or_overlong_bit_replies_are_rejected() -> None:
    with pytest.raises(MalformedReply, match="asked 10 bits, got 8"):
        check_reply(block("discrete", 0, 10), [False] * 8)
    with pytest.raises(MalformedReply, match="asked 3 bits, got 16"):
        check_reply(block("coil", 0, 3), [False] * 16)
    with pytest.raises(MalformedReply, match="not booleans"):
        check_reply(block("coil", 0, 2), [1, 0])


def test_a_register_payload_must_be_exactly_the_registers_asked() -> None:
    assert check_payload(block("holding", 100, 2), b"\x00\x01\x00\x02") == b"\x00\x01\x00\x02"
    with pytest.raises(MalformedReply, match=r"holding 100\.\.103: asked 4 registers, got 3$"):
        check_payload(block("holding", 100, 4), bytes(6))
    with pytest.raises(MalformedReply, match="asked 2 registers, got 5 bytes"):
        check_payload(block("input", 0, 2), bytes(5))
    with pytest.raises(MalformedReply, match="asked 2 registers, got 0"):
        check_payload(block("input", 0, 2), b"")


def test_register_payload_replies_keep_the_bytes_the_device_sent() -> None:
    reply = HoldingPayload()
    reply.decode(bytes([4, 0x12, 0x34, 0xAB, 0xCD]))
    assert reply.payload == b"\x12\x34\xab\xcd"
    assert reply.registers == [0x1234, 0xABCD]
    assert reply.encode() == bytes([4, 0x12, 0x34, 0xAB, 0xCD])
    assert (reply.function_code, InputPayload.function_code) == (3, 4)
    short = InputPayload()
    short.decode(bytes([8, 0, 1, 0, 2]))  # a byte count beyond the frame: the payload is what came
    assert (short.payload, short.byte_count) == (b"\x00\x01\x00\x02", 8)
    with pytest.raises(MalformedReply, match="asked 4 registers, got 2"):
        check_payload(block("input", 0, 4), short.payload)
    with pytest.raises(MalformedReply, match=r"input 0\.\.3: byte count says 8, the reply carries 4 bytes$"):
        check_payload(block("input", 0, 4), short.payload, short.byte_count)
    lying = HoldingPayload()
    lying.decode(bytes([255]) + bytes(42))  # says 255, carries the 21 registers asked
    with pytest.raises(MalformedReply, match="byte count says 255, the reply carries 42 bytes"):
        check_payload(block("holding", 0, 21), lying.payload, lying.byte_count)
    long = HoldingPayload()
    long.decode(bytes([2, 0, 1, 0, 2]))  # carries more than it says
    with pytest.raises(MalformedReply, match="byte count says 2, the reply carries 4 bytes"):
        check_payload(block("holding", 0, 1), long.payload, long.byte_count)
    assert check_payload(block("holding", 0, 2), reply.payload, reply.byte_count) == b"\x12\x34\xab\xcd"
    built = HoldingPayload(dev_id=3, transaction_id=9)
    built.registers = [1, 65535]
    assert built.payload == b"\x00\x01\xff\xff" and not built.isError()


def test_malformed_reply_is_a_protocol_error() -> None:
    assert issubclass(MalformedReply, ProtocolError)


def test_a_block_decodes_to_one_sample_per_point() -> None:
    plan = plan_reads([
        ("m/kw", ModbusBinding(table="input", address=100, type="float32")),
        ("m/pf", ModbusBinding(table="input", address=102, type="int16", scale=0.001)),
        ("m/ok", ModbusBinding(table="input", address=103, bit=0)),
        ("m/alarm", ModbusBinding(table="input", address=103, bit=1)),
    ])
    (blk,) = plan.blocks
    samples = decode_block(blk, [0x42C8, 0x0000, 950, 0x0001], "ABCD", 5.0)
    assert samples == [
        Sample("m/kw", 100.0, 5.0),
        Sample("m/pf", pytest.approx(0.95), 5.0),  # type: ignore[arg-type]
        Sample("m/alarm", False, 5.0),
        Sample("m/ok", True, 5.0),
    ]


def test_the_device_order_is_used_for_points_without_their_own() -> None:
    (blk,) = plan_reads([("p", ModbusBinding(table="holding", address=0, type="float32"))]).blocks
    assert decode_block(blk, [0x0000, 0x42C8], "CDAB", 1.0) == [Sample("p", 100.0, 1.0)]


def test_not_a_number_becomes_a_faulted_sample() -> None:
    (blk,) = plan_reads([
        ("m/kw", ModbusBinding(table="input", address=100, type="float32")),
        ("m/kvar", ModbusBinding(table="input", address=102, type="float32")),
    ]).blocks
    kw, kvar = decode_block(blk, [0x7FC0, 0x0000, 0x4120, 0x0000], "ABCD", 1.0)
    assert kw.value is None and kw.fault == "device reported nan (not available)"
    assert kvar == Sample("m/kvar", 10.0, 1.0)


def test_a_block_of_plain_numbers_becomes_columns_and_a_not_available_value_a_faulted_sample() -> None:
    (blk,) = plan_reads([
        ("m/kw", ModbusBinding(table="input", address=100, type="float32")),
        ("m/kvar", ModbusBinding(table="input", address=102, type="float32")),
        ("m/pf", ModbusBinding(table="input", address=104, type="int16", scale=0.001)),
    ]).blocks
    payload = b"".join(r.to_bytes(2, "big") for r in (0x7FC0, 0x0000, 0x4120, 0x0000, 950))
    columns, others = decode_columns(blk, payload, "ABCD", 4.0)
    assert columns is not None
    assert (columns.point_ids, columns.ts) == (("m/kvar", "m/pf"), 4.0)
    assert columns.values == (10.0, pytest.approx(0.95))
    assert others == [Sample("m/kw", None, 4.0, fault="device reported nan (not available)")]
    (bits,) = plan_reads([("m/ok", ModbusBinding(table="input", address=7, bit=0))]).blocks
    assert decode_columns(bits, b"\x00\x01", "ABCD", 4.0) == (None, [Sample("m/ok", True, 4.0)])  # not a plain number


def test_faulted_blocks_and_exception_names() -> None:
    (blk,) = plan_reads([("a", ModbusBinding(table="coil", address=1)), ("b", ModbusBinding(table="coil", address=2))]).blocks
    assert fault_block(blk, "exception 2 (illegal data address)", 3.0) == [
        Sample("a", None, 3.0, "exception 2 (illegal data address)"),
        Sample("b", None, 3.0, "exception 2 (illegal data address)"),
    ]
    assert exception_text(2) == "exception 2 (illegal data address)"
    assert exception_text(4) == "exception 4 (device failure)"
    assert exception_text(11) == "exception 11 (gateway target device failed to respond)"
    assert exception_text(99) == "exception 99 (unknown code)"


ORDERS = ("ABCD", "CDAB", "BADC", "DCBA")
TYPES = ("bool", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64")


@pytest.mark.parametrize("device_order", ORDERS)
def test_block_decoder_matches_the_point_decoder_for_every_type_and_order(device_order: str) -> None:
    """decode_block (compiled, one unpack per point) gives exactly what decode() gives point by point."""
    from bms.config import ModbusBinding
    from bms.modbus import decode, width

    bindings: list[ModbusBinding] = []
    address = 1
    for type_ in TYPES:
        for order in (None, *ORDERS):
            bindings.append(ModbusBinding(table="holding", address=address, type=type_, order=order))  # type: ignore[arg-type]
            address += width(bindings[-1])
            bindings.append(ModbusBinding(table="holding", address=address, type=type_, scale=0.5, offset=-3.0))  # type: ignore[arg-type]
            address += width(bindings[-1])
    bindings += [ModbusBinding(table="holding", address=address, bit=b, order=o)  # type: ignore[arg-type]
                 for b in (0, 7, 15) for o in ORDERS]
    points = [(f"p{i}", b) for i, b in enumerate(bindings)]
    plan = plan_reads(points, max_registers=125, max_gap=0)
    registers_of = {a: (a * 7919 + 12345) % 65536 for a in range(address + 1)}
    for blk in plan.blocks:
        values = [registers_of[blk.start + i] for i in range(blk.count)]
        got = decode_block(blk, values, device_order, 1.0)  # type: ignore[arg-type]
        payload = b"".join(v.to_bytes(2, "big") for v in values)
        assert decode_payload(blk, payload, device_order, 1.0) == got  # type: ignore[arg-type]  # from bytes
        columns, others = decode_columns(blk, payload, device_order, 1.0)  # type: ignore[arg-type]  # the bridge's
        as_samples = ([Sample(pid, v, columns.ts) for pid, v in zip(columns.point_ids, columns.values, strict=True)]
                      if columns is not None else []) + others
        assert sorted(as_samples, key=lambda x: x.point_id) == sorted(got, key=lambda x: x.point_id)
        for sample, (pid, offset, binding) in zip(got, blk.points, strict=True):
            want = decode(binding, values[offset:offset + width(binding)], device_order)  # type: ignore[arg-type]
            assert sample.point_id == pid
            if isinstance(want, float) and not math.isfinite(want):
                assert sample.value is None and sample.fault is not None
            else:
                assert sample.value == want and type(sample.value) is type(want), (binding, device_order)


def test_a_block_of_plain_numbers_decodes_in_one_unpack_exactly_as_point_by_point() -> None:
    """Every point big-endian (the common register block): the bulk path, NaN and scaling included."""
    from bms.config import ModbusBinding
    from bms.modbus import decode, width
    from bms.modbus._block import compiled

    bindings, address = [], 0
    for i in range(60):
        type_ = TYPES[1 + i % (len(TYPES) - 1)]  # every type but bool
        b = ModbusBinding(table="holding", address=address, type=type_, scale=(1.0, 0.1)[i % 2],  # type: ignore[arg-type]
                          offset=(0.0, -40.0)[i % 3 == 0])
        bindings.append(b)
        address += width(b)
    plan = plan_reads([(f"p{i}", b) for i, b in enumerate(bindings)], max_registers=125, max_gap=0)
    faults = 0
    for blk in plan.blocks:
        assert compiled(blk, "ABCD").ids is not None  # this block takes the bulk path
        values = [(blk.start + i) * 40503 % 65536 for i in range(blk.count)]
        first_float = next(offset for _pid, offset, b in blk.points if b.type == "float32")
        values[first_float:first_float + 2] = [0x7FC0, 0x0000]  # a meter's "not available" NaN
        for sample, (pid, offset, binding) in zip(decode_block(blk, values, "ABCD", 2.0), blk.points, strict=True):
            want = decode(binding, values[offset:offset + width(binding)], "ABCD")
            assert sample.point_id == pid and sample.ts == 2.0
            if isinstance(want, float) and not math.isfinite(want):
                assert sample.value is None and sample.fault is not None and "not available" in sample.fault
                faults += 1
            else:
                assert sample.value == want and type(sample.value) is type(want) and sample.fault is None
    assert faults == len(plan.blocks)


def test_a_short_reply_to_a_block_of_plain_numbers_faults_only_the_points_beyond_it() -> None:
    """The bulk path cannot take it: the block's steps are made on demand and decode what came."""
    from bms.modbus._block import compiled

    (blk,) = plan_reads([(f"m/p{i}", ModbusBinding(table="holding", address=2 * i, type="float32"))
                         for i in range(4)]).blocks
    assert compiled(blk, "ABCD").ids is not None  # the bulk path's block
    payload = bytes.fromhex("42c80000" "41200000" "3f80")  # 100.0, 10.0, then half of the third value
    p0, p1, p2, p3 = decode_payload(blk, payload, "ABCD", 3.0)
    assert (p0, p1) == (Sample("m/p0", 100.0, 3.0), Sample("m/p1", 10.0, 3.0))
    for sample in (p2, p3):
        assert sample.value is None and sample.fault is not None and "reply ends before it" in sample.fault


def test_blocks_of_the_same_layout_share_their_structs() -> None:
    """200 devices of one profile: one Struct per format, not one per point (16 MB for 100,000 points)."""
    from bms.modbus._block import compiled

    blocks = [plan_reads([(f"d{d}/p{i}", ModbusBinding(table="holding", address=2 * i, type="float32"))
                          for i in range(3)]).blocks[0] for d in range(2)]
    one, two = (compiled(b, "ABCD") for b in blocks)
    assert one.bulk is two.bulk
    assert {id(step[3]) for step in one.steps + two.steps} == {id(one.steps[0][3])}
