"""Talking to one Modbus device: poll a BlockPlan, write a point, identify.

A :class:`ModbusConnection` is one TCP connection or serial line (pymodbus
async client). Several :class:`ModbusDeviceSession` may share it (the
devices of an RS-485 line, units behind a gateway); requests on a connection
are serialised and each session's timeout counts from when its request is
sent, not while it waits for the line.

Retries are the session's own: the pymodbus client runs with none, and its
timer (started as a request is sent) is the connection's timeout, so a
silent device raises :class:`~bms.errors.DeviceTimeout` after
``timeout * (retries + 1)``. A session sharing a connection with a longer
timeout (devices on one serial line) times its requests itself; one with a
longer timeout than its connection's is cut to the connection's, so a
shared line's timeout is the longest of its devices'.
Errors are translated at this boundary (``raise ... from err``):

* no reply, or gateway exception 10/11 -> DeviceTimeout
* an exception reply -> :class:`ExceptionReply` (a DeviceRejected naming the code)
* a short or malformed reply (a byte count that disagrees with the reply's length
  included) -> :class:`~bms.modbus.MalformedReply` (a ProtocolError)
* cannot connect, or any other library error -> ProtocolError
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient, ModbusBaseClient
from pymodbus.exceptions import ModbusException
from pymodbus.framer import FramerType
from pymodbus.pdu import ModbusPDU

from bms.config._schema import ByteOrder, ModbusBinding, ModbusTable
from bms.errors import DeviceRejected, DeviceTimeout, ProtocolError, WriteRefused
from bms.messages import Readings, Sample, Value
from bms.modbus._block import decode_block, decode_columns, decode_payload
from bms.modbus._codec import decode, encode, merge_bit, register_bit, width
from bms.modbus._payload import RegisterPayload, unpack_registers, use_payload_replies
from bms.modbus._plan import BlockPlan, BlockPoint, ReadBlock
from bms.modbus._reply import GATEWAY_CODES, MalformedReply, check_payload, check_reply, exception_text, fault_block


@dataclass(frozen=True, slots=True)
class TcpLink:
    """A Modbus TCP endpoint."""

    host: str
    port: int = 502

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class SerialLink:
    """A Modbus RTU serial line."""

    port: str
    baudrate: int = 9600
    parity: Literal["N", "E", "O"] = "N"
    stopbits: int = 1
    bytesize: int = 8

    def __str__(self) -> str:
        return f"{self.port} {self.baudrate} {self.bytesize}{self.parity}{self.stopbits}"


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """Basic device identification (FC43/14); a field the device lacks is empty."""

    vendor: str = ""
    product_code: str = ""
    revision: str = ""


class ExceptionReply(DeviceRejected):
    """The device answered a request with a Modbus exception code."""

    def __init__(self, message: str, code: int, function_code: int) -> None:
        super().__init__(message)
        self.code = code
        self.function_code = function_code


class ReadbackMismatch(DeviceRejected):
    """The device accepted a write but reads back another value."""

    def __init__(self, point_id: str, written: Value, readback: Value) -> None:
        super().__init__(f"{point_id}: wrote {written!r}, device reads back {readback!r}")
        self.point_id = point_id
        self.written = written
        self.readback = readback


def _named(what: str | ReadBlock) -> str:
    return what if isinstance(what, str) else f"reading {what.describe()}"


class ModbusConnection:
    """One TCP connection or serial line; made in the event loop on first connect."""

    def __init__(self, link: TcpLink | SerialLink, *, timeout: float = 1.0) -> None:
        self.link = link
        self.timeout = timeout
        self.lock = asyncio.Lock()
        self._client: ModbusBaseClient | None = None

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.connected

    @property
    def open_client(self) -> ModbusBaseClient | None:
        """The client if the connection is open, else None."""
        client = self._client
        return client if client is not None and client.connected else None

    @property
    def client(self) -> ModbusBaseClient:
        if self._client is None:
            raise ProtocolError(f"{self.link}: not connected")
        return self._client

    def _make_client(self) -> ModbusBaseClient:
        client = self._new_client()
        use_payload_replies(client)
        return client

    def _new_client(self) -> ModbusBaseClient:
        if isinstance(self.link, TcpLink):
            return AsyncModbusTcpClient(
                self.link.host, port=self.link.port, timeout=self.timeout, retries=0, reconnect_delay=0
            )
        return AsyncModbusSerialClient(
            self.link.port,
            framer=FramerType.RTU,
            baudrate=self.link.baudrate,
            bytesize=self.link.bytesize,
            parity=self.link.parity,
            stopbits=self.link.stopbits,
            timeout=self.timeout,
            retries=0,
            reconnect_delay=0,
        )

    async def connect(self) -> None:
        """Open the connection unless it is open; ProtocolError if that fails."""
        if self.connected:
            return
        if self._client is None:
            self._client = self._make_client()
        try:
            ok = await asyncio.wait_for(self._client.connect(), self.timeout)
        except (TimeoutError, OSError, ModbusException) as err:
            raise ProtocolError(f"cannot connect to {self.link}: {err or 'timed out'}") from err
        if not ok:
            raise ProtocolError(f"cannot connect to {self.link}")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


class ModbusDeviceSession:
    """One device (unit id) on a link: poll, write with readback, identify.

    ``link`` is a TcpLink/SerialLink (the session owns its connection) or a
    shared :class:`ModbusConnection`. ``single_write=False`` makes writes use
    FC15/FC16 even for one coil or register (devices without FC5/FC6).
    """

    def __init__(
        self,
        link: TcpLink | SerialLink | ModbusConnection,
        unit_id: int,
        *,
        device_order: ByteOrder = "ABCD",
        timeout: float = 1.0,
        retries: int = 1,
        single_write: bool = True,
        now: Callable[[], float] = time.time,
        name: str = "",
    ) -> None:
        if not 0 <= unit_id <= 255:
            raise ValueError(f"unit id must be 0..255, got {unit_id}")
        if timeout <= 0 or retries < 0:
            raise ValueError(f"timeout must be > 0 and retries >= 0, got {timeout}, {retries}")
        self._owned = not isinstance(link, ModbusConnection)
        self.connection = link if isinstance(link, ModbusConnection) else ModbusConnection(link, timeout=timeout)
        self.unit_id = unit_id
        self.device_order: ByteOrder = device_order
        self.timeout = timeout
        self.retries = retries
        self.single_write = single_write
        self.name = name or f"{self.connection.link} unit {unit_id}"
        self._now = now

    async def connect(self) -> None:
        await self.connection.connect()

    def close(self) -> None:
        """Close the connection if the session owns it."""
        if self._owned:
            self.connection.close()

    async def __aenter__(self) -> ModbusDeviceSession:
        await self.connect()
        return self

    async def __aexit__(self, *_: object) -> None:
        self.close()

    # ----------------------------------------------------------- requests

    async def _request(self, what: str | ReadBlock, call: Callable[[ModbusBaseClient], Awaitable[ModbusPDU]]) -> ModbusPDU:
        """Send a request with the session's timeout and retries; translate errors.

        ``what`` names the request in errors: a text, or the block read
        (named only if there is an error: polls read thousands a second).
        """
        last: BaseException | None = None
        connection = self.connection
        own_timer = self.timeout < connection.timeout
        for _ in range(self.retries + 1):
            try:
                client = connection.open_client if self._owned else None
                if client is not None:  # our own open connection: pymodbus's lock and timer suffice
                    response = await call(client)
                else:
                    async with connection.lock:  # connect once; on a shared line, wait for it untimed
                        await connection.connect()
                        if own_timer:  # a shorter timeout than the line's
                            async with asyncio.timeout(self.timeout):  # no task per request, unlike wait_for
                                response = await call(connection.client)
                        else:  # pymodbus's own timer, started as the request is sent
                            response = await call(connection.client)
            except TimeoutError as err:
                last = err
                continue
            except ModbusException as err:
                if "No response" in str(err):  # pymodbus's timer fired
                    last = err
                    continue
                raise ProtocolError(f"{self.name}: {_named(what)}: {err}") from err
            if response.isError():
                code = response.exception_code
                text = f"{self.name}: {exception_text(code)} {_named(what)}"
                if code in GATEWAY_CODES:
                    raise DeviceTimeout(text) from ExceptionReply(text, code, response.function_code & 0x7F)
                raise ExceptionReply(text, code, response.function_code & 0x7F)
            return response
        attempts = self.retries + 1
        raise DeviceTimeout(f"{self.name}: no reply {_named(what)} within {self.timeout:g} s ({attempts} attempt(s))") from last

    async def read(self, table: ModbusTable, address: int, count: int) -> list[int] | list[bool]:
        """Read ``count`` registers or bits; the reply is validated."""
        block = ReadBlock(table, address, count, ())
        return await self.read_block(block)

    async def read_block(self, block: ReadBlock) -> list[int] | list[bool]:
        """Read one planned block; MalformedReply if the reply is short."""
        if block.is_bits:
            unit, start, count = self.unit_id, block.start, block.count
            response: ModbusPDU
            if block.table == "coil":
                response = await self._request(block, lambda c: c.read_coils(start, count=count, device_id=unit))
            else:
                response = await self._request(block, lambda c: c.read_discrete_inputs(start, count=count, device_id=unit))
            return check_reply(block, response.bits)
        return unpack_registers(await self._read_payload(block))

    async def _read_payload(self, block: ReadBlock) -> bytes:
        """Read one planned register block; its reply's data bytes, exactly ``2 * block.count`` of them."""
        unit, start, count = self.unit_id, block.start, block.count
        if block.table == "holding":
            response = await self._request(block, lambda c: c.read_holding_registers(start, count=count, device_id=unit))
        else:
            response = await self._request(block, lambda c: c.read_input_registers(start, count=count, device_id=unit))
        if isinstance(response, RegisterPayload):
            return check_payload(block, response.payload, response.byte_count)
        registers = check_reply(block, response.registers)  # a client made without payload replies
        return b"".join(r.to_bytes(2, "big") for r in registers)

    async def poll(self, plan: BlockPlan) -> list[Sample]:
        """One Sample per planned point, in plan order.

        A block answered with an exception code or a malformed reply faults
        its points and the cycle goes on; a device that does not answer (or
        cannot be reached) raises DeviceTimeout / ProtocolError.
        """
        samples: list[Sample] = []
        for block in plan:
            samples += (await self._poll_block(block, columns=False))[1]
        return samples

    async def poll_readings(self, plan: BlockPlan) -> tuple[list[Sample], list[Readings]]:
        """:meth:`poll` as the bridge publishes it: (Samples, Readings).

        A block of plain numbers comes back as one :class:`~bms.messages.Readings`
        (no Sample per point); other blocks, faulted points and values the
        device reports as not available as Samples.
        """
        samples: list[Sample] = []
        readings: list[Readings] = []
        for block in plan:
            columns, others = await self._poll_block(block, columns=True)
            if columns is not None:
                readings.append(columns)
            samples += others
        return samples, readings

    async def _poll_block(self, block: ReadBlock, columns: bool) -> tuple[Readings | None, list[Sample]]:
        order = self.device_order
        try:
            if block.is_bits:
                return None, decode_block(block, await self.read_block(block), order, self._now())
            payload = await self._read_payload(block)
        except ExceptionReply as err:
            return None, fault_block(block, f"{exception_text(err.code)} reading {block.describe()}", self._now())
        except MalformedReply as err:
            return None, fault_block(block, str(err), self._now())
        if columns:
            return decode_columns(block, payload, order, self._now())
        return None, decode_payload(block, payload, order, self._now())

    # -------------------------------------------------------------- writes

    async def write(self, point_id: str, binding: ModbusBinding, value: Value, device_order: ByteOrder | None = None) -> Value:
        """Write ``value`` to a point, read it back and return the read-back value.

        Coils use FC5 (FC15 without single writes), one register FC6, more
        FC16; a ``bit`` of a register is read, merged and written back.
        Raises EncodeError (a ValueError) for a value the binding cannot hold,
        WriteRefused for a read-only table, ReadbackMismatch when the device
        keeps another value, and the request errors of :meth:`poll`.
        """
        order = device_order or self.device_order
        if binding.table in ("discrete", "input"):
            raise WriteRefused(point_id, f"{binding.table} {binding.address} is read-only")
        unit, address = self.unit_id, binding.address
        what = f"writing {point_id} ({binding.table} {address})"
        block = ReadBlock(binding.table, address, width(binding), (BlockPoint(point_id, 0, binding),))
        if binding.table == "coil":
            (bit,) = encode(binding, value, order, point=point_id)
            if self.single_write:
                await self._request(what, lambda c: c.write_coil(address, bool(bit), device_id=unit))
            else:
                await self._request(what, lambda c: c.write_coils(address, [bool(bit)], device_id=unit))
            written: list[int] | list[bool] = [bool(bit)]
        else:
            if register_bit(binding) is not None:
                (current,) = await self.read_block(block)
                registers = [merge_bit(binding, value, int(current), order, point=point_id)]
            else:
                registers = [int(r) for r in encode(binding, value, order, point=point_id)]
            if len(registers) == 1 and self.single_write:
                await self._request(what, lambda c: c.write_register(address, registers[0], device_id=unit))
            else:
                await self._request(what, lambda c: c.write_registers(address, registers, device_id=unit))
            written = registers
        readback = await self.read_block(block)
        result = decode(binding, readback, order)
        # a bit is compared alone: the other bits of its register may move meanwhile
        bit_only = register_bit(binding) is not None
        same = result == decode(binding, written, order) if bit_only else list(readback) == list(written)
        if not same:
            raise ReadbackMismatch(point_id, value, result)
        return result

    # ------------------------------------------------------------ identity

    async def identify(self) -> DeviceIdentity:
        """Basic device identification (FC43/14, read code 1)."""
        unit = self.unit_id
        response = await self._request(
            "reading device identification", lambda c: c.read_device_information(read_code=1, device_id=unit)
        )
        info = getattr(response, "information", {})

        def text(object_id: int) -> str:
            raw = info.get(object_id, b"")
            if isinstance(raw, list):
                raw = b"".join(raw)
            return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)

        return DeviceIdentity(vendor=text(0), product_code=text(1), revision=text(2))
