"""Our ReadPropertyMultiple decoder against bacpypes3's: the same values for every answer bacpypes3 encodes.

bacpypes3 encodes a ReadPropertyMultiple-ACK from generated results (REAL,
Unsigned, Integer, Double, Enumerated, Boolean, status flags, Null,
character strings, enumerations with names, error entries, and values of
the wrong type for their property); bacpypes3 decodes it as its client
does (``read_property_multiple``: the ACK's object model, then each value
cast to its property's datatype) and :func:`bms.bacnet._ack.ack_values`
decodes the same bytes. Both must give the same value through
``to_value`` / ``to_flags`` / ``to_text``, the same error text, and a
property that bacpypes3 cannot cast must be a ReadFailure for us (never
an exception).
"""

from __future__ import annotations

import math
import struct
from typing import Any

import pytest
from bacpypes3.apdu import APCISequence, ReadPropertyMultipleACK
from bacpypes3.basetypes import (
    BinaryPV,
    EngineeringUnits,
    ErrorClass,
    ErrorCode,
    ErrorType,
    PriorityValue,
    PropertyIdentifier,
    ReadAccessResult,
    ReadAccessResultElement,
    ReadAccessResultElementChoice,
    StatusFlags,
)
from bacpypes3.constructeddata import Any as AnyValue
from bacpypes3.constructeddata import Array
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import (
    Boolean,
    CharacterString,
    Double,
    Integer,
    Null,
    ObjectIdentifier,
    ObjectType,
    Real,
    Unsigned,
)
from bacpypes3.vendor import get_vendor_info
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bms.bacnet import ReadFailure
from bms.bacnet._ack import ack_values, element_value
from bms.bacnet._codec import error_text, to_flags, to_text, to_value
from bms.bacnet._fastdecode import (
    RAW,
    decode_cov_notification,
    decode_rpm_ack,
    decode_rpm_request,
    encode_rpm_request,
)
from bms.errors import CodecError

VENDOR = get_vendor_info(0)
FLOAT32 = st.floats(width=32, allow_nan=True, allow_infinity=True)
UNSIGNED32 = st.integers(0, 2**32 - 1)
POINT_TYPES = ["analog-input", "analog-output", "analog-value", "binary-input", "binary-value", "multi-state-input",
               "multi-state-value", "integer-value"]
ERROR_CLASSES = [name for name in ErrorClass._enum_map]  # type: ignore[attr-defined]
ERROR_CODES = [name for name in ErrorCode._enum_map]  # type: ignore[attr-defined]

# (object type, property, array index, strategy of a bacpypes3 value, decoded by us rather than bacpypes3)
SHAPES: list[tuple[str, str, int | None, Any, bool]] = [
    ("analog-input", "present-value", None, FLOAT32.map(Real), True),
    ("analog-value", "present-value", None, FLOAT32.map(Real), True),
    ("binary-input", "present-value", None, st.sampled_from(["inactive", "active"]).map(BinaryPV), True),
    ("multi-state-value", "present-value", None, UNSIGNED32.map(Unsigned), True),
    ("integer-value", "present-value", None, st.integers(-(2**31), 2**31 - 1).map(Integer), True),
    ("large-analog-value", "present-value", None, st.floats(allow_nan=False).map(Double), True),
    ("analog-input", "out-of-service", None, st.booleans().map(Boolean), True),
    ("analog-value", "priority-array", 0, UNSIGNED32.map(Unsigned), True),
    ("analog-value", "priority-array", 8, st.just(PriorityValue(null=())), True),
    ("analog-value", "priority-array", 8, FLOAT32.map(lambda v: PriorityValue(real=v)), False),
    ("analog-value", "priority-array", None, st.lists(FLOAT32, min_size=16, max_size=16).map(
        lambda vs: _datatype("analog-value", "priority-array", None)([PriorityValue(real=v) for v in vs])), False),
    ("analog-input", "units", None, st.sampled_from(["degrees-celsius", "percent", "pascals"]).map(EngineeringUnits),
     False),
    ("analog-input", "object-name", None, st.text(max_size=40).map(CharacterString), True),
    ("binary-input", "inactive-text", None, st.text(max_size=10).map(CharacterString), True),
    ("analog-input", "event-state", None, st.sampled_from(["normal", "fault", "offnormal"]).map(
        lambda v: _enum("event-state", v)), False),
    # a device that encodes a property wrongly: bacpypes3 refuses it, so do we (a ReadFailure, not an exception)
    ("analog-value", "priority-array", 0, FLOAT32.map(Real), False),
    ("binary-input", "inactive-text", None, st.just(Null(())), False),
    ("analog-input", "present-value", None, UNSIGNED32.map(Unsigned), False),
    ("binary-input", "present-value", None, st.integers(2, 9).map(Unsigned), False),
]
for kind in POINT_TYPES:
    SHAPES.append((kind, "status-flags", None, st.lists(st.integers(0, 1), min_size=4, max_size=4).map(StatusFlags),
                   True))


