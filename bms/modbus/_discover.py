"""Finding the unit ids that answer at a Modbus TCP address.

A unit is present when a read of holding registers 0..1 gets any reply,
an exception included (code 2 just means nothing lives at address 0).
Exception 4 (device failure: what pymodbus answers for a unit it does not
serve) and the gateway codes 10/11 mean absent, as does no reply. Present
units are then asked for their identification (FC43/14); a device that
does not support it keeps empty fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bms.errors import DeviceTimeout
from bms.modbus._reply import MalformedReply, exception_text
from bms.modbus._session import ExceptionReply, ModbusConnection, ModbusDeviceSession, TcpLink

_ABSENT_CODES = frozenset({4, 10, 11})


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """A unit id that answered, how it answered, and its identification."""

    unit_id: int
    reply: str = "registers"  # or the exception it answered with
    vendor: str = ""
    product_code: str = ""
    revision: str = ""


async def probe(host: str, port: int, unit_ids: Iterable[int], timeout: float = 1.0) -> list[ProbeResult]:
    """The units among ``unit_ids`` that answer at host:port, in the order asked.

    Raises ProtocolError when nothing accepts a connection there.
    """
    connection = ModbusConnection(TcpLink(host, port), timeout=timeout)
    found: list[ProbeResult] = []
    try:
        await connection.connect()
        for unit_id in unit_ids:
            session = ModbusDeviceSession(connection, unit_id, timeout=timeout, retries=0)
            reply = "registers"
            try:
                await session.read("holding", 0, 2)
            except ExceptionReply as err:
                if err.code in _ABSENT_CODES:
                    continue
                reply = exception_text(err.code)
            except DeviceTimeout:
                continue
            except MalformedReply:
                reply = "malformed reply"
            try:
                ident = await session.identify()
            except (ExceptionReply, DeviceTimeout):
                found.append(ProbeResult(unit_id, reply))
                continue
            found.append(ProbeResult(unit_id, reply, ident.vendor, ident.product_code, ident.revision))
    finally:
        connection.close()
    return found
