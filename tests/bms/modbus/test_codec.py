"""Register codec: known register layouts for every type and byte order, scaling, bits, errors."""

from __future__ import annotations

import math
from typing import Any

import pytest

from bms.config import ModbusBinding
from bms.modbus import DecodeError, EncodeError, decode, encode, merge_bit, register_count, width


def hold(type_: Any, order: Any = None, **kw: Any) -> ModbusBinding:
    return ModbusBinding(table="holding", address=100, type=type_, order=order, **kw)


# (type, value, {order: registers}) -- registers as they travel on the wire
LAYOUTS: list[tuple[str, float | int, dict[str, list[int]]]] = [
    ("int16", -2, {"ABCD": [0xFFFE], "CDAB": [0xFFFE], "BADC": [0xFEFF], "DCBA": [0xFEFF]}),
    ("int16", -32768, {"ABCD": [0x8000], "CDAB": [0x8000], "BADC": [0x0080], "DCBA": [0x0080]}),
    ("int16", 32767, {"ABCD": [0x7FFF], "BADC": [0xFF7F]}),
    ("uint16", 0x1234, {"ABCD": [0x1234], "CDAB": [0x1234], "BADC": [0x3412], "DCBA": [0x3412]}),
    ("uint16", 65535, {"ABCD": [0xFFFF], "DCBA": [0xFFFF]}),
    ("int32", 0x12345678, {
        "ABCD": [0x1234, 0x5678],
        "CDAB": [0x5678, 0x1234],
        "BADC": [0x3412, 0x7856],
        "DCBA": [0x7856, 0x3412],
    }),
    ("int32", -2, {"ABCD": [0xFFFF, 0xFFFE], "CDAB": [0xFFFE, 0xFFFF], "BADC": [0xFFFF, 0xFEFF], "DCBA": [0xFEFF, 0xFFFF]}),
    ("int32", -(2**31), {"ABCD": [0x8000, 0x0000], "CDAB": [0x0000, 0x8000], "BADC": [0x0080, 0x0000], "DCBA": [0x0000, 0x0080]}),
    ("int32", 2**31 - 1, {"ABCD": [0x7FFF, 0xFFFF], "CDAB": [0xFFFF, 0x7FFF]}),
    ("uint32", 2**32 - 1, {"ABCD": [0xFFFF, 0xFFFF], "DCBA": [0xFFFF, 0xFFFF]}),
    ("uint32", 0xDEADBEEF, {
        "ABCD": [0xDEAD, 0xBEEF],
        "CDAB": [0xBEEF, 0xDEAD],
        "BADC": [0xADDE, 0xEFBE],
        "DCBA": [0xEFBE, 0xADDE],
    }),
    ("int64", 0x0102030405060708, {
        "ABCD": [0x0102, 0x0304, 0x0506, 0x0708],
        "CDAB": [0x0708, 0x0506, 0x0304, 0x0102],
        "BADC": [0x0201, 0x0403, 0x0605, 0x0807],
        "DCBA": [0x0807, 0x0605, 0x0403, 0x0201],
    }),
    ("int64", -(2**63), {
        "ABCD": [0x8000, 0, 0, 0],
        "CDAB": [0, 0, 0, 0x8000],
        "BADC": [0x0080, 0, 0, 0],
        "DCBA": [0, 0, 0, 0x0080],
    }),
    ("int64", -1, {"ABCD": [0xFFFF] * 4, "DCBA": [0xFFFF] * 4}),
    ("uint64", 2**64 - 1, {"ABCD": [0xFFFF] * 4, "BADC": [0xFFFF] * 4}),
    ("uint64", 0x8000000000000001, {
        "ABCD": [0x8000, 0, 0, 1],
        "CDAB": [1, 0, 0, 0x8000],
        "BADC": [0x0080, 0, 0, 0x0100],
        "DCBA": [0x0100, 0, 0, 0x0080],
    }),
    ("float32", 1.0, {"ABCD": [0x3F80, 0x0000], "CDAB": [0x0000, 0x3F80], "BADC": [0x803F, 0x0000], "DCBA": [0x0000, 0x803F]}),
    ("float32", -1.5, {"ABCD": [0xBFC0, 0x0000], "CDAB": [0x0000, 0xBFC0], "BADC": [0xC0BF, 0x0000], "DCBA": [0x0000, 0xC0BF]}),
    ("float32", 123.456001281738, {
        "ABCD": [0x42F6, 0xE979],
        "CDAB": [0xE979, 0x42F6],
        "BADC": [0xF642, 0x79E9],
        "DCBA": [0x79E9, 0xF642],
    }),
    ("float64", 1.0, {
        "ABCD": [0x3FF0, 0, 0, 0],
        "CDAB": [0, 0, 0, 0x3FF0],
        "BADC": [0xF03F, 0, 0, 0],
        "DCBA": [0, 0, 0, 0xF03F],
    }),
    ("float64", -2.5, {
        "ABCD": [0xC004, 0, 0, 0],
        "CDAB": [0, 0, 0, 0xC004],
        "BADC": [0x04C0, 0, 0, 0],
        "DCBA": [0, 0, 0, 0x04C0],
    }),
]