def _enum(prop: str, name: str) -> Any:
    kind = VENDOR.get_object_class(ObjectType("analog-input")).get_property_type(PropertyIdentifier(prop))
    return kind(name)


def _datatype(object_type: str, prop: str, index: int | None) -> Any:
    kind = VENDOR.get_object_class(ObjectType(object_type)).get_property_type(PropertyIdentifier(prop))
    if kind is not None and issubclass(kind, Array) and index is not None:
        kind = Unsigned if index == 0 else kind._subtype
    return kind


@st.composite
def results(draw: Any) -> list[tuple[str, int, str, int | None, Any]]:
    """(object type, instance, property, index, value or ErrorType) of an answer, grouped by object."""
    out = []
    seen = set()
    for instance in range(draw(st.integers(1, 4))):
        for _ in range(draw(st.integers(1, 6))):
            if draw(st.integers(0, 5)) == 0:
                kind = draw(st.sampled_from(POINT_TYPES))
                error = ErrorType(errorClass=draw(st.sampled_from(ERROR_CLASSES)),
                                  errorCode=draw(st.sampled_from(ERROR_CODES)))
                prop = draw(st.sampled_from(["present-value", "units", "description"]))
                index, value = None, error
            else:
                kind, prop, index, values, _ = draw(st.sampled_from(SHAPES))
                value = draw(values)
            if (kind, instance, prop, index) not in seen:  # one answer per property of an object
                seen.add((kind, instance, prop, index))
                out.append((kind, instance, prop, index, value))
    return out


def encode_ack(items: list[tuple[str, int, str, int | None, Any]]) -> bytes:
    groups: list[ReadAccessResult] = []
    for kind, instance, prop, index, value in items:
        oid = ObjectIdentifier(f"{kind},{instance}")
        if not groups or groups[-1].objectIdentifier != oid:
            groups.append(ReadAccessResult(objectIdentifier=oid, listOfResults=[]))
        if isinstance(value, ErrorType):
            choice = ReadAccessResultElementChoice(propertyAccessError=value)
        else:
            choice = ReadAccessResultElementChoice(propertyValue=AnyValue(value))
        groups[-1].listOfResults.append(ReadAccessResultElement(
            propertyIdentifier=PropertyIdentifier(prop), propertyArrayIndex=index, readResult=choice))
    ack = ReadPropertyMultipleACK(listOfReadAccessResults=groups)
    ack.pduDestination = Address("127.0.0.2:47808")
    ack.apduInvokeID = 1
    return bytes(ack.encode().pduData)


def bacpypes3_values(data: bytes) -> list[tuple[tuple[int, int, int, int | None], Any]]:
    """What bacpypes3's read_property_multiple makes of the answer; an exception where it raises."""
    ack = ReadPropertyMultipleACK(listOfReadAccessResults=[])
    ack.pduDestination = Address("127.0.0.2:47808")
    ack.apduInvokeID = 1
    pdu = ack.encode()
    pdu.pduData = bytearray(data)
    pdu.pduSource = Address("127.0.0.2:47808")
    decoded = APCISequence.decode(pdu)
    out = []
    for result in decoded.listOfReadAccessResults:
        oid = result.objectIdentifier
        for element in result.listOfResults:
            key = (int(oid[0]), int(oid[1]), int(element.propertyIdentifier), element.propertyArrayIndex)
            if element.readResult.propertyAccessError:
                out.append((key, element.readResult.propertyAccessError))
                continue
            kind = _datatype(str(oid[0]), str(element.propertyIdentifier), element.propertyArrayIndex)
            try:
                out.append((key, element.readResult.propertyValue.cast_out(kind)))
            except BaseException as err:  # the stack raises anything
                out.append((key, err))
    return out


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b and type(a) is type(b))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(results())
def test_our_decoder_agrees_with_bacpypes3_on_every_answer_it_encodes(items: Any) -> None:
    data = encode_ack(items)
    ours = ack_values(data, VENDOR)
    theirs = bacpypes3_values(data)
    assert len(ours) == len({key for key, _ in theirs})
    for (kind, _, prop, _, _), (key, expected) in zip(items, theirs, strict=True):
        got = ours[key]
        if isinstance(expected, ErrorType):
            assert got == ReadFailure(error_text(str(expected.errorClass), str(expected.errorCode)))
        elif isinstance(expected, BaseException):
            assert isinstance(got, ReadFailure) and got.reason.startswith(f"cannot decode {prop}: ")
        elif prop == "status-flags":
            assert to_flags(got) == to_flags(expected)
        elif prop.endswith("-text") or prop == "object-name":
            assert to_text(got) == to_text(expected) and not isinstance(got, ReadFailure)
        elif isinstance(expected, list):
            assert len(got) == len(expected)
            assert all(same(to_value(a, kind), to_value(b, kind)) for a, b in zip(got, expected, strict=True))
        else:
            assert same(to_value(got, kind), to_value(expected, kind)), (kind, prop, got, expected, type(expected))


