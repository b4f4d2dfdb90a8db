"""Replies to samples: validate a block's reply, decode its points, name exception codes.

Pure functions, so a malformed reply is tested without a socket. A reply
with fewer (or more) registers than asked, or fewer bits, is rejected whole:
decoding a shifted register list would publish wrong values.
"""

from __future__ import annotations

from collections.abc import Sequence

from bms.errors import CodecError
from bms.messages import Sample
from bms.modbus._plan import ReadBlock

#: Modbus exception codes by number, as the specification names them.
EXCEPTION_NAMES: dict[int, str] = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "device failure",
    5: "acknowledge",
    6: "device busy",
    7: "negative acknowledge",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}

#: Codes a gateway sends when the device behind it does not answer.
GATEWAY_CODES = frozenset({10, 11})


class MalformedReply(CodecError):
    """A reply with the wrong number of values, or values out of range (a ProtocolError)."""


def exception_text(code: int) -> str:
    """``exception 2 (illegal data address)``."""
    return f"exception {code} ({EXCEPTION_NAMES.get(code, 'unknown code')})"


def check_reply(block: ReadBlock, values: Sequence[int] | Sequence[bool]) -> list[int] | list[bool]:
    """The reply's ``block.count`` values, or MalformedReply if it is short or malformed.

    Bit replies come padded to whole bytes: the padding is dropped.
    """
    kind = "bits" if block.is_bits else "registers"
    got = len(values)
    if got < block.count or (not block.is_bits and got != block.count) or (block.is_bits and got >= block.count + 8):
        raise MalformedReply(f"malformed reply to {block.describe()}: asked {block.count} {kind}, got {got}")
    if block.is_bits:
        bits = list(values[: block.count])
        if not all(isinstance(v, bool) for v in bits):
            raise MalformedReply(f"malformed reply to {block.describe()}: bits are not booleans")
        return [bool(v) for v in bits]
    registers = list(values)
    kinds = set(map(type, registers))
    if not kinds <= {int}:  # a bool, a float or None among registers: not a register reply
        raise MalformedReply(f"malformed reply to {block.describe()}: a register is outside 0..65535 (got "
                             f"{', '.join(sorted(k.__name__ for k in kinds - {int}))})")
    if registers and not 0 <= min(registers) <= max(registers) <= 0xFFFF:
        raise MalformedReply(f"malformed reply to {block.describe()}: a register is outside 0..65535")
    return registers


def check_payload(block: ReadBlock, payload: bytes, byte_count: int | None = None) -> bytes:
    """A register reply's data bytes, or MalformedReply unless they are exactly ``block.count`` registers.

    ``byte_count`` is what the reply's byte-count field says: it must be
    the number of bytes the reply carries. Registers from bytes are 16-bit
    by construction, so only lengths are checked.
    """
    if byte_count is not None and byte_count != len(payload):
        raise MalformedReply(f"malformed reply to {block.describe()}: byte count says {byte_count}, "
                             f"the reply carries {len(payload)} bytes")
    if len(payload) != 2 * block.count:
        got = f"{len(payload) // 2}" if len(payload) % 2 == 0 else f"{len(payload)} bytes"
        raise MalformedReply(f"malformed reply to {block.describe()}: asked {block.count} registers, got {got}")
    return payload


def fault_block(block: ReadBlock, reason: str, ts: float) -> list[Sample]:
    """A faulted Sample (no value) for each point of ``block``."""
    return [Sample(p.point_id, None, ts, fault=reason) for p in block.points]
