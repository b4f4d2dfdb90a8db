"""ReadProperty / ReadPropertyMultiple on the wire, and bacpypes3 names to bms text.

:class:`Wire` is the :class:`~bms.bacnet._batch.PropertyIO` of a client:
it turns bms references (``ObjectId``, property name, index) into bacpypes3
identifiers (cached), sends through the client's translated ``call`` and
gives the answers back in request order, a per-property error as a
:class:`ReadFailure`.

ReadPropertyMultiple skips bacpypes3's object model at both ends (it was
~85% of the client's CPU per polled point): the request's service data is
encoded by :func:`~bms.bacnet._fastdecode.encode_rpm_request` (kept per list of
references: a device's poll asks the same each time) and sent as a
ConfirmedRequestPDU through bacpypes3's transaction state machines
(segmentation, retries, invoke ids, as before); the ACK comes back
undecoded (:func:`accept_raw_acks`) and :func:`~bms.bacnet._ack.ack_values`
reads it, bacpypes3 decoding only what our decoder does not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

from bacpypes3.apdu import ComplexAckPDU, ConfirmedRequestPDU
from bacpypes3.appservice import ApplicationServiceAccessPoint
from bacpypes3.basetypes import PropertyIdentifier
from bacpypes3.comm import ServiceAccessPoint
from bacpypes3.pdu import Address, IPv4Address
from bacpypes3.primitivedata import ObjectIdentifier, ObjectType

from bms.bacnet._ack import ack_values
from bms.bacnet._batch import PropertyRef, ReadFailure
from bms.bacnet._fastdecode import RequestRef, encode_rpm_request
from bms.bacnet._objects import OBJECT_TYPES, ObjectId
from bms.bacnet._records import DeviceState
from bms.errors import CodecError, ConfigError

T = TypeVar("T")
Key = tuple[int, int, int, int | None]

READ_PROPERTY_MULTIPLE = 14
"""The confirmed service choice of ReadPropertyMultiple."""
UNCONFIRMED_REQUEST = 0x10
UNCONFIRMED_COV_NOTIFICATION = 2
_PLANS_KEPT = 512


CovSink = Callable[[Any, bytes], Awaitable[bool]]
"""Takes (source address, service data) of an unconfirmed COV notification; False: bacpypes3 handles it."""


class _RawAckAccessPoint(ApplicationServiceAccessPoint):  # type: ignore[misc]
    """bacpypes3's application service access point, passing the ACKs we asked for undecoded.

    Unconfirmed COV notifications go to ``cov_sink`` as bytes first (bacpypes3's
    decoding of one cost ~250 us of CPU); what it does not take goes the usual way.
    """

    raw_acks: set[tuple[Any, int]]
    cov_sink: CovSink | None = None

    async def confirmation(self, pdu: Any) -> None:
        data = pdu.pduData
        if (self.cov_sink is not None and len(data) > 2 and data[0] == UNCONFIRMED_REQUEST
                and data[1] == UNCONFIRMED_COV_NOTIFICATION and self.dccEnableDisable == "enable"
                and await self.cov_sink(pdu.pduSource, bytes(data[2:]))):
            return
        await super().confirmation(pdu)

    async def sap_response(self, apdu: Any) -> None:
        if type(apdu) is ComplexAckPDU and (apdu.pduSource, apdu.apduInvokeID) in self.raw_acks:
            await ServiceAccessPoint.sap_response(self, apdu)
            return
        await super().sap_response(apdu)


def accept_raw_acks(app: Any, cov_sink: CovSink | None = None) -> None:
    """Let ``app`` (a bacpypes3 Application just built) answer :func:`raw_request` with undecoded ACKs."""
    app.asap.__class__ = _RawAckAccessPoint
    app.asap.raw_acks = set()
    app.asap.cov_sink = cov_sink


def raw_request(app: Any, apdu: Any) -> asyncio.Future[Any]:
    """Send a confirmed request; its ComplexAckPDU comes back as it is (``pduData``), not decoded."""
    future: asyncio.Future[Any] = app.request(apdu)  # assigns the invoke id now
    acks: set[tuple[Any, int]] = app.asap.raw_acks
    key = (apdu.pduDestination, apdu.apduInvokeID)
    acks.add(key)
    future.add_done_callback(lambda _: acks.discard(key))
    return future


class WireHost(Protocol):
    """What :class:`Wire` needs from the client."""

    def application(self) -> Any: ...

    def address(self, address: str) -> tuple[str, Address]: ...

    def device_state(self, address: str) -> DeviceState: ...

    async def call(self, what: str, address: str, awaitable: Awaitable[T], deadline: float | None = None) -> T: ...


def format_address(addr: Any) -> str:
    """A bacpypes3 address as bms writes it: ``"127.0.0.2:47808"`` for BACnet/IP."""
    if isinstance(addr, IPv4Address) and getattr(addr, "addrNet", None) is None:
        host, port = addr.addrTuple
        return f"{host}:{port}"
    return str(addr)


def format_object_identifier(raw: Any) -> str:
    """A bacpypes3 ObjectIdentifier as ``"analog-input,1"``."""
    kind = str(raw[0])
    return f"{'proprietary-' + kind if kind.isdigit() else kind},{int(raw[1])}"


class Wire:
    """The client's ReadProperty and ReadPropertyMultiple."""

    def __init__(self, host: WireHost) -> None:
        self._host = host
        self._props: dict[str, Any] = {}
        self._oids: dict[ObjectId, Any] = {}
        self._plans: dict[tuple[PropertyRef, ...], tuple[bytes, list[Key]]] = {}

    def property(self, name: str) -> Any:
        """The bacpypes3 PropertyIdentifier of a hyphenated property name."""
        found = self._props.get(name)
        if found is None:
            try:
                found = self._props[name] = PropertyIdentifier(name)
            except (ValueError, KeyError, TypeError):
                raise ConfigError(f"unknown BACnet property {name!r}") from None
        return found

    def identifier(self, oid: ObjectId) -> Any:
        """The bacpypes3 ObjectIdentifier of an ObjectId."""
        found = self._oids.get(oid)
        if found is None:
            code = OBJECT_TYPES.get(oid.type)
            if code is None:
                code = int(oid.type.removeprefix("proprietary-"))
            found = self._oids[oid] = ObjectIdentifier((ObjectType(code), oid.instance))
        return found

    async def rp(self, address: str, ref: PropertyRef, *, deadline: float | None = None) -> Any:
        oid, name, index = ref
        text, addr = self._host.address(address)
        app = self._host.application()
        ident, prop = self.identifier(oid), self.property(name)
        self._host.device_state(text).rp_requests += 1
        where = f"{oid} {name}" + (f"[{index}]" if index is not None else "")
        value = await self._host.call(f"read-property {where}", text, app.read_property(addr, ident, prop, index),
                                      deadline)
        if type(value) is str:  # bacpypes3's "-no object class-" / "-no property type-"
            raise CodecError(f"{text}: read-property {where}: cannot decode ({value})")
        return value

    def plan(self, refs: Sequence[PropertyRef]) -> tuple[bytes, list[Key]]:
        """The encoded request for ``refs`` and the key of each answer, kept for the next poll."""
        whole = tuple(refs)
        found = self._plans.get(whole)
        if found is None:
            keys: list[Key] = []
            for oid, name, index in whole:
                ident, prop = self.identifier(oid), self.property(name)
                keys.append((int(ident[0]), int(ident[1]), int(prop), index))
            if len(self._plans) >= _PLANS_KEPT:
                self._plans.pop(next(iter(self._plans)))
            wire: list[RequestRef] = keys
            found = self._plans[whole] = (encode_rpm_request(wire), keys)
        return found

    async def rpm(self, address: str, refs: Sequence[PropertyRef]) -> list[Any]:
        text, addr = self._host.address(address)
        app = self._host.application()
        data, keys = self.plan(refs)
        self._host.device_state(text).rpm_requests += 1
        request = ConfirmedRequestPDU(READ_PROPERTY_MULTIPLE, destination=addr)
        request.pduData = bytearray(data)
        ack = await self._host.call(f"read-property-multiple of {len(refs)} properties", text,
                                    raw_request(app, request))
        if type(ack) is not ComplexAckPDU or ack.apduService != READ_PROPERTY_MULTIPLE:
            raise CodecError(f"{text}: read-property-multiple: unexpected answer {type(ack).__name__}")
        vendor = await app.get_vendor_info(device_address=addr)
        try:
            by_key = ack_values(bytes(ack.pduData), vendor)
        except CodecError as err:
            raise CodecError(f"{text}: {err}") from None
        missing = ReadFailure("missing from the answer")
        return [by_key.get(key, missing) for key in keys]

