"""ReadPropertyMultiple as bytes: the request's encoding and the common shapes of its answer.

Pure functions over the service data of the APDU (no sockets, no
bacpypes3): :func:`encode_rpm_request` writes the list of read access
specifications; :func:`decode_rpm_ack` walks a ReadPropertyMultiple-ACK and
gives one :data:`AckElement` per property. A value that is one application
tagged primitive among Null, Boolean, Unsigned, Signed, Real, Double,
UTF-8 CharacterString, BitString and Enumerated is decoded here; anything
else (constructed values, other primitives, other character sets) is left
as ``RAW`` with the offsets of its encoding, for bacpypes3 to decode. An
error entry carries its error class and code numbers.

Decoding bacpypes3's object model for an answer of 100 properties cost
~18 ms of CPU; this walks it in well under a millisecond. The client
(:mod:`bms.bacnet._wire`) decides, per property and from bacpypes3's own
datatype of it, whether a decoded primitive is what bacpypes3 would have
accepted; a hypothesis test proves both give the same values.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import NamedTuple

from bms.errors import CodecError

NULL, BOOLEAN, UNSIGNED, SIGNED, REAL, DOUBLE, OCTETS, CHARACTERS, BITS, ENUMERATED = range(10)
RAW = -1
"""The value is not one primitive we decode."""
ERROR = -2
"""An error entry: ``value`` is ``(error class, error code)``."""

AckElement = tuple[int, int, int, "int | None", int, object, int, int]
"""(object type, instance, property identifier, array index or None, tag, value, start, end).

