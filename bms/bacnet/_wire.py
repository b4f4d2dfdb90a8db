"""ReadProperty / ReadPropertyMultiple on the wire, and bacpypes3 names to bms text.

:class:`Wire` is the :class:`~bms.bacnet._batch.PropertyIO` of a client:
it turns bms references (``ObjectId``, property name, index) into bacpypes3
identifiers (cached), sends through the client's translated ``call`` and
gives the answers back in request order, a per-property error as a
:class:`ReadFailure`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any, Protocol, TypeVar

from bacpypes3.basetypes import PropertyIdentifier, PropertyReference
from bacpypes3.pdu import Address, IPv4Address
from bacpypes3.primitivedata import ObjectIdentifier, ObjectType

from bms.bacnet._batch import PropertyRef, ReadFailure
from bms.bacnet._codec import error_text
from bms.bacnet._objects import OBJECT_TYPES, ObjectId
from bms.bacnet._records import DeviceState
from bms.errors import CodecError, ConfigError

T = TypeVar("T")
Key = tuple[int, int, int, int | None]


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

    async def rpm(self, address: str, refs: Sequence[PropertyRef]) -> list[Any]:
        text, addr = self._host.address(address)
        app = self._host.application()
        params: list[Any] = []
        keys: list[Key] = []
        last: ObjectId | None = None
        for oid, name, index in refs:
            ident, prop = self.identifier(oid), self.property(name)
            if oid != last:
                params += [ident, []]
                last = oid
            params[-1].append(PropertyReference(propertyIdentifier=prop, propertyArrayIndex=index))
            keys.append((int(ident[0]), int(ident[1]), int(prop), index))
        self._host.device_state(text).rpm_requests += 1
        vendor = await app.get_vendor_info(device_address=addr)
        rows = await self._host.call(
            f"read-property-multiple of {len(refs)} properties", text,
            app.read_property_multiple(addr, params, vendor_info=vendor),
        )
        if not isinstance(rows, list):
            raise CodecError(f"{text}: read-property-multiple: unexpected answer {rows!r}")
        by_key: dict[Key, Any] = {}
        for ident, prop, index, value in rows:
            by_key[(int(ident[0]), int(ident[1]), int(prop), index)] = _result(value)
        return [by_key.get(key, ReadFailure("missing from the answer")) for key in keys]


def _result(value: Any) -> Any:
    if value is None:
        return ReadFailure("cannot decode")
    if not isinstance(value, (int, float, str, list)) and hasattr(value, "errorCode") and hasattr(value, "errorClass"):
        return ReadFailure(error_text(str(value.errorClass), str(value.errorCode)))
    return value