@settings(max_examples=200, deadline=None)
@given(results())
def test_the_common_shapes_never_fall_back_to_bacpypes3(items: Any) -> None:
    data = encode_ack(items)
    decoded = decode_rpm_ack(data)
    fast = {(k, p, i) for k, p, i, _, ours in SHAPES if ours}
    for (kind, _, prop, index, value), element in zip(items, decoded, strict=True):
        if (kind, prop, index) in fast and not isinstance(value, ErrorType):
            assert element[4] != RAW, (kind, prop, value)


@pytest.mark.parametrize("refs", [
    [("analog-input", 1, "present-value", None), ("analog-input", 1, "status-flags", None)],
    [("analog-value", 4194302, "priority-array", 16), ("device", 7, "object-list", 300),
     ("multi-state-value", 70000, "present-value", None)],
])
def test_our_request_is_the_one_bacpypes3_encodes(refs: list[tuple[str, int, str, int | None]]) -> None:
    from bacpypes3.apdu import ReadPropertyMultipleRequest
    from bacpypes3.basetypes import PropertyReference, ReadAccessSpecification
    specs: list[ReadAccessSpecification] = []
    for kind, instance, prop, index in refs:
        oid = ObjectIdentifier(f"{kind},{instance}")
        if not specs or specs[-1].objectIdentifier != oid:
            specs.append(ReadAccessSpecification(objectIdentifier=oid, listOfPropertyReferences=[]))
        specs[-1].listOfPropertyReferences.append(PropertyReference(
            propertyIdentifier=PropertyIdentifier(prop), propertyArrayIndex=index))
    request = ReadPropertyMultipleRequest(listOfReadAccessSpecs=specs, destination=Address("127.0.0.2:47808"))
    ours = encode_rpm_request([(int(ObjectType(k)), i, int(PropertyIdentifier(p)), x) for k, i, p, x in refs])
    assert ours == bytes(request.encode().pduData)
    specs = decode_rpm_request(ours)  # and back, as a served device reads it
    assert [(t, i, p, x) for t, i, props in specs for p, x in props] == [
        (int(ObjectType(k)), i, int(PropertyIdentifier(p)), x) for k, i, p, x in refs]


@pytest.mark.parametrize("data", [
    b"\x0c\x00\x00\x00\x01",  # cut short
    b"\x0c\x00\x00\x00\x01\x1e\x29\x55\x4e\x44\x3f\xc0",  # a value never closed
    b"\x19\x01",  # not an object identifier
    b"\x0c\x00\x00\x00\x01\x1e\x29\x55\x44" + struct.pack(">f", 1.0) + b"\x1f",  # a value without its tags
])
def test_a_malformed_answer_is_a_codec_error(data: bytes) -> None:
    with pytest.raises(CodecError, match="read-property-multiple answer"):
        decode_rpm_ack(data)


COV_SHAPES = [
    ("analog-input", FLOAT32.map(Real)),
    ("binary-value", st.sampled_from(["inactive", "active"]).map(BinaryPV)),
    ("multi-state-value", UNSIGNED32.map(Unsigned)),
]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(COV_SHAPES).flatmap(lambda shape: st.tuples(
    st.just(shape[0]), shape[1], st.lists(st.integers(0, 1), min_size=4, max_size=4),
    st.integers(0, 2**22 - 1), UNSIGNED32, st.integers(0, 86400))))
def test_cov_notifications_decode_as_bacpypes3_decodes_them(case: Any) -> None:
    from bacpypes3.apdu import UnconfirmedCOVNotificationRequest
    from bacpypes3.basetypes import PropertyValue

    kind, value, bits, instance, process_id, remaining = case
    request = UnconfirmedCOVNotificationRequest(
        subscriberProcessIdentifier=process_id,
        initiatingDeviceIdentifier=ObjectIdentifier("device,7"),
        monitoredObjectIdentifier=ObjectIdentifier(f"{kind},{instance}"),
        timeRemaining=remaining,
        listOfValues=[
            PropertyValue(propertyIdentifier=PropertyIdentifier("present-value"), value=AnyValue(value)),
            PropertyValue(propertyIdentifier=PropertyIdentifier("status-flags"), value=AnyValue(StatusFlags(bits))),
        ],
        destination=Address("127.0.0.1:47809"),
    )
    data = bytes(request.encode().pduData)
    note = decode_cov_notification(data)
    assert (note.process_id, note.device, note.time_remaining) == (process_id, (8, 7), remaining)
    assert note.monitored == (int(ObjectType(kind)), instance)
    (pv, _, tag, raw, start, end), (flags_prop, _, ftag, fraw, fstart, fend) = note.values
    got = element_value(data, VENDOR, note.monitored[0], pv, None, tag, raw, start, end)
    assert same(to_value(got, kind), to_value(value, kind))
    assert to_flags(element_value(data, VENDOR, note.monitored[0], flags_prop, None, ftag, fraw, fstart, fend)) == \
        to_flags(StatusFlags(bits))
    assert tag != RAW and ftag != RAW  # our decoder's, not bacpypes3's
