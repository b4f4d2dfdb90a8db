"""Register codec: Modbus registers and bits to point values and back.

Pure functions, no sockets. A value of ``n`` registers is laid out by its
byte order (see :mod:`bms.config._schema`): ABCD big-endian, CDAB words
reversed, BADC bytes swapped in each register, DCBA fully little-endian.
The same rule covers 16-bit values (BADC and DCBA swap the register's two
bytes) and 64-bit values (four registers).

Rules:

* coils and discrete inputs are booleans whatever the binding's ``type``;
* ``bit`` extracts one bit (0 = LSB) of the 16-bit register after byte order;
  a bit is written by merging it into the register (:func:`merge_bit`);
* ``type = "bool"`` on a register reads "non-zero" and writes 0 or 1;
* scale and offset: ``value = raw * scale + offset``; with the identity
  scaling an integer type decodes to an exact ``int`` (64-bit safe);
* on write the inverse is rounded half away from zero for integer types and
  checked against the type's range, in engineering units;
* NaN and infinities decode as floats (the caller decides: the session turns
  them into faulted samples); writing them is refused.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

from bms.config._schema import ByteOrder, ModbusBinding, ModbusType
from bms.errors import CodecError

Raw = int | float | bool

BIT_TABLES = frozenset({"coil", "discrete"})

# type -> (struct format, register count, is integer)
_FORMATS: dict[str, tuple[str, int, bool]] = {
    "bool": ("H", 1, True),
    "int16": ("h", 1, True),
    "uint16": ("H", 1, True),
    "int32": ("i", 2, True),
    "uint32": ("I", 2, True),
    "int64": ("q", 4, True),
    "uint64": ("Q", 4, True),
    "float32": ("f", 2, False),
    "float64": ("d", 4, False),
}

_INT_RANGES: dict[str, tuple[int, int]] = {
    "bool": (0, 1),
    "int16": (-(2**15), 2**15 - 1),
    "uint16": (0, 2**16 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
}


class EncodeError(ValueError):
    """A value cannot be written to a binding (wrong kind, out of range)."""


class DecodeError(CodecError, ValueError):
    """Registers or bits do not form a value of the binding (malformed reply); still a ValueError."""


def register_count(type_: ModbusType) -> int:
    """Registers a value of ``type_`` occupies (1, 2 or 4)."""
    return _FORMATS[type_][1]


def register_bit(binding: ModbusBinding) -> int | None:
    """The bit a register binding extracts (``bit`` means nothing on coils/discretes)."""
    return None if binding.table in BIT_TABLES else binding.bit


def width(binding: ModbusBinding) -> int:
    """Addresses the binding spans in its table: bits, or registers."""
    if binding.table in BIT_TABLES or binding.bit is not None:
        return 1
    return register_count(binding.type)


def is_bool(binding: ModbusBinding) -> bool:
    """Whether the binding reads as a boolean (bit table, ``bit`` or bool type)."""
    return binding.table in BIT_TABLES or binding.bit is not None or binding.type == "bool"


def _order(binding: ModbusBinding, device_order: ByteOrder) -> ByteOrder:
    return binding.order if binding.order is not None else device_order


def _to_wire(data: bytes, order: ByteOrder) -> list[int]:
    """Big-endian value bytes -> registers in ``order`` (an involution with _from_wire)."""
    words = [data[i : i + 2] for i in range(0, len(data), 2)]
    if order in ("CDAB", "DCBA"):
        words.reverse()
    if order in ("BADC", "DCBA"):
        words = [w[::-1] for w in words]
    return [int.from_bytes(w, "big") for w in words]


def _from_wire(registers: Sequence[int], order: ByteOrder) -> bytes:
    words = [r.to_bytes(2, "big") for r in registers]
    if order in ("BADC", "DCBA"):
        words = [w[::-1] for w in words]
    if order in ("CDAB", "DCBA"):
        words.reverse()
    return b"".join(words)


def _check_registers(registers: Sequence[int], count: int, binding: ModbusBinding) -> None:
    if len(registers) != count:
        raise DecodeError(f"{binding.type} at {binding.table} {binding.address} needs {count} register(s), got {len(registers)}")
    for r in registers:
        if isinstance(r, bool) or not isinstance(r, int) or not 0 <= r <= 0xFFFF:
            raise DecodeError(f"{binding.table} {binding.address}: {r!r} is not a 16-bit register")


def _scaled(raw: int | float, binding: ModbusBinding) -> int | float:
    if binding.scale == 1.0 and binding.offset == 0.0:
        return raw
    return raw * binding.scale + binding.offset


def decode(binding: ModbusBinding, values: Sequence[int] | Sequence[bool], device_order: ByteOrder = "ABCD") -> Raw:
    """The point value held in ``values`` (exactly :func:`width` items).

    Raises :class:`DecodeError` when the count or a register is malformed.
    """
    if binding.table in BIT_TABLES:
        if len(values) != 1:
            raise DecodeError(f"{binding.table} {binding.address} needs 1 bit, got {len(values)}")
        return bool(values[0])
    order = _order(binding, device_order)
    if binding.bit is not None:
        _check_registers(values, 1, binding)
        register = int.from_bytes(_from_wire(values, order), "big")
        return bool(register >> binding.bit & 1)
    fmt, count, _ = _FORMATS[binding.type]
    _check_registers(values, count, binding)
    data = _from_wire(values, order)
    if binding.type == "bool":
        return data != b"\x00\x00"
    raw: int | float = struct.unpack(">" + fmt, data)[0]
    return _scaled(raw, binding)


def _label(binding: ModbusBinding, point: str) -> str:
    return point or f"{binding.table} {binding.address}"


def _as_number(binding: ModbusBinding, value: object, point: str) -> float | int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    raise EncodeError(f"{_label(binding, point)}: {value!r} is not a number ({binding.type})")


def _round_half_away(x: float) -> int:
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def raw_value(binding: ModbusBinding, value: object, point: str = "") -> int | float:
    """The raw register value for an engineering ``value`` (scale inverted, range checked)."""
    number = _as_number(binding, value, point)
    if isinstance(number, float) and not math.isfinite(number):
        raise EncodeError(f"{_label(binding, point)}: {number} is not a finite number")
    identity = binding.scale == 1.0 and binding.offset == 0.0
    raw: int | float = number if identity else (number - binding.offset) / binding.scale
    fmt, _, integer = _FORMATS[binding.type]
    if not integer:
        if fmt == "f" and abs(raw) > 3.4028234663852886e38:
            raise EncodeError(f"{_label(binding, point)}: {value!r} is out of range for float32")
        return float(raw)
    as_int = raw if isinstance(raw, int) else _round_half_away(raw)
    low, high = _INT_RANGES[binding.type]
    if not low <= as_int <= high:
        lo, hi = sorted((_scaled(low, binding), _scaled(high, binding)))
        scaling = "" if identity else f" with scale {binding.scale:g} and offset {binding.offset:g}"
        raise EncodeError(f"{_label(binding, point)}: {value!r} is out of range for {binding.type}{scaling} ({lo:g} .. {hi:g})")
    return as_int


def _as_bool(binding: ModbusBinding, value: object, point: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    raise EncodeError(f"{_label(binding, point)}: {value!r} is not a boolean (true/false or 0/1)")


def encode(binding: ModbusBinding, value: object, device_order: ByteOrder = "ABCD", point: str = "") -> list[int] | list[bool]:
    """Registers (or one bit) that write ``value`` to ``binding``.

    A ``bit`` binding shares its register with others: use :func:`merge_bit`.
    Raises :class:`EncodeError` naming ``point``, the type and the range.
    """
    if binding.table in BIT_TABLES:
        return [_as_bool(binding, value, point)]
    if binding.bit is not None:
        raise EncodeError(f"{_label(binding, point)}: bit {binding.bit} is written by merging into its register")
    order = _order(binding, device_order)
    if binding.type == "bool":
        return _to_wire(struct.pack(">H", int(_as_bool(binding, value, point))), order)
    fmt = _FORMATS[binding.type][0]
    raw = raw_value(binding, value, point)
    return _to_wire(struct.pack(">" + fmt, raw), order)


def merge_bit(binding: ModbusBinding, value: object, register: int, device_order: ByteOrder = "ABCD", point: str = "") -> int:
    """``register`` (as read) with the binding's bit set to ``value``, ready to write back."""
    if binding.bit is None:
        raise EncodeError(f"{_label(binding, point)}: not a bit binding")
    _check_registers([register], 1, binding)
    order = _order(binding, device_order)
    plain = int.from_bytes(_from_wire([register], order), "big")
    mask = 1 << binding.bit
    plain = plain | mask if _as_bool(binding, value, point) else plain & ~mask
    return _to_wire(plain.to_bytes(2, "big"), order)[0]
