"""The values of a ReadPropertyMultiple-ACK, as bacpypes3 would give them, at a fraction of its cost.

:func:`ack_values` walks the answer with :func:`~bms.bacnet._fastdecode.decode_rpm_ack`
and, for each property, asks bacpypes3 only what its datatype is (cached
per object type and property): a decoded primitive whose tag is the one
bacpypes3 would accept for that datatype is taken as it is (a REAL as the
shortest decimal of its single-precision value, as
:func:`~bms.bacnet._codec.to_value` gives it; binary present values as
bools; status flags as a tuple of bits); anything else is handed to
bacpypes3's own decoding (``Any.cast_out``), so enumerations keep their
names and constructed values their classes. A property that bacpypes3
cannot decode (a device that encodes priority-array[0] as a REAL) is that
property's :class:`ReadFailure`, naming why: it never fails the others.
"""

from __future__ import annotations

from typing import Any

from bacpypes3.basetypes import BinaryPV, ErrorClass, ErrorCode, PriorityValue, StatusFlags
from bacpypes3.constructeddata import Any as AnyValue
from bacpypes3.constructeddata import Array
from bacpypes3.pdu import PDUData
from bacpypes3.primitivedata import (
    Boolean,
    CharacterString,
    Double,
    Integer,
    ObjectType,
    PropertyIdentifier,
    Real,
    TagList,
    Unsigned,
)

from bms.bacnet._batch import ReadFailure
from bms.bacnet._codec import error_text, single, to_value
from bms.bacnet._fastdecode import (
    BITS,
    BOOLEAN,
    CHARACTERS,
    DOUBLE,
    ENUMERATED,
    ERROR,
    NULL,
    REAL,
    SIGNED,
    UNSIGNED,
    CovNotice,
    decode_rpm_ack,
)
from bms.messages import Value

Key = tuple[int, int, int, "int | None"]
"""(object type, instance, property identifier, array index or None)."""

_FALLBACK = -99  # no primitive of ours stands for this datatype: bacpypes3 decodes it
_EXACT: dict[type, int] = {
    Unsigned: UNSIGNED, Integer: SIGNED, Real: REAL, Double: DOUBLE, Boolean: BOOLEAN, CharacterString: CHARACTERS,
    PriorityValue: NULL,  # an empty priority level; its other choices go to bacpypes3
}


class _Datatype:
    """bacpypes3's datatype of one property (of one object type, at one kind of index), and our tag for it."""

    __slots__ = ("kind", "name", "tag")

    def __init__(self, kind: type | None, name: str) -> None:
        self.kind = kind
        self.name = name
        self.tag = _FALLBACK
        if kind is not None:
            self.tag = _EXACT.get(kind, _FALLBACK)
            if issubclass(kind, StatusFlags):
                self.tag = BITS
            elif issubclass(kind, BinaryPV):
                self.tag = ENUMERATED  # inactive / active: a bool, as to_value makes it


_DATATYPES: dict[tuple[int, int, int, int], _Datatype] = {}
_ERRORS: dict[tuple[int, int], ReadFailure] = {}


def _datatype(vendor_info: Any, object_type: int, prop: int, index: int | None) -> _Datatype:
    at = 0 if index is None else 1 if index == 0 else 2
    key = (getattr(vendor_info, "vendor_identifier", 0), object_type, prop, at)
    found = _DATATYPES.get(key)
    if found is not None:
        return found
    try:
        object_class = vendor_info.get_object_class(ObjectType(object_type))
        name = str(PropertyIdentifier(prop))
        kind = object_class.get_property_type(PropertyIdentifier(prop)) if object_class is not None else None
    except (ValueError, TypeError, KeyError, AttributeError):
        name, kind = str(prop), None
    if kind is not None and issubclass(kind, Array) and index is not None:
        kind = Unsigned if index == 0 else kind._subtype
    found = _DATATYPES[key] = _Datatype(kind, name)
    return found


def _error(error_class: int, error_code: int) -> ReadFailure:
    found = _ERRORS.get((error_class, error_code))
    if found is None:
        try:
            klass = str(ErrorClass(error_class))
        except (ValueError, TypeError):
            klass = str(error_class)
        try:
            code = str(ErrorCode(error_code))
        except (ValueError, TypeError):
            code = str(error_code)
        found = _ERRORS[(error_class, error_code)] = ReadFailure(error_text(klass, code))
    return found


def _bacpypes3(data: bytes, start: int, end: int, datatype: _Datatype) -> Any:
    """bacpypes3's decoding of one value (a ReadFailure when it cannot)."""
    if datatype.kind is None:
        return ReadFailure("cannot decode")
    try:
        value = AnyValue(TagList.decode(PDUData(data[start:end]))).cast_out(datatype.kind)
    except Exception as err:  # every decoding error of the stack (InvalidTag is a RejectException)
        return ReadFailure(f"cannot decode {datatype.name}: {err or type(err).__name__}")
    return ReadFailure("cannot decode") if value is None else value


def ack_values(data: bytes, vendor_info: Any) -> dict[Key, Any]:
    """Each property of a ReadPropertyMultiple-ACK's service data: its value, or a ReadFailure.

    ``vendor_info`` is the device's bacpypes3 VendorInfo (its object classes
    say what each property holds). Raises :class:`~bms.errors.CodecError`
    when the answer is not a list of read access results.
    """
    out: dict[Key, Any] = {}
    for object_type, instance, prop, index, tag, value, start, end in decode_rpm_ack(data):
        key = (object_type, instance, prop, index)
        if tag == ERROR:
            out[key] = _error(*value)  # type: ignore[misc]
            continue
        out[key] = element_value(data, vendor_info, object_type, prop, index, tag, value, start, end)
    return out


def element_value(
    data: bytes, vendor_info: Any, object_type: int, prop: int, index: int | None, tag: int, value: object,
    start: int, end: int,
) -> Any:
    """One value decoded by :mod:`bms.bacnet._fastdecode` as bacpypes3 would give it (see the module)."""
    datatype = _DATATYPES.get((getattr(vendor_info, "vendor_identifier", 0), object_type, prop,
                               0 if index is None else 1 if index == 0 else 2))
    if datatype is None:
        datatype = _datatype(vendor_info, object_type, prop, index)
    if tag != datatype.tag:
        return _bacpypes3(data, start, end, datatype)
    if tag == REAL:
        return single(value)  # type: ignore[arg-type]
    if tag == ENUMERATED:
        return value == 1 if value in (0, 1) else _bacpypes3(data, start, end, datatype)
    return value


PRESENT_VALUE, STATUS_FLAGS = 85, 111  # property identifiers


def cov_reading(note: CovNotice, data: bytes, vendor_info: Any, object_type: str) -> tuple[Value, Any]:
    """The present value (as :func:`~bms.bacnet._codec.to_value` gives it) and the status flags (raw bits,
    None when absent) of a COV notification; a value bacpypes3 would not decode is left out, as it is there."""
    value: Value = None
    flags: Any = None
    for prop, index, tag, raw, start, end in note.values:
        if prop in (PRESENT_VALUE, STATUS_FLAGS):
            got = element_value(data, vendor_info, note.monitored[0], prop, index, tag, raw, start, end)
            if isinstance(got, ReadFailure):
                continue
            if prop == PRESENT_VALUE:
                value = to_value(got, object_type)
            else:
                flags = got
    return value, flags