CASES = [
    pytest.param(t, v, order, regs, id=f"{t}-{v}-{order}") for t, v, layouts in LAYOUTS for order, regs in layouts.items()
]


@pytest.mark.parametrize(("type_", "value", "order", "registers"), CASES)
def test_encode_gives_the_known_layout(type_: str, value: float, order: str, registers: list[int]) -> None:
    assert encode(hold(type_, order), value) == registers


@pytest.mark.parametrize(("type_", "value", "order", "registers"), CASES)
def test_decode_reads_the_known_layout(type_: str, value: float, order: str, registers: list[int]) -> None:
    got = decode(hold(type_, order), registers)
    if type_ == "float32":
        assert got == pytest.approx(value, rel=1e-7)
    else:
        assert got == value
        assert type(got) is (float if type_.startswith("float") else int)


@pytest.mark.parametrize("order", ["ABCD", "CDAB", "BADC", "DCBA"])
def test_the_device_order_applies_unless_the_point_names_its_own(order: Any) -> None:
    assert encode(hold("int32"), 0x12345678, order) == encode(hold("int32", order), 0x12345678)
    assert encode(hold("int32", "ABCD"), 0x12345678, order) == [0x1234, 0x5678]


def test_register_count_and_width() -> None:
    types: tuple[Any, ...] = ("bool", "int16", "uint16", "int32", "uint32", "float32", "int64", "uint64", "float64")
    assert [register_count(t) for t in types] == [1, 1, 1, 2, 2, 2, 4, 4, 4]
    assert width(ModbusBinding(table="coil", address=1, type="float64")) == 1
    assert width(hold("float64", bit=None)) == 4
    assert width(hold("uint16", bit=3)) == 1


# ---------------------------------------------------------------- scaling


def test_scale_and_offset_on_read() -> None:
    temp = hold("int16", scale=0.1, offset=-40.0)
    assert decode(temp, [650]) == pytest.approx(25.0)
    assert decode(temp, [0xFFFF]) == pytest.approx(-40.1)
    assert decode(hold("uint32", scale=0.01), [0x0001, 0x0000]) == pytest.approx(655.36)


def test_scale_and_offset_inverted_on_write() -> None:
    assert encode(hold("int16", scale=0.1, offset=-40.0), 25.0) == [650]
    assert encode(hold("uint16", scale=0.1), 21.7) == [217]
    assert encode(hold("float32", scale=2.0), 3.0) == encode(hold("float32"), 1.5)


def test_integer_writes_round_half_away_from_zero() -> None:
    assert encode(hold("int16"), 2.5) == [3]
    assert encode(hold("int16"), -2.5) == [0xFFFD]
    assert encode(hold("int16"), 2.4999) == [2]
    assert encode(hold("uint16", scale=0.5), 1.25) == [3]


def test_unscaled_64_bit_integers_stay_exact() -> None:
    big = 2**64 - 2
    assert decode(hold("uint64"), encode(hold("uint64"), big)) == big
    assert encode(hold("int64"), True) == [0, 0, 0, 1]


