"""Register read replies kept as their bytes (FC3 and FC4), registered on our pymodbus clients.

pymodbus's stock replies unpack a reply one register per ``struct.unpack``
call into a list, and its decoder formats that whole list into the text of
a debug line (``str(pdu)``) before the logger drops it: about a fifth of
the client's CPU for a 125-register read. A :class:`RegisterPayload` keeps
the reply's data bytes instead; :func:`bms.modbus._block.decode_payload`
unpacks a block's points straight from them with one precompiled Struct,
and :attr:`registers` still gives the list for code that wants it.

They use pymodbus's own extension point (``client.register``), which
replaces the reply class for one function code on that client only; the
framing, transaction ids, timeouts and exception replies stay pymodbus's.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from pymodbus.client import ModbusBaseClient
from pymodbus.pdu import ModbusPDU

_UNPACKERS: dict[int, struct.Struct] = {}


def unpack_registers(payload: bytes) -> list[int]:
    """The big-endian registers of ``payload`` (an odd trailing byte is ignored)."""
    count = len(payload) // 2
    unpacker = _UNPACKERS.get(count)
    if unpacker is None:
        unpacker = _UNPACKERS[count] = struct.Struct(f">{count}H")
    return list(unpacker.unpack_from(payload))


class RegisterPayload(ModbusPDU):
    """A register read's reply: its data bytes in :attr:`payload`, as the device sent them.

    :attr:`payload` is every byte the reply carries after its byte count,
    and :attr:`byte_count` what that field says: a byte count that
    disagrees with the frame (says 255, carries 42 bytes) is caught by the
    caller (:func:`bms.modbus.check_payload`) rather than failing inside
    pymodbus's framer, where the request would only time out.
    """

    function_code = 3
    rtu_byte_count_pos = 2

    def __init__(self, dev_id: int = 0, transaction_id: int = 0, payload: bytes = b"") -> None:
        # ModbusPDU.__init__'s attributes, set directly: one of these is made per reply
        self.dev_id = dev_id
        self.transaction_id = transaction_id
        self.payload = payload
        self.byte_count = len(payload)
        self.address = 0
        self.bits: Sequence[bool] = []
        self.count = len(payload) // 2
        self.status = 1
        self.exception_code = 0
        self.retries = 0

    @property
    def registers(self) -> list[int]:  # pymodbus's attribute, as a view of the bytes
        return unpack_registers(self.payload)

    @registers.setter
    def registers(self, values: Sequence[int]) -> None:
        self.payload = struct.pack(f">{len(values)}H", *values)
        self.byte_count = len(self.payload)

    def decode(self, data: bytes) -> None:
        self.byte_count = data[0] if data else 0
        self.payload = data[1:]

    def encode(self) -> bytes:
        return bytes([len(self.payload)]) + self.payload

    def __str__(self) -> str:
        return (f"{type(self).__name__}(dev_id={self.dev_id}, transaction_id={self.transaction_id}, "
                f"{len(self.payload)} bytes)")


class HoldingPayload(RegisterPayload):
    """Reply to Read Holding Registers (FC3)."""

    function_code = 3


class InputPayload(RegisterPayload):
    """Reply to Read Input Registers (FC4)."""

    function_code = 4


def use_payload_replies(client: ModbusBaseClient) -> None:
    """Make ``client`` decode FC3/FC4 replies as :class:`RegisterPayload`."""
    client.register(HoldingPayload)
    client.register(InputPayload)
