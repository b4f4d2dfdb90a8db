"""Modbus domain layer: register codec, block planning, device sessions, discovery.

``plan_reads`` groups a device's points into a :class:`BlockPlan` of
:class:`ReadBlock` requests; :class:`ModbusDeviceSession` polls a plan into
:class:`~bms.messages.Sample` values and writes points with readback;
``probe`` finds the unit ids answering at a TCP address. ``encode`` /
``decode`` convert values with byte order, bits, scale and offset.
No actors here: the bridge in actors/ runs these on its own event loop.
"""

from bms.modbus._block import decode_block, decode_columns, decode_payload
from bms.modbus._codec import (
    DecodeError,
    EncodeError,
    decode,
    encode,
    is_bool,
    merge_bit,
    raw_value,
    register_bit,
    register_count,
    width,
)
from bms.modbus._discover import ProbeResult, probe
from bms.modbus._payload import HoldingPayload, InputPayload, RegisterPayload, unpack_registers, use_payload_replies
from bms.modbus._plan import MAX_BITS, MAX_REGISTERS, BlockPlan, BlockPoint, ReadBlock, plan_reads
from bms.modbus._reply import EXCEPTION_NAMES, MalformedReply, check_payload, check_reply, exception_text, fault_block
from bms.modbus._session import (
    DeviceIdentity,
    ExceptionReply,
    ModbusConnection,
    ModbusDeviceSession,
    ReadbackMismatch,
    SerialLink,
    TcpLink,
)

__all__ = [
    "EXCEPTION_NAMES",
    "MAX_BITS",
    "MAX_REGISTERS",
    "BlockPlan",
    "BlockPoint",
    "DecodeError",
    "DeviceIdentity",
    "EncodeError",
    "ExceptionReply",
    "HoldingPayload",
    "InputPayload",
    "MalformedReply",
    "ModbusConnection",
    "ModbusDeviceSession",
    "ProbeResult",
    "ReadBlock",
    "ReadbackMismatch",
    "RegisterPayload",
    "SerialLink",
    "TcpLink",
    "check_payload",
    "check_reply",
    "decode",
    "decode_block",
    "decode_columns",
    "decode_payload",
    "encode",
    "exception_text",
    "fault_block",
    "is_bool",
    "merge_bit",
    "plan_reads",
    "probe",
    "raw_value",
    "register_bit",
    "register_count",
    "unpack_registers",
    "use_payload_replies",
    "width",
]