@pytest.mark.parametrize(
    ("binding", "value", "words"),
    [
        (hold("int16"), 32768, ["int16", "-32768 .. 32767"]),
        (hold("uint16"), -1, ["uint16", "0 .. 65535"]),
        (hold("uint16", scale=0.01), 655.36, ["uint16", "scale 0.01", "0 .. 655.35"]),
        (hold("int16", scale=-1.0), 40000, ["int16", "-32767 .. 32768"]),
        (hold("uint32"), 2**32, ["uint32", "0 .. 4.29497e+09"]),
        (hold("int64"), 2**63, ["int64"]),
    ],
)
def test_out_of_range_writes_name_the_point_type_and_range(binding: ModbusBinding, value: float, words: list[str]) -> None:
    with pytest.raises(EncodeError) as caught:
        encode(binding, value, point="meter1/sp")
    text = str(caught.value)
    assert text.startswith("meter1/sp: ")
    for word in words:
        assert word in text
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("value", ["21.5", None, [1], float("nan"), float("inf"), -float("inf")])
def test_values_that_are_not_finite_numbers_are_refused(value: object) -> None:
    with pytest.raises(EncodeError, match="meter1/sp"):
        encode(hold("float32"), value, point="meter1/sp")


def test_float32_overflow_is_refused() -> None:
    with pytest.raises(EncodeError, match="out of range for float32"):
        encode(hold("float32"), 1e39)


def test_nan_and_infinity_decode_as_floats() -> None:
    assert math.isnan(float(decode(hold("float32"), [0x7FC0, 0x0000])))
    assert decode(hold("float32"), [0xFF80, 0x0000]) == -math.inf
    assert math.isnan(float(decode(hold("float64", "CDAB"), [0, 0, 0, 0x7FF8])))


# ------------------------------------------------------------ bits, bools


def test_coils_and_discrete_inputs_are_booleans_whatever_the_type() -> None:
    coil = ModbusBinding(table="coil", address=5)  # type defaults to uint16
    assert decode(coil, [True]) is True
    assert decode(ModbusBinding(table="discrete", address=5, type="float32"), [False]) is False
    assert encode(coil, True) == [True]
    assert encode(coil, 0) == [False]
    with pytest.raises(EncodeError, match="not a boolean"):
        encode(coil, 2)


def test_bool_register() -> None:
    flag = hold("bool")
    assert decode(flag, [0]) is False
    assert decode(flag, [0x0100]) is True
    assert encode(flag, True) == [1]
    assert encode(hold("bool", "BADC"), True) == [0x0100]
    with pytest.raises(EncodeError):
        encode(flag, "yes")


@pytest.mark.parametrize(
    ("bit", "order", "register", "expected"),
    [
        (0, "ABCD", 0x0001, True),
        (3, "ABCD", 0x0008, True),
        (3, "ABCD", 0xFFF7, False),
        (15, "ABCD", 0x8000, True),
        (3, "BADC", 0x0800, True),
        (3, "BADC", 0x0008, False),
        (8, "DCBA", 0x0001, True),
    ],
)
def test_bit_extraction(bit: int, order: str, register: int, expected: bool) -> None:
    assert decode(hold("uint16", order, bit=bit), [register]) is expected


def test_bits_are_merged_into_their_register() -> None:
    assert merge_bit(hold("uint16", bit=0), True, 0x00F0) == 0x00F1
    assert merge_bit(hold("uint16", bit=4), False, 0x00F0) == 0x00E0
    assert merge_bit(hold("uint16", "BADC", bit=0), True, 0xF000) == 0xF100
    with pytest.raises(EncodeError, match="merging"):
        encode(hold("uint16", bit=2), True)
    with pytest.raises(EncodeError, match="not a bit binding"):
        merge_bit(hold("uint16"), True, 0)


# ------------------------------------------------------- malformed input


@pytest.mark.parametrize(
    ("binding", "values"),
    [
        (hold("float32"), [0x3F80]),
        (hold("float64"), [0, 0, 0]),
        (hold("uint16"), [0, 0]),
        (hold("int16"), [70000]),
        (hold("int16"), [-1]),
        (ModbusBinding(table="coil", address=1), []),
    ],
)
def test_wrong_register_counts_or_values_are_refused(binding: ModbusBinding, values: list[int]) -> None:
    with pytest.raises(DecodeError):
        decode(binding, values)
