"""A block's decoder, compiled once per (block, device order) and run on every poll.

:func:`decode_block` decodes a validated reply: the registers are packed
into bytes once, and each point is unpacked from its byte offset with a
precompiled :class:`struct.Struct`. Values are the same as
:func:`bms.modbus.decode` gives point by point (tested against it for every
type and order); the work per point drops from building bytes per register
to one ``unpack_from``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence

from bms.config._schema import ByteOrder, ModbusBinding
from bms.messages import Sample
from bms.modbus._codec import _FORMATS, BIT_TABLES
from bms.modbus._plan import ReadBlock

Reorder = Callable[[bytes], bytes] | None


def _swap_pairs(data: bytes) -> bytes:
    out = bytearray(data)
    out[0::2], out[1::2] = data[1::2], data[0::2]
    return bytes(out)


def _reverse_words(data: bytes) -> bytes:
    return b"".join(data[i:i + 2] for i in range(len(data) - 2, -1, -2))


_REORDER: dict[str, Reorder] = {
    "ABCD": None,
    "BADC": _swap_pairs,
    "CDAB": _reverse_words,
    "DCBA": lambda data: data[::-1],
}

# one compiled point: (point id, how, byte offset, Struct, reorder, bit, scale, offset)
_Step = tuple[str, int, int, struct.Struct | None, Reorder, int, float, float]
_BIT, _FLAG, _BOOL, _NUMBER = 0, 1, 2, 3


def _compile(block: ReadBlock, device_order: ByteOrder) -> tuple[_Step, ...]:
    steps: list[_Step] = []
    for point_id, offset, binding in block.points:
        steps.append(_step(point_id, offset, binding, device_order))
    return tuple(steps)


def _step(point_id: str, offset: int, binding: ModbusBinding, device_order: ByteOrder) -> _Step:
    if binding.table in BIT_TABLES:
        return (point_id, _BIT, offset, None, None, 0, 1.0, 0.0)
    reorder = _REORDER[binding.order if binding.order is not None else device_order]
    if binding.bit is not None:
        return (point_id, _FLAG, offset * 2, struct.Struct(">H"), reorder, binding.bit, 1.0, 0.0)
    fmt, count, _ = _FORMATS[binding.type]
    how = _BOOL if binding.type == "bool" else _NUMBER
    return (point_id, how, offset * 2, struct.Struct(">" + fmt), reorder, count * 2, binding.scale, binding.offset)


_cache: dict[tuple[int, str], tuple[ReadBlock, tuple[_Step, ...]]] = {}
_CACHE_MAX = 4096


def compiled(block: ReadBlock, device_order: ByteOrder) -> tuple[_Step, ...]:
    """The block's decoder (cached by identity: a device's plan is made once and polled for ever)."""
    key = (id(block), device_order)
    hit = _cache.get(key)
    if hit is not None and hit[0] is block:
        return hit[1]
    steps = _compile(block, device_order)
    if len(_cache) >= _CACHE_MAX:
        _cache.clear()
    _cache[key] = (block, steps)
    return steps


def decode_block(block: ReadBlock, values: Sequence[int] | Sequence[bool], device_order: ByteOrder, ts: float) -> list[Sample]:
    """One Sample per point of a block from its validated ``values`` (see :func:`~bms.modbus.check_reply`).

    A non-finite float (a meter's "not available") becomes a faulted sample with no value.
    """
    steps = compiled(block, device_order)
    if block.is_bits:
        return [Sample(point_id, bool(values[offset]), ts) for point_id, _how, offset, *_ in steps]
    data = struct.pack(f">{len(values)}H", *values)
    samples: list[Sample] = []
    append = samples.append
    isfinite = math.isfinite
    size = len(data)
    for point_id, how, at, st, reorder, extra, scale, shift in steps:
        assert st is not None
        if at + st.size > size:  # a point beyond the reply: a plan and a reply that do not match
            append(Sample(point_id, None, ts, fault=f"cannot decode: {block.describe()} reply ends before it"))
            continue
        if how == _NUMBER:
            raw = st.unpack_from(data, at)[0] if reorder is None else st.unpack(reorder(data[at:at + extra]))[0]
            if type(raw) is float and not isfinite(raw):
                append(Sample(point_id, None, ts, fault=f"device reported {raw} (not available)"))
                continue
            append(Sample(point_id, raw if scale == 1.0 and shift == 0.0 else raw * scale + shift, ts))
        elif how == _FLAG:
            word = data[at:at + 2]
            register = st.unpack(reorder(word) if reorder is not None else word)[0]
            append(Sample(point_id, bool(register >> extra & 1), ts))
        else:
            append(Sample(point_id, data[at:at + 2] != b"\x00\x00", ts))
    return samples