``tag`` is the application tag of a decoded primitive (:data:`REAL`...),
:data:`RAW` or :data:`ERROR`. Values: None, bool, int, float, str, a tuple
of bits (0/1) for a bit string, None for RAW, ``(class, code)`` for ERROR.
``data[start:end]`` is the value's encoding (between its opening and
closing tags), for a decoder that knows more.
"""

RequestRef = tuple[int, int, int, "int | None"]
"""(object type, instance, property identifier, array index or None)."""

_REAL = struct.Struct(">f").unpack_from
_DOUBLE = struct.Struct(">d").unpack_from
_BITS: dict[bytes, tuple[int, ...]] = {}


def _context(number: int, value: int) -> bytes:
    """A context-tagged unsigned (``number`` < 15)."""
    size = 1 if value < 0x100 else 2 if value < 0x10000 else 3 if value < 0x1000000 else 4
    return bytes((number << 4 | 0x08 | size,)) + value.to_bytes(size, "big")


def encode_rpm_request(refs: Iterable[RequestRef]) -> bytes:
    """The service data of a ReadPropertyMultiple-Request; consecutive refs of one object share its spec."""
    out = bytearray()
    last: tuple[int, int] | None = None
    for object_type, instance, prop, index in refs:
        if not 0 <= object_type < 1024 or not 0 <= instance < 0x400000:
            raise CodecError(f"bad object identifier {object_type},{instance}")
        if (object_type, instance) != last:
            if last is not None:
                out += b"\x1f"
            out += b"\x0c" + (object_type << 22 | instance).to_bytes(4, "big") + b"\x1e"
            last = (object_type, instance)
        out += _context(0, prop)
        if index is not None:
            out += _context(1, index)
    if last is not None:
        out += b"\x1f"
    return bytes(out)


def _header(data: bytes, at: int) -> tuple[int, bool, int, int]:
    """(tag number, context class, length/value/type field, offset after the header) of the tag at ``at``."""
    octet = data[at]
    at += 1
    number = octet >> 4
    if number == 15:
        number = data[at]
        at += 1
    lvt = octet & 7
    context = bool(octet & 8)
    if lvt == 5:
        lvt = data[at]
        at += 1
        if lvt == 254:
            lvt = int.from_bytes(data[at:at + 2], "big")
            at += 2
        elif lvt == 255:
            lvt = int.from_bytes(data[at:at + 4], "big")
            at += 4
    return number, context, lvt, at


def _skip_value(data: bytes, at: int, end: int) -> int:
    """The offset of the closing tag that ends the value starting at ``at`` (nesting followed)."""
    depth = 0
    while at < end:
        octet = data[at]
        number, context, lvt, after = _header(data, at)
        if context and (octet & 7) == 6:
            depth += 1
            at = after
            continue
        if context and (octet & 7) == 7:
            if depth == 0:
                return at
            depth -= 1
            at = after
            continue
        at = after if (not context and number == BOOLEAN) else after + lvt
    raise CodecError("read-property-multiple answer: a value runs past the end")


def _primitive(data: bytes, at: int, close: int) -> tuple[int, object]:
    """The (tag, value) of the value between ``at`` and ``close``, or (RAW, None)."""
    octet = data[at]
    if octet & 8:
        return RAW, None
    number, _, lvt, start = _header(data, at)
    stop = start + lvt
    if number == BOOLEAN:
        stop = start
        if lvt > 1:
            return RAW, None
    if stop != close:
        return RAW, None
    if number == REAL and lvt == 4:
        return REAL, _REAL(data, start)[0]
    if number == ENUMERATED and 1 <= lvt <= 4:
        return ENUMERATED, int.from_bytes(data[start:stop], "big")
    if number == UNSIGNED and 1 <= lvt <= 8:
        return UNSIGNED, int.from_bytes(data[start:stop], "big")
    if number == BITS and lvt >= 1:
        raw = data[start:stop]
        bits = _BITS.get(raw)
        if bits is None:
            unused = raw[0]
            if unused > 7 or (lvt == 1 and unused):
                return RAW, None
            bits = tuple(octet >> (7 - i) & 1 for octet in raw[1:] for i in range(8))
            bits = bits[:len(bits) - unused]
            if lvt <= 2:  # status flags and the like: a handful of shapes, kept
                _BITS[bytes(raw)] = bits
        return BITS, bits
    if number == BOOLEAN:
        return BOOLEAN, bool(lvt)
    if number == NULL and lvt == 0:
        return NULL, None
    if number == SIGNED and 1 <= lvt <= 8:
        return SIGNED, int.from_bytes(data[start:stop], "big", signed=True)
    if number == DOUBLE and lvt == 8:
        return DOUBLE, _DOUBLE(data, start)[0]
    if number == CHARACTERS and lvt >= 1 and data[start] == 0:
        try:
            return CHARACTERS, data[start + 1:stop].decode("utf-8")
        except UnicodeDecodeError:
            return RAW, None
    return RAW, None


def _unsigned(data: bytes, at: int, lvt: int) -> int:
    return int.from_bytes(data[at:at + lvt], "big")


def decode_rpm_ack(data: bytes) -> list[AckElement]:
    """Every result of a ReadPropertyMultiple-ACK's service data, in the order of the answer.

    Raises :class:`~bms.errors.CodecError` when the data is not a
    well-formed list of read access results.
    """
    out: list[AckElement] = []
    append = out.append
    end = len(data)
    at = 0
    try:
        while at < end:
            if data[at] != 0x0C:
                raise CodecError(f"read-property-multiple answer: object identifier expected at octet {at}")
            ident = int.from_bytes(data[at + 1:at + 5], "big")
            object_type, instance = ident >> 22, ident & 0x3FFFFF
            if data[at + 5] != 0x1E:
                raise CodecError(f"read-property-multiple answer: list of results expected at octet {at + 5}")
            at += 6
            while True:
                octet = data[at]
                if octet == 0x1F:
                    at += 1
                    break
                if octet & 0xF8 != 0x28:
                    raise CodecError(f"read-property-multiple answer: property identifier expected at octet {at}")
                lvt = octet & 7
                prop = _unsigned(data, at + 1, lvt)
                at += 1 + lvt
                index: int | None = None
                octet = data[at]
                if octet & 0xF8 == 0x38:
                    lvt = octet & 7
                    index = _unsigned(data, at + 1, lvt)
                    at += 1 + lvt
                    octet = data[at]
                if octet == 0x4E:
                    close = _skip_value(data, at + 1, end)
                    if data[close] != 0x4F:
                        raise CodecError(f"read-property-multiple answer: property value not closed at octet {close}")
                    tag, value = (RAW, None) if close == at + 1 else _primitive(data, at + 1, close)
                    append((object_type, instance, prop, index, tag, value, at + 1, close))
                    at = close + 1
                elif octet == 0x5E:
                    at += 1
                    _, context, lvt, start = _header(data, at)
                    _, context2, lvt2, start2 = _header(data, start + lvt)
                    if context or context2 or data[start2 + lvt2] != 0x5F:
                        raise CodecError(f"read-property-multiple answer: bad error entry at octet {at}")
                    append((object_type, instance, prop, index, ERROR,
                            (_unsigned(data, start, lvt), _unsigned(data, start2, lvt2)), at, start2 + lvt2))
                    at = start2 + lvt2 + 1
                else:
                    raise CodecError(f"read-property-multiple answer: value or error expected at octet {at}")
    except IndexError:
        raise CodecError("read-property-multiple answer: cut short") from None
    return out


CovElement = tuple[int, "int | None", int, object, int, int]
"""(property identifier, array index or None, tag, value, start, end) of one value of a COV notification."""


class CovNotice(NamedTuple):
    """The service data of a COV notification: who, what, how long, and its values."""

    process_id: int
    device: tuple[int, int]  # (object type, instance) of the initiating device
    monitored: tuple[int, int]
    time_remaining: int
    values: list[CovElement]


def _context_unsigned(data: bytes, at: int, number: int) -> tuple[int, int]:
    """(value, offset after) of context tag ``number`` holding an unsigned at ``at``."""
    octet = data[at]
    if octet & 0xF8 != (number << 4 | 0x08):
        raise CodecError(f"COV notification: context tag {number} expected at octet {at}")
    size = octet & 7
    if size > 4:
        raise CodecError(f"COV notification: bad length at octet {at}")
    return int.from_bytes(data[at + 1:at + 1 + size], "big"), at + 1 + size


def decode_cov_notification(data: bytes) -> CovNotice:
    """A (confirmed or unconfirmed) COV notification's service data; CodecError when malformed."""
    try:
        pid, at = _context_unsigned(data, 0, 0)
        device, at = _context_unsigned(data, at, 1)
        monitored, at = _context_unsigned(data, at, 2)
        remaining, at = _context_unsigned(data, at, 3)
        if data[at] != 0x4E:
            raise CodecError(f"COV notification: list of values expected at octet {at}")
        at += 1
        end = len(data)
        values: list[CovElement] = []
        while data[at] != 0x4F:
            prop, at = _context_unsigned(data, at, 0)
            index: int | None = None
            if data[at] & 0xF8 == 0x18:
                index, at = _context_unsigned(data, at, 1)
            if data[at] != 0x2E:
                raise CodecError(f"COV notification: value expected at octet {at}")
            close = _skip_value(data, at + 1, end)
            if data[close] != 0x2F:
                raise CodecError(f"COV notification: value not closed at octet {close}")
            tag, value = (RAW, None) if close == at + 1 else _primitive(data, at + 1, close)
            values.append((prop, index, tag, value, at + 1, close))
            at = close + 1
            if data[at] & 0xF8 == 0x38:  # priority
                _, at = _context_unsigned(data, at, 3)
        if at + 1 != end:
            raise CodecError("COV notification: data after the list of values")
    except IndexError:
        raise CodecError("COV notification: cut short") from None
    return CovNotice(pid, (device >> 22, device & 0x3FFFFF), (monitored >> 22, monitored & 0x3FFFFF), remaining, values)


