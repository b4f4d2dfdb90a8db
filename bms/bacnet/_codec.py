"""bacpypes3 values and outcomes to bms values and errors, and back.

Everything that knows bacpypes3's primitive types lives here: reading a
value gives a plain :data:`~bms.messages.Value`; an Error, Reject or Abort
becomes a :class:`BacnetRejected` (or :class:`DeviceTimeout` for an abort
meaning nobody answered); a value to write becomes the right primitive.
"""

from __future__ import annotations

import re
import struct
from typing import Any

from bacpypes3.apdu import AbortPDU, ErrorRejectAbortNack, RejectPDU
from bacpypes3.basetypes import BinaryPV, PriorityValue
from bacpypes3.errors import ExecutionError
from bacpypes3.primitivedata import (
    Boolean,
    CharacterString,
    Double,
    Enumerated,
    Null,
    ObjectIdentifier,
    Real,
    Unsigned,
)

from bms.bacnet._objects import ANALOG_TYPES, BINARY_TYPES, MULTISTATE_TYPES, STATUS_FLAG_NAMES
from bms.bacnet._records import BacnetRejected
from bms.errors import DeviceTimeout, ProtocolError, WriteRefused
from bms.messages import Value

_TIMEOUT_REASONS = frozenset({"no-response", "tsm-timeout", "application-exceeded-reply-time"})
_TOO_BIG_REASONS = frozenset({"segmentation-not-supported", "apdu-too-long", "buffer-overflow", "out-of-resources"})
_REAL_TYPES = frozenset({"analog-input", "analog-output", "analog-value", "lighting-output"})
_TRUE_TEXT = frozenset({"active", "on", "true", "1", "yes"})
_FALSE_TEXT = frozenset({"inactive", "off", "false", "0", "no"})


def to_value(raw: Any, object_type: str | None = None) -> Value:
    """A bacpypes3 value as a plain Python value (binary objects give bools)."""
    if raw is None or isinstance(raw, Null):
        return None
    if raw is True or raw is False:  # decoded by bms.bacnet._ack (a Boolean, or a binary PV)
        return raw
    if isinstance(raw, PriorityValue):
        choice = raw._choice
        return None if choice in (None, "null") else to_value(getattr(raw, choice), object_type)
    if isinstance(raw, BinaryPV):
        return int(raw) == 1
    if isinstance(raw, Boolean):
        return bool(raw)
    if object_type in BINARY_TYPES and isinstance(raw, int):
        return int(raw) == 1
    if isinstance(raw, Enumerated):
        return str(raw)
    if isinstance(raw, Real) and not isinstance(raw, Double):  # bacpypes3's Double derives from Real
        return single(float(raw))
    if isinstance(raw, float):
        return float(raw)
    if isinstance(raw, int):
        return int(raw)
    if isinstance(raw, str):
        return str(raw)
    if isinstance(raw, ObjectIdentifier):
        return f"{raw[0]},{raw[1]}"
    if isinstance(raw, (bytes, bytearray)):
        return bytes(raw).hex()
    return str(raw)


def single(value: float) -> float:
    """The shortest decimal that is the same single-precision float (a BACnet Real).

    A Real of 33.3 arrives as 33.29999923706055; this gives 33.3 back.
    """
    try:
        packed = struct.pack(">f", value)
    except OverflowError:
        return value
    if value != value or value in (float("inf"), float("-inf")):
        return value
    for digits in range(6, 10):
        candidate = float(f"{value:.{digits}g}")
        if struct.pack(">f", candidate) == packed:
            return candidate
    return value


def to_flags(raw: Any) -> tuple[str, ...]:
    """Status flags (a bit string) as the names of the bits that are set."""
    if not isinstance(raw, (list, tuple)):  # a BitString, or bits decoded by bms.bacnet._ack
        return ()
    return tuple(name for name, bit in zip(STATUS_FLAG_NAMES, raw, strict=False) if bit)


