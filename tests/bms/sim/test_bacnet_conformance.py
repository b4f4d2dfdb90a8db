"""A simulated device answers any client as ASHRAE 135 asks, where bacpypes3's local objects do not.

Each case is driven from a client of its own on loopback (its own port): a
bacpypes3 Application for reads and writes, a raw UDP socket for the
segments, so that every APDU's size is measured on the wire.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import pytest
from bacpypes3.apdu import AbortPDU, ErrorPDU, RejectPDU, WritePropertyRequest
from bacpypes3.app import Application
from bacpypes3.basetypes import BinaryPV, EngineeringUnits, EventState, ObjectType, PropertyIdentifier, StatusFlags
from bacpypes3.constructeddata import Any as AnyValue
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.networkport import NetworkPortObject
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import Boolean, CharacterString, Null, ObjectIdentifier, Real, Unsigned

from bms.bacnet import await_bound, close_application
from bms.bacnet._server import service_data_budget
from bms.config import Profile
from bms.sim.bacnet import BacnetSimulator
from tests.bms.bacnet.loopback import free_port, host

INSTANCE = 5001
PLANT = msgspec.convert(
    {
        "name": "plant", "protocol": "bacnet", "equip": "test",
        "points": [
            {"key": "temp", "name": "Temperature", "unit": "°C", "bacnet": {"object": "analog-input,1"}},
            {"key": "valve", "name": "Valve", "unit": "%", "writable": True, "relinquish_default": 50.0,
             "guard": {"min": 0, "max": 100}, "bacnet": {"object": "analog-output,1"}},
            {"key": "flow", "name": "Flow", "unit": "m³/h", "bacnet": {"object": "analog-value,2"}},
            {"key": "alarm", "name": "Alarm", "kind": "bool", "bacnet": {"object": "binary-input,1"}},
            {"key": "enable", "name": "Enable", "kind": "bool", "writable": True, "bacnet": {"object": "binary-value,1"}},
            {"key": "mode", "name": "Mode", "kind": "enum", "states": ["off", "heat", "cool"], "writable": True,
             "relinquish_default": 1, "bacnet": {"object": "multi-state-value,1"}},
        ],
    },
    Profile,
)
BIG = msgspec.convert(
    {
        "name": "big", "protocol": "bacnet", "equip": "test",
        "points": [{"key": f"p{n:03}", "name": f"Point {n:03}", "unit": "°C", "bacnet": {"object": f"analog-value,{n}"}}
                   for n in range(1, 121)],
    },
    Profile,
)


@asynccontextmanager
async def device(profile: Profile) -> AsyncIterator[tuple[BacnetSimulator, Address]]:
    """One simulated device (instance 5001), not stepped."""
    sim = BacnetSimulator([(INSTANCE, host(2), profile)], free_port(), interval=None)
    await sim.start()
    try:
        yield sim, Address(sim.address_of(INSTANCE))
    finally:
        await sim.stop()


@asynccontextmanager
async def client() -> AsyncIterator[Any]:
    """A plain bacpypes3 client application on a port of its own."""
    app = Application.from_object_list([
        DeviceObject(objectIdentifier=("device", 599), objectName="conformance client", vendorIdentifier=999),
        NetworkPortObject(f"127.0.0.1/8:{free_port()}", objectIdentifier=("network-port", 1), objectName="NetworkPort-1"),
    ])
    try:
        await await_bound(app)
        yield app
    finally:
        await close_application(app)


def write(address: Address, objid: str, prop: str, value: Any, priority: int | None = None) -> Any:
    """A WriteProperty request carrying ``value`` as it is (bacpypes3's own write_property casts it first)."""
    request = WritePropertyRequest(
        objectIdentifier=ObjectIdentifier(objid), propertyIdentifier=PropertyIdentifier(prop),
        propertyValue=AnyValue(value), destination=address,
    )
    if priority is not None:
        request.priority = priority
    return request


async def refused(app: Any, request: Any) -> tuple[str, str]:
    """The (error class, error code) of the Error PDU answering ``request``; fails on anything else."""
    try:
        answer = await app.request(request)
    except ErrorPDU as err:
        return str(err.errorClass), str(err.errorCode)
    except (RejectPDU, AbortPDU) as err:
        pytest.fail(f"{request.propertyIdentifier} of {request.objectIdentifier}: {err!r} instead of an Error PDU")
    pytest.fail(f"{request.propertyIdentifier} of {request.objectIdentifier}: acknowledged ({answer!r})")


# ------------------------------------------------------------------ WriteProperty


def test_read_only_properties_refuse_writes_with_write_access_denied_and_keep_their_value() -> None:
    dev = f"device,{INSTANCE}"
    cases = [
        ("analog-input,1", "object-identifier", ObjectIdentifier("analog-input,77")),
        ("analog-input,1", "object-name", CharacterString("renamed")),
        ("analog-input,1", "object-type", ObjectType("analog-value")),
        ("analog-input,1", "units", EngineeringUnits("degrees-fahrenheit")),
        ("analog-input,1", "event-state", EventState("fault")),
        ("analog-input,1", "status-flags", StatusFlags([1, 1, 0, 0])),
        ("analog-input,1", "description", CharacterString("described")),
        ("analog-input,1", "present-value", Real(99.0)),  # an input in service
        ("binary-input,1", "present-value", BinaryPV("active")),
        ("analog-value,2", "present-value", Real(7.0)),  # a value the profile does not make writable
        ("analog-output,1", "units", EngineeringUnits("percent-per-second")),
        ("analog-output,1", "relinquish-default", Real(10.0)),
        (dev, "object-identifier", ObjectIdentifier("device,77")),
        (dev, "object-name", CharacterString("renamed")),
        (dev, "protocol-revision", Unsigned(1)),
        (dev, "vendor-identifier", Unsigned(42)),
        ("network-port,1", "object-name", CharacterString("renamed")),
    ]

    async def body() -> None:
        async with device(PLANT) as (_, address), client() as app:
            objects = await app.read_property(address, dev, "object-list")
            for objid, prop, value in cases:
                before = await app.read_property(address, objid, prop)
                assert await refused(app, write(address, objid, prop, value)) == ("property", "write-access-denied"), (
                    objid, prop)
                assert await app.read_property(address, objid, prop) == before, (objid, prop)
            assert await app.read_property(address, dev, "object-list") == objects
            # a property the object does not have is unknown, not denied
            for prop in ("priority-array", "min-pres-value"):
                assert await refused(app, write(address, "analog-input,1", prop, Real(1.0))) == ("property", "unknown-property")
            oos = write(address, "analog-input,1", "out-of-service", Boolean(True))
            oos.propertyArrayIndex = 1
            assert await refused(app, oos) == ("property", "property-is-not-an-array")
            # what a client may write: out-of-service, then an input's present value
            await app.request(write(address, "analog-input,1", "out-of-service", Boolean(True)))
            await app.request(write(address, "analog-input,1", "present-value", Real(12.5)))
            assert await app.read_property(address, "analog-input,1", "present-value") == 12.5

    asyncio.run(body())


def test_values_of_the_wrong_datatype_are_invalid_data_type_and_commands_still_work() -> None:
    cases = [
        ("analog-output,1", CharacterString("hot"), 8),
        ("analog-output,1", Unsigned(40), 8),  # present-value of an analog object is a REAL
        ("analog-output,1", Boolean(True), None),
        ("binary-value,1", Real(1.0), 8),
        ("multi-state-value,1", Real(2.0), 8),
        ("multi-state-value,1", CharacterString("heat"), 8),
    ]

    async def body() -> None:
        async with device(PLANT) as (_, address), client() as app:
            async def value(objid: str) -> Any:
                return await app.read_property(address, objid, "present-value")

            for objid, wrong, priority in cases:
                before = await value(objid)
                assert await refused(app, write(address, objid, "present-value", wrong, priority)) == (
                    "property", "invalid-data-type"), (objid, wrong)
                assert await value(objid) == before
            await app.request(write(address, "analog-input,1", "out-of-service", Boolean(True)))
            for wrong in (CharacterString("x"), Null(())):  # Null relinquishes a commandable value only
                assert await refused(app, write(address, "analog-input,1", "present-value", wrong, 8)) == (
                    "property", "invalid-data-type")
            assert await refused(app, write(address, "analog-input,1", "out-of-service", Real(0.0))) == (
                "property", "invalid-data-type")

            # a commandable present value takes a right value with priority, and Null relinquishes
            await app.request(write(address, "analog-output,1", "present-value", Real(40.0), 8))
            await app.request(write(address, "analog-output,1", "present-value", Real(30.0)))  # no priority: 16
            assert await value("analog-output,1") == 40.0
            await app.request(write(address, "analog-output,1", "present-value", Null(()), 8))
            assert await value("analog-output,1") == 30.0
            await app.request(write(address, "analog-output,1", "present-value", Null(())))
            assert await value("analog-output,1") == 50.0  # the relinquish default
            await app.request(write(address, "binary-value,1", "present-value", BinaryPV("active"), 8))
            await app.request(write(address, "multi-state-value,1", "present-value", Unsigned(3), 8))
            assert (await value("binary-value,1"), await value("multi-state-value,1")) == (BinaryPV("active"), 3)

    asyncio.run(body())


# ------------------------------------------------------------------ segmentation

_MAX_APDU_CODES = {50: 0, 128: 1, 206: 2, 480: 3, 1024: 4, 1476: 5}
_READ_PROPERTY, _READ_PROPERTY_MULTIPLE = 12, 14


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.queue.put_nowait(data)


def _bvlc(npdu: bytes) -> bytes:
    return struct.pack(">BBH", 0x81, 0x0A, 4 + len(npdu)) + npdu  # BVLC original-unicast-NPDU


def _apdu_of(datagram: bytes) -> bytes:
    assert datagram[:2] == b"\x81\x0a" and struct.unpack(">H", datagram[2:4])[0] == len(datagram)
    npdu = datagram[4:]
    assert npdu[0] == 1 and not npdu[1] & 0x80, "an NPDU carrying an APDU"
    offset = 2
    for present in (npdu[1] & 0x20, npdu[1] & 0x08):  # DNET/DLEN/DADR, SNET/SLEN/SADR
        if present:
            offset += 3 + npdu[offset + 2]
    return npdu[offset + (1 if npdu[1] & 0x20 else 0):]  # the hop count follows a destination


def _object_id(kind: int, instance: int) -> bytes:
    return struct.pack(">I", kind << 22 | instance)


async def answer(device_address: Address, service: int, data: bytes, max_apdu: int) -> list[bytes]:
    """Send one confirmed request (segmented response accepted, up to 64 segments, ``max_apdu``) from a
    socket of our own; return every APDU of the answer as received, acknowledging each segment."""
    host_text, port_text = str(device_address).split(":")
    target = (host_text, int(port_text))
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(_Datagrams, local_addr=("127.0.0.1", 0))
    invoke_id = 7
    try:
        request = bytes([0x02, 6 << 4 | _MAX_APDU_CODES[max_apdu], invoke_id, service]) + data
        transport.sendto(_bvlc(b"\x01\x04" + request), target)  # NPDU: expecting a reply
        apdus = []
        while True:
            apdu = _apdu_of(await asyncio.wait_for(protocol.queue.get(), 5.0))
            apdus.append(apdu)
            if apdu[0] >> 4 != 3 or not apdu[0] & 0x08:  # not a ComplexACK segment: the whole answer
                return apdus
            transport.sendto(_bvlc(b"\x01\x00" + bytes([0x40, invoke_id, apdu[2], 1])), target)  # SegmentACK
            if not apdu[0] & 0x04:  # no more follows
                return apdus
    finally:
        transport.close()


def service_data(apdus: list[bytes], service: int) -> bytes:
    """The service data of a ComplexACK, its segments joined; checks the sequence numbers."""
    assert all(a[0] >> 4 == 3 for a in apdus), f"not a ComplexACK: {apdus[0][:8].hex()}"
    if len(apdus) == 1 and not apdus[0][0] & 0x08:
        assert apdus[0][2] == service
        return apdus[0][3:]
    assert [a[2] for a in apdus] == list(range(len(apdus)))
    assert all(a[4] == service for a in apdus)
    return b"".join(a[5:] for a in apdus)


def _object_list_request() -> bytes:
    return b"\x0c" + _object_id(8, INSTANCE) + b"\x19\x4c"  # device object, property object-list


def _rpm_request() -> bytes:
    # object-name, present-value, units, status-flags, description of every analog value
    properties = b"\x1e" + b"".join(b"\x09" + bytes([p]) for p in (77, 85, 117, 111, 28)) + b"\x1f"
    return b"".join(b"\x0c" + _object_id(2, n) + properties for n in range(1, 121))


@pytest.mark.parametrize("max_apdu", [206, 480])
def test_segmented_answers_never_exceed_the_clients_max_apdu_header_included(max_apdu: int) -> None:
    async def body() -> None:
        async with device(BIG) as (_, address):
            for service, data in ((_READ_PROPERTY, _object_list_request()), (_READ_PROPERTY_MULTIPLE, _rpm_request())):
                apdus = await answer(address, service, data, max_apdu)
                assert len(apdus) > 1, "an answer this large is segmented"
                assert max(len(a) for a in apdus) <= max_apdu, [len(a) for a in apdus]
                assert len(apdus[0]) == max_apdu  # segments are filled, not cut small
                whole = service_data(apdus, service)
                # the same answer, cut for the largest APDU, joins into the same bytes
                assert service_data(await answer(address, service, data, 1476), service) == whole
            objects = service_data(await answer(address, _READ_PROPERTY, _object_list_request(), max_apdu), _READ_PROPERTY)
            assert objects[:8] == b"\x0c" + _object_id(8, INSTANCE) + b"\x19\x4c\x3e" and objects[-1:] == b"\x3f"
            listed = [objects[i + 1:i + 5] for i in range(8, len(objects) - 1, 5)]
            assert all(objects[i] == 0xC4 for i in range(8, len(objects) - 1, 5))
            assert sorted(listed) == sorted(
                [_object_id(8, INSTANCE), _object_id(56, 1)] + [_object_id(2, n) for n in range(1, 121)]
            )

    asyncio.run(body())


@pytest.mark.parametrize(
    ("limit", "size", "budget"),
    [(206, 203, 203), (206, 204, 201), (480, 10, 477), (480, 5000, 475), (50, 48, 45)],
)
def test_service_data_per_apdu_leaves_room_for_the_header(limit: int, size: int, budget: int) -> None:
    assert service_data_budget(limit, size) == budget


# ------------------------------------------------------------------ wildcard device


def test_the_wildcard_device_instance_reads_as_the_local_device_object() -> None:
    async def body() -> None:
        async with device(PLANT) as (_, address), client() as app:
            own = ObjectIdentifier(f"device,{INSTANCE}")
            assert await app.read_property(address, "device,4194303", "object-name") == f"TEST-{INSTANCE}"
            assert await app.read_property(address, "device,4194303", "object-identifier") == own
            results = await app.read_property_multiple(
                address, ["device,4194303", ["object-name", "vendor-identifier", "object-identifier"]]
            )
            assert [(objid, str(prop), value) for objid, prop, _, value in results] == [
                (own, "object-name", f"TEST-{INSTANCE}"), (own, "vendor-identifier", 999), (own, "object-identifier", own)
            ]
            try:
                await app.read_property(address, "device,77", "object-name")
            except ErrorPDU as err:  # another instance is another device
                assert str(err.errorCode) == "unknown-object"
            else:
                pytest.fail("device,77 answered as if it were the local device")

    asyncio.run(body())
