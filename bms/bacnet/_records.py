"""What the BACnet client reports: I-Am, device and object information, readings.

Records are frozen msgspec Structs, so they cross threads and go on the wire
as they are. :class:`DeviceState` is the client's mutable knowledge of one
device (does it take ReadPropertyMultiple, how big a request worked); it
lives on the client's event loop only.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from bms.errors import DeviceRejected
from bms.messages import Sample, Value


class _Record(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class IAmInfo(_Record, frozen=True):
    """One I-Am answer to a Who-Is."""

    instance: int
    address: str  # "127.0.0.2:47808"
    max_apdu: int
    segmentation: str  # segmented-both | segmented-transmit | segmented-receive | no-segmentation
    vendor_id: int


class DeviceInfo(_Record, frozen=True):
    """The device object of one device, with its object list."""

    instance: int
    address: str
    name: str
    vendor: str = ""
    vendor_id: int | None = None
    model: str = ""
    firmware: str = ""
    description: str = ""
    max_apdu: int = 1476
    segmentation: str = "no-segmentation"
    object_list: tuple[str, ...] = ()


class DeviceStatus(_Record, frozen=True):
    """What tells that a device restarted: its system status, database revision and time of restart.

    Each is ``None`` when the device does not have the property (or would
    not say). ``restarted_at`` is the device's time-of-device-restart as
    text: it is compared, never interpreted (a device clock may be wrong).
    """

    system_status: str | None = None  # operational | operational-read-only | download-required | ...
    database_revision: int | None = None
    restarted_at: str | None = None
    restart_reason: str | None = None  # coldstart | warmstart | detected-power-lost | ...


def restart_evidence(before: DeviceStatus | None, after: DeviceStatus) -> str:
    """Why ``after`` says the device restarted since ``before`` ("" when nothing does).

    A new time-of-device-restart, a new database revision (a restore or a
    new configuration: what the device holds may have been replaced), or a
    system status back to operational from anything else.
    """
    if before is None:
        return ""
    if before.restarted_at is not None and after.restarted_at is not None and before.restarted_at != after.restarted_at:
        reason = f" ({after.restart_reason})" if after.restart_reason else ""
        return f"time-of-device-restart {before.restarted_at} -> {after.restarted_at}{reason}"
    if (before.database_revision is not None and after.database_revision is not None
            and before.database_revision != after.database_revision):
        return f"database-revision {before.database_revision} -> {after.database_revision}"
    if (before.system_status is not None and after.system_status is not None
            and not before.system_status.startswith("operational") and after.system_status.startswith("operational")):
        return f"system-status {before.system_status} -> {after.system_status}"
    return ""


class ObjectInfo(_Record, frozen=True):
    """What discovery learns of one object: name, units, whether it is commandable."""

    objid: str  # "analog-input,1"
    name: str
    description: str = ""
    units: int | None = None  # BACnet engineering-units code (analog objects)
    unit: str = ""  # its symbol, "°C"
    commandable: bool = False
    value: Value = None  # present value when read, if any
    kind: str = "text"  # number | bool | enum | text
    states: tuple[str, ...] = ()  # multi-state texts; binary: (inactive, active)
    error: str | None = None  # why the object could not be read, if it could not
    unreadable: tuple[str, ...] = ()  # "property: reason" of each property the device answered wrongly


class Reading(_Record, frozen=True):
    """A sample with the object's status flags (in-alarm, fault, overridden, out-of-service)."""

    sample: Sample
    flags: tuple[str, ...] = ()


class CovNotification(_Record, frozen=True):
    """One COV notification: the object's present value and status flags."""

    address: str
    objid: str
    value: Value
    flags: tuple[str, ...]
    ts: float
    time_remaining: int = 0  # seconds left on the subscription, as the device says


@dataclass
class DeviceState:
    """What the client has learnt about one device while talking to it."""

    address: str
    rpm: bool | None = None  # None: not tried yet; False: the device refused it
    max_refs: int | None = None  # property references per RPM known to fit
    max_apdu: int | None = None
    segmentation: str | None = None
    rpm_requests: int = 0
    rp_requests: int = 0


class BacnetRejected(DeviceRejected):
    """The device answered with an Error, Reject or Abort.

    ``kind`` is ``error``, ``reject`` or ``abort``; ``error_class`` is the
    BACnet error class (``object``, ``property``, ``services``...) for errors
    and empty otherwise; ``error_code`` is the error code or the reject/abort
    reason (``unknown-object``, ``write-access-denied``,
    ``unrecognized-service``, ``segmentation-not-supported``...).
    """

    def __init__(self, message: str, kind: str, error_class: str, error_code: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.error_class = error_class
        self.error_code = error_code
