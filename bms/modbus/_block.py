"""A block's decoder, compiled once per (block, device order) and run on every poll.

:func:`decode_payload` decodes a validated register reply from its bytes
(what the bridge's sessions get, see :mod:`bms.modbus._payload`): one
precompiled :class:`struct.Struct` unpacks every big-endian number of the
block at once, and other points are unpacked from their byte offset.
:func:`decode_block` takes a register list (or bits) instead. Values are the same as
:func:`bms.modbus.decode` gives point by point (tested against it for every
type and order); the work per point drops from building bytes per register
to one ``unpack_from``.
"""

from __future__ import annotations

import itertools
import math
import struct
from collections.abc import Callable, Sequence
from typing import Any

from bms.config._schema import ByteOrder, ModbusBinding
from bms.messages import Readings, Sample
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

# one compiled point: (point id, how, byte offset, Struct, reorder, bit or bytes, scale, offset,
# index of its value in the block's bulk unpack or -1)
_Step = tuple[str, int, int, struct.Struct | None, Reorder, int, float, float, int]
_BIT, _FLAG, _BOOL, _NUMBER = 0, 1, 2, 3


class _Decoder:
    """A block's steps, and one Struct that unpacks every big-endian number of the block at once.

    When every point of the block is such a number (the common register
    block), ``ids``, ``scaled`` and ``floats`` let :func:`decode_block` build
    the samples without a per-point branch, and the steps are made again
    only if a reply ever needs them (one that ends early): 100,000 points
    kept 100,000 step tuples (11 MB) that such blocks never read.
    """

    __slots__ = ("_block", "_order", "_steps", "bulk", "bulk_size", "floats", "ids", "scaled")

    def __init__(self, block: ReadBlock, device_order: ByteOrder) -> None:
        steps, bulk, bulk_size = _compile(block, device_order)
        self.bulk = bulk
        self.bulk_size = bulk_size
        every = bulk is not None and all(step[8] == i for i, step in enumerate(steps))
        self.ids: tuple[str, ...] | None = tuple(step[0] for step in steps) if every else None
        self.scaled = tuple((i, step[6], step[7]) for i, step in enumerate(steps) if (step[6], step[7]) != (1.0, 0.0))
        self.floats = tuple(i for i, step in enumerate(steps) if step[3] is not None and step[3].format[-1] in "fd")
        self._block, self._order = block, device_order
        self._steps: tuple[_Step, ...] | None = None if every else steps

    @property
    def steps(self) -> tuple[_Step, ...]:
        if self._steps is None:
            self._steps = _compile(self._block, self._order)[0]
        return self._steps


def _compile(block: ReadBlock, device_order: ByteOrder) -> tuple[tuple[_Step, ...], struct.Struct | None, int]:
    """The block's steps, the Struct of its bulk unpack (None if no point is in it) and the bytes it reads."""
    steps: list[_Step] = []
    fmt, cursor, taken = [">"], 0, 0
    for point_id, offset, binding in block.points:
        step = _step(point_id, offset, binding, device_order)
        how, at, st, reorder = step[1], step[2], step[3], step[4]
        if how == _NUMBER and reorder is None and st is not None and at >= cursor:
            fmt.append("x" * (at - cursor) + st.format[1:])  # pad to the point, then its own format
            cursor = at + st.size
            step = (*step[:8], taken)
            taken += 1
        steps.append(step)
    bulk = _struct("".join(fmt)) if taken else None
    return tuple(steps), bulk, cursor


def _step(point_id: str, offset: int, binding: ModbusBinding, device_order: ByteOrder) -> _Step:
    if binding.table in BIT_TABLES:
        return (point_id, _BIT, offset, None, None, 0, 1.0, 0.0, -1)
    reorder = _REORDER[binding.order if binding.order is not None else device_order]
    if binding.bit is not None:
        return (point_id, _FLAG, offset * 2, _struct(">H"), reorder, binding.bit, 1.0, 0.0, -1)
    fmt, count, _ = _FORMATS[binding.type]
    how = _BOOL if binding.type == "bool" else _NUMBER
    return (point_id, how, offset * 2, _struct(">" + fmt), reorder, count * 2, binding.scale, binding.offset, -1)


_STRUCTS: dict[str, struct.Struct] = {}


def _struct(fmt: str) -> struct.Struct:
    """One Struct per format, shared by every step and block that uses it (100,000 points of a few
    formats held 100,000 Structs, 16 MB)."""
    found = _STRUCTS.get(fmt)
    if found is None:
        if len(_STRUCTS) >= _CACHE_MAX:
            _STRUCTS.clear()
        found = _STRUCTS[fmt] = struct.Struct(fmt)
    return found


_PACKERS: dict[int, struct.Struct] = {}


