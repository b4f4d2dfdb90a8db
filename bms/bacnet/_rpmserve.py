"""A served device's ReadPropertyMultiple answer, encoded without bacpypes3's object model.

bacpypes3 builds an Any (an encoded tag list) per property, then a
ReadPropertyMultiple-ACK of objects, then encodes it all again: ~0.5 ms of
CPU per property on these machines, so our simulated devices, not the
client, set the pace of every benchmark and test. :func:`rpm_answer`
reads each property from the local object as bacpypes3 does
(``read_property``: the same values and the same errors) and writes the
common primitives (Real, Unsigned, Enumerated, Boolean, BitString, Null,
UTF-8 CharacterString) itself; any other value is encoded by bacpypes3.
Requests for ``all``, ``required`` or ``optional`` properties, or naming no
object the device has, are left to bacpypes3 (``None``).
"""

from __future__ import annotations

import struct
from typing import Any

from bacpypes3.basetypes import ErrorClass, ErrorCode, PropertyIdentifier
from bacpypes3.constructeddata import Any as AnyValue
from bacpypes3.errors import ExecutionError, PropertyError
from bacpypes3.primitivedata import (
    BitString,
    Boolean,
    CharacterString,
    Enumerated,
    Null,
    ObjectIdentifier,
    ObjectType,
    Real,
    Unsigned,
)

from bms.bacnet._fastdecode import decode_rpm_request

_REAL = struct.Struct(">f").pack
_SPECIAL = frozenset({PropertyIdentifier.all, PropertyIdentifier.required, PropertyIdentifier.optional})


def _length(tag: int, size: int) -> bytes:
    if size < 5:
        return bytes((tag << 4 | size,))
    if size < 254:
        return bytes((tag << 4 | 5, size))
    return bytes((tag << 4 | 5, 254)) + size.to_bytes(2, "big")


def _unsigned(tag: int, value: int) -> bytes:
    size = max(1, (value.bit_length() + 7) // 8)
    return bytes((tag << 4 | size,)) + value.to_bytes(size, "big")


def encode_value(value: Any) -> bytes:
    """The application-tagged encoding of one property value (bacpypes3's, for what is not common)."""
    kind = type(value)
    if kind is Real:
        return b"\x44" + _REAL(value)
    if isinstance(value, Enumerated):
        return _unsigned(9, int(value))
    if isinstance(value, BitString):
        bits = list(value)
        unused = (8 - len(bits) % 8) % 8
        bits += [0] * unused
        octets = bytes(sum(bit << (7 - i) for i, bit in enumerate(bits[at:at + 8])) for at in range(0, len(bits), 8))
        return _length(8, len(octets) + 1) + bytes((unused,)) + octets
    if kind is Unsigned:
        return _unsigned(2, int(value))
    if kind is Boolean:
        return b"\x11" if value else b"\x10"
    if kind is Null:
        return b"\x00"
    if kind is CharacterString:
        text = b"\x00" + str(value).encode("utf-8")
        return _length(7, len(text)) + text
    return bytes(AnyValue(value).tagList.encode().pduData)


def _context(number: int, value: int) -> bytes:
    size = max(1, (value.bit_length() + 7) // 8)
    return bytes((number << 4 | 0x08 | size,)) + value.to_bytes(size, "big")


Spec = tuple[Any, list[tuple[Any, "int | None"]]]
"""(object identifier, [(property identifier, array index or None)]) of one read access specification."""

_OIDS: dict[tuple[int, int], ObjectIdentifier] = {}
_PROPS: dict[int, PropertyIdentifier] = {}


def specs_of(apdu: Any, own: Any) -> list[Spec]:
    """The specifications of a decoded ReadPropertyMultiple-Request (``own`` maps the wildcard device)."""
    return [(own(spec.objectIdentifier), [(ref.propertyIdentifier, ref.propertyArrayIndex)
                                          for ref in spec.listOfPropertyReferences])
            for spec in apdu.listOfReadAccessSpecs]


def specs_from(data: bytes, own: Any) -> list[Spec]:
    """The specifications of a request's service data, as :func:`specs_of` gives them (CodecError if malformed)."""
    out: list[Spec] = []
    for object_type, instance, refs in decode_rpm_request(data):
        oid = _OIDS.get((object_type, instance))
        if oid is None:
            oid = ObjectIdentifier((ObjectType(object_type), instance))
            if len(_OIDS) < 100_000:
                _OIDS[(object_type, instance)] = oid
        props = []
        for prop, index in refs:
            found = _PROPS.get(prop)
            if found is None:
                found = _PROPS[prop] = PropertyIdentifier(prop)
            props.append((found, index))
        out.append((own(oid), props))
    return out


async def rpm_answer(app: Any, specs: list[Spec]) -> bytes | None:
    """The service data of the ReadPropertyMultiple-ACK to ``specs``, or None for bacpypes3 to answer."""
    objects = [app.get_object_id(oid) for oid, _ in specs]
    if not any(obj is not None for obj in objects):
        return None  # bacpypes3 answers unknown-object for the whole request
    out = bytearray()
    for (oid, refs), obj in zip(specs, objects, strict=True):
        out += b"\x0c" + (int(oid[0]) << 22 | int(oid[1])).to_bytes(4, "big") + b"\x1e"
        for prop, index in refs:
            if prop in _SPECIAL:
                return None
            out += _context(2, int(prop))
            if index is not None:
                out += _context(3, int(index))
            if obj is None:
                out += b"\x5e\x91\x01\x91\x1f\x5f"  # object: unknown-object
                continue
            try:
                try:
                    value = await app.read_value(obj, prop, index)
                except AttributeError:
                    raise PropertyError(errorCode="unknownProperty") from None
                if value is None:
                    raise PropertyError(errorCode="unknownProperty")
                if obj.get_property_type(prop) is None:
                    raise PropertyError(errorCode="datatypeNotSupported")
                encoded = encode_value(value)
            except ExecutionError as error:
                out += b"\x5e" + _unsigned(9, int(_enum("errorClass", error.errorClass)))
                out += _unsigned(9, int(_enum("errorCode", error.errorCode))) + b"\x5f"
                continue
            out += b"\x4e" + encoded + b"\x4f"
        out += b"\x1f"
    return bytes(out)


def _enum(which: str, value: Any) -> int:
    kind = ErrorClass if which == "errorClass" else ErrorCode
    return int(kind(value))