def decode_rpm_request(data: bytes) -> list[tuple[int, int, list[tuple[int, int | None]]]]:
    """A ReadPropertyMultiple-Request's service data: (object type, instance, [(property, index)]) per spec."""
    out: list[tuple[int, int, list[tuple[int, int | None]]]] = []
    at, end = 0, len(data)
    try:
        while at < end:
            if data[at] != 0x0C or data[at + 5] != 0x1E:
                raise CodecError(f"read-property-multiple request: object identifier expected at octet {at}")
            ident = int.from_bytes(data[at + 1:at + 5], "big")
            refs: list[tuple[int, int | None]] = []
            at += 6
            while data[at] != 0x1F:
                prop, at = _context_value(data, at, 0)
                index: int | None = None
                if data[at] & 0xF8 == 0x18 and data[at] & 7 <= 4:  # an index (0x1F closes the list)
                    index, at = _context_value(data, at, 1)
                refs.append((prop, index))
            out.append((ident >> 22, ident & 0x3FFFFF, refs))
            at += 1
    except IndexError:
        raise CodecError("read-property-multiple request: cut short") from None
    return out


def _context_value(data: bytes, at: int, number: int) -> tuple[int, int]:
    octet = data[at]
    if octet & 0xF8 != (number << 4 | 0x08) or not 1 <= octet & 7 <= 4:
        raise CodecError(f"read-property-multiple request: context tag {number} expected at octet {at}")
    size = octet & 7
    return int.from_bytes(data[at + 1:at + 1 + size], "big"), at + 1 + size