def _packer(count: int) -> struct.Struct:
    """``count`` big-endian registers (cached: a reply has at most 125)."""
    packer = _PACKERS.get(count)
    if packer is None:
        packer = _PACKERS[count] = struct.Struct(f">{count}H")
    return packer


_cache: dict[tuple[int, str], tuple[ReadBlock, _Decoder]] = {}
_CACHE_MAX = 4096


def compiled(block: ReadBlock, device_order: ByteOrder) -> _Decoder:
    """The block's decoder (cached by identity: a device's plan is made once and polled for ever)."""
    key = (id(block), device_order)
    hit = _cache.get(key)
    if hit is not None and hit[0] is block:
        return hit[1]
    decoder = _Decoder(block, device_order)
    if len(_cache) >= _CACHE_MAX:
        _cache.clear()
    _cache[key] = (block, decoder)
    return decoder


def decode_block(block: ReadBlock, values: Sequence[int] | Sequence[bool], device_order: ByteOrder, ts: float) -> list[Sample]:
    """One Sample per point of a block from its validated ``values`` (see :func:`~bms.modbus.check_reply`).

    A non-finite float (a meter's "not available") becomes a faulted sample with no value.
    """
    decoder = compiled(block, device_order)
    if block.is_bits:
        return [Sample(point_id, bool(values[offset]), ts) for point_id, _how, offset, *_ in decoder.steps]
    return _decode(block, decoder, _packer(len(values)).pack(*values), ts)


def decode_payload(block: ReadBlock, payload: bytes, device_order: ByteOrder, ts: float) -> list[Sample]:
    """One Sample per point of a register block from its reply's data bytes (see :func:`~bms.modbus.check_payload`)."""
    return _decode(block, compiled(block, device_order), payload, ts)


def decode_columns(block: ReadBlock, payload: bytes, device_order: ByteOrder, ts: float) -> tuple[Readings | None, list[Sample]]:
    """A register block's reply as columns where it can be: (good readings, the other samples).

    A block whose every point is a plain big-endian number (the common
    case) gives one :class:`~bms.messages.Readings`, and a Sample only for
    a value the device reports as not available; any other block gives
    its Samples as :func:`decode_payload` does. Same values either way.
    """
    decoder = compiled(block, device_order)
    bulk, ids = decoder.bulk, decoder.ids
    if bulk is None or ids is None or decoder.bulk_size > len(payload):
        return None, _decode(block, decoder, payload, ts)
    raws = list(bulk.unpack_from(payload))
    for i, scale, shift in decoder.scaled:
        raws[i] = raws[i] * scale + shift
    bad = [i for i in decoder.floats if not math.isfinite(raws[i])]
    if not bad:
        return Readings(ids, tuple(raws), ts), []
    skip = set(bad)
    good = [i for i in range(len(ids)) if i not in skip]
    faulted = [Sample(ids[i], None, ts, fault=f"device reported {raws[i]} (not available)") for i in bad]
    if not good:
        return None, faulted
    return Readings(tuple(ids[i] for i in good), tuple(raws[i] for i in good), ts), faulted


def _decode(block: ReadBlock, decoder: _Decoder, data: bytes, ts: float) -> list[Sample]:
    size = len(data)
    bulk = decoder.bulk.unpack_from(data) if decoder.bulk is not None and decoder.bulk_size <= size else None
    if bulk is not None and decoder.ids is not None:
        return _all_numbers(decoder, decoder.ids, list(bulk), ts)
    samples: list[Sample] = []
    append = samples.append
    isfinite = math.isfinite
    for point_id, how, at, st, reorder, extra, scale, shift, index in decoder.steps:
        assert st is not None
        if index >= 0 and bulk is not None:
            raw = bulk[index]
        elif at + st.size > size:  # a point beyond the reply: a plan and a reply that do not match
            append(Sample(point_id, None, ts, fault=f"cannot decode: {block.describe()} reply ends before it"))
            continue
        elif how == _NUMBER:
            raw = st.unpack_from(data, at)[0] if reorder is None else st.unpack(reorder(data[at:at + extra]))[0]
        else:
            raw = None
        if how == _NUMBER:
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


def _all_numbers(decoder: _Decoder, ids: tuple[str, ...], raws: list[Any], ts: float) -> list[Sample]:
    """Samples of a block whose every point came out of the bulk unpack (``raws``, in point order)."""
    for i, scale, shift in decoder.scaled:
        raws[i] = raws[i] * scale + shift
    bad = [i for i in decoder.floats if not math.isfinite(raws[i])]
    samples = list(map(Sample, ids, raws, itertools.repeat(ts)))
    for i in bad:
        samples[i] = Sample(ids[i], None, ts, fault=f"device reported {raws[i]} (not available)")
    return samples