def to_text(raw: Any) -> str:
    """A character-string property as ``str`` ('' when absent)."""
    return "" if raw is None or isinstance(raw, Null) else str(raw)


def to_bacnet(value: Value, object_type: str, objid: str) -> Any:
    """The primitive to write as ``objid``'s present value; None relinquishes (Null)."""
    if value is None:
        return Null(())
    try:
        if object_type in BINARY_TYPES:
            if isinstance(value, str):
                text = value.strip().lower()
                if text not in _TRUE_TEXT | _FALSE_TEXT:
                    raise ValueError(value)
                return BinaryPV("active" if text in _TRUE_TEXT else "inactive")
            if isinstance(value, float) and value not in (0.0, 1.0):
                raise ValueError(value)
            return BinaryPV("active" if value else "inactive")
        if object_type in MULTISTATE_TYPES:
            if isinstance(value, bool) or int(value) != value or int(value) < 1:
                raise ValueError(value)
            return Unsigned(int(value))
        if object_type in _REAL_TYPES:
            return Real(float(value))
        if object_type in ANALOG_TYPES:
            return int(value) if object_type.endswith("integer-value") else float(value)
        if object_type == "characterstring-value":
            return CharacterString(str(value))
    except (TypeError, ValueError):
        raise WriteRefused(objid, f"{value!r} is not a valid value for a {object_type}") from None
    return value


def describe(err: ErrorRejectAbortNack) -> tuple[str, str, str]:
    """(kind, error class, error code or reason) of an Error, Reject or Abort."""
    if isinstance(err, AbortPDU):
        return "abort", "", str(err.apduAbortRejectReason)
    if isinstance(err, RejectPDU):
        return "reject", "", str(err.apduAbortRejectReason)
    source = getattr(err, "errorType", None) or err
    return "error", str(getattr(source, "errorClass", "") or ""), str(getattr(source, "errorCode", "") or "")


def error_text(error_class: str, error_code: str) -> str:
    """A per-point fault text: the error code, with the class when it says more."""
    if error_class in ("", "object", "property"):
        return error_code or "error"
    return f"{error_class}: {error_code}"


def translate(err: ErrorRejectAbortNack, address: str, what: str) -> ProtocolError:
    """The bms error for a BACnet Error/Reject/Abort answering ``what``."""
    kind, error_class, code = describe(err)
    if kind == "abort" and code in _TIMEOUT_REASONS:
        return DeviceTimeout(f"{address}: no answer to {what}")
    detail = f"{error_class}: {code}" if error_class else f"{kind} {code}"
    return BacnetRejected(f"{address}: {what} refused: {detail}", kind, error_class, code)


def stack_error(err: BaseException) -> str:
    """One line for an exception of bacpypes3 (or below): what it is and what it says.

    ``InvalidTag("unsigned application tag expected")`` gives ``invalid tag:
    unsigned application tag expected``; an exception with no message gives
    its class alone.
    """
    if isinstance(err, ExecutionError):  # the error class and code of a BACnet Error
        return error_text(str(err.errorClass), _hyphens(str(err.errorCode)))
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", type(err).__name__).lower()
    text = str(err).strip()
    if isinstance(err, (ValueError, TypeError, KeyError, IndexError, AttributeError, RuntimeError)) and text:
        return text  # the message says it; its class is a Python generality
    return f"{name}: {text}" if text else name


def _hyphens(name: str) -> str:
    """bacpypes3's ``unknownProperty`` as BACnet writes it: ``unknown-property``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower()


def is_too_big(err: BacnetRejected) -> bool:
    """The request or its answer did not fit: try a smaller one."""
    return err.kind in ("abort", "reject") and err.error_code in _TOO_BIG_REASONS


def is_unsupported(err: BacnetRejected) -> bool:
    """The device does not implement the service at all."""
    if err.kind == "reject":
        return err.error_code == "unrecognized-service"
    return err.kind == "error" and err.error_code in ("service-request-denied", "optional-functionality-not-supported")
