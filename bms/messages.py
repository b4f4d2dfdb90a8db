"""Every message the platform exchanges, as frozen msgspec Structs.

The same Structs are the wire format of the HTTP API, MQTT payloads and
exports: one schema, no drift. Each Struct is tagged with its class name
(``{"type": "ValueChanged", ...}``) so a stream of mixed messages decodes
into the right classes through :data:`Event` or :func:`decode`.

Groups:

* values   -- Sample, Readings, SampleBatch (bridge -> point store), PointValue,
  ValueChanged, StatusChanged
* model    -- EntityCreated, EntityUpdated, EntityDeleted
* devices  -- DeviceDiscovered, DeviceDown, DeviceRecovered, DeviceAnswering, DeviceAccepted,
  DeviceRemoved, DiscoveryProgress, DiscoveryScanComplete, DeviceMonitorCycle, ObjectListChanged,
  DeviceEvent (a BACnet device's own alarm or event)
* automation -- ScheduleWritten, FddFaultRaised, FddFaultCleared (the alarm
  engine's messages are its own: :mod:`bms.alarms`)
* supervision -- ActorFailed, ActorRestarted, HealthChanged
* time     -- Tick
* commands -- WritePoint, RelinquishPoint, DeviceWrite, WriteResult, AcknowledgeDeviceAlarm,
  DeviceAckResult
* queries  -- Ping, GetPoint, ListPoints, GetPriorityArray, QueryHistory,
  GetNode, ListNodes, ListDevices, GetDevice, DiscoverDevices,
  AcceptDevice, IgnoreDevice, RemoveDevice
* replies  -- PointState, PriorityArrayView, WriteAccepted, DeviceRecord
  (plain Structs, not tagged: they are answers, not messages)
"""

from __future__ import annotations

import itertools
from typing import Any, Union

import msgspec

from bms.model._node import Node

Value = Union[float, int, bool, str, None]
"""A point value: number, boolean, text (multi-state name) or no value."""

#: Point status flags, in the order they are shown.
#: ``mismatch``: a commanded device point whose device reports something else after the settling time.
STATUS_FLAGS: tuple[str, ...] = ("alarm", "fault", "stale", "overridden", "down", "disabled", "mismatch")


class Message(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag=True):
    """Base of every message: immutable, strict, tagged by class name."""


# --------------------------------------------------------------------- values


class Sample(msgspec.Struct, frozen=True, forbid_unknown_fields=True, array_like=False, gc=False):
    """One raw reading of a point by a bridge. ``fault`` names why it failed.

    ``device_flags`` are the device's own status flags of the point, read
    with it (BACnet's in-alarm, fault, overridden, out-of-service): the
    device's word, kept apart from the point's own flags (our ``alarm`` and
    ``overridden`` are not the device's).

    ``gc=False`` (here and on PointValue): bridges make hundreds of thousands
    a second and their fields (text, numbers) can hold no reference cycle, so
    the garbage collector need not track them (measured: 15% of a poll).
    """

    point_id: str
    value: Value
    ts: float
    fault: str | None = None
    device_flags: tuple[str, ...] = ()


class Readings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """Good readings of several points taken at one time, as columns: a register block's points.

    A Modbus poll of 10,000 points makes 140 of these rather than 10,000
    Samples: building a Sample per point was half of a block's decoding
    (measured: 13 against 6.5 us for an 83-point block), and the point
    store reads the columns without them. A reading that failed is a
    Sample with its fault, never here.

    ``device_flags``, when given, is a column of the device's own status
    flags of each point (BACnet's in-alarm, fault, overridden,
    out-of-service, read with the values; see :attr:`Sample.device_flags`);
    ``None`` (Modbus registers) says the device has none, and the point
    store leaves them untouched at no cost.
    """

    point_ids: tuple[str, ...]
    values: tuple[Value, ...]
    ts: float
    device_flags: tuple[tuple[str, ...], ...] | None = None


class SampleBatch(Message, frozen=True):
    """One poll cycle (or COV burst) of a bridge: many samples, one message.

    ``readings`` holds good values in columns (see :class:`Readings`);
    ``samples`` the rest. :meth:`all_samples` gives every one as a Sample.
    """

    source: str
    samples: tuple[Sample, ...] = ()
    readings: tuple[Readings, ...] = ()

    @property
    def size(self) -> int:
        """How many point readings the batch holds."""
        return len(self.samples) + sum(len(r.point_ids) for r in self.readings)

    def all_samples(self) -> list[Sample]:
        """Every reading as a Sample: the columns first, then the samples."""
        out = [Sample(pid, value, r.ts, device_flags=flags) for r in self.readings
               for pid, value, flags in zip(r.point_ids, r.values, r.device_flags or itertools.repeat(()), strict=False)]
        out += self.samples
        return out


class PointValue(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """The current value of a point with its status flags."""

    point_id: str
    value: Value
    ts: float
    flags: tuple[str, ...] = ()


class ValueChanged(Message, frozen=True):
    """A batch of point values that changed beyond their COV increment."""

    values: tuple[PointValue, ...]
    source: str = ""


class StatusChanged(Message, frozen=True):
    """A point's status flags changed (fault, stale, overridden, down...), or its device's flags did.

    ``device_flags`` are the device's own flags of the point as they are now (see :class:`Sample`).
    """

    point_id: str
    flags: tuple[str, ...]
    ts: float
    reason: str = ""
    device_flags: tuple[str, ...] = ()


# ---------------------------------------------------------------------- model


class EntityCreated(Message, frozen=True):
    """A node joined the model: the node itself, so that no subscriber asks for it."""

    node: Node
    ts: float

    @property
    def node_id(self) -> str:
        return self.node.id

    @property
    def node_type(self) -> str:
        return self.node.type

    @property
    def parent(self) -> str | None:
        return self.node.parent


class EntityUpdated(Message, frozen=True):
    """A node changed: the node as it is now, and the names of the fields that changed."""

    node: Node
    ts: float
    fields: tuple[str, ...] = ()

    @property
    def node_id(self) -> str:
        return self.node.id


class EntityDeleted(Message, frozen=True):
    node_id: str
    ts: float


# -------------------------------------------------------------------- devices


class DeviceDiscovered(Message, frozen=True):
    protocol: str
    device_id: str
    address: str
    ts: float
    name: str = ""
    vendor: str = ""


class DeviceDown(Message, frozen=True):
    protocol: str
    device_id: str
    ts: float
    reason: str = ""


class DeviceRecovered(Message, frozen=True):
    protocol: str
    device_id: str
    ts: float
    down_for: float = 0.0


#: Why a bridge says a device answers again (:class:`DeviceAnswering`).
ANSWERING_REASONS: tuple[str, ...] = ("first answer", "after a gap", "restarted")


class DeviceAnswering(Message, frozen=True):
    """The device answers after a time it may have lost what it was commanded: its commands are sent again.

    ``reason``: its ``first answer`` since the bridge started (the daemon
    restarted, or the device was added), an answer ``after a gap`` (polls
    failed, too few to call it down), or it ``restarted`` (a BACnet
    device's time-of-device-restart or database revision changed, or its
    system status came back to operational); ``detail`` says what was seen.
    A device that was down and answers again is :class:`DeviceRecovered`.
    """

    protocol: str
    device_id: str
    ts: float
    reason: str
    detail: str = ""


class DeviceAccepted(Message, frozen=True):
    """A discovered device became part of the site: the Equip node and the Point nodes it was given.

    The nodes travel with the event (as the model store holds them), so
    the bridge, the point store and history take the device on without
    asking the model for each point.
    """

    protocol: str
    device_id: str
    equip: Node
    points: tuple[Node, ...]
    ts: float

    @property
    def equip_id(self) -> str:
        return self.equip.id

    @property
    def point_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.points)


class DeviceRemoved(Message, frozen=True):
    """An accepted device left the site: its Equip and Point nodes are gone from the model.

    The bridge stops polling it and the point store drops its points;
    history keeps what was recorded. ``node_ids`` are the removed nodes
    (its points first, the Equip last); ``user`` asked for it.
    """

    protocol: str
    device_id: str
    equip_id: str
    node_ids: tuple[str, ...]
    ts: float
    user: str = ""


class DeviceEvent(Message, frozen=True, kw_only=True):
    """A device reports an event itself (BACnet intrinsic reporting), published by its bridge.

    One per Confirmed- or UnconfirmedEventNotification the bridge receives
    (``source`` ``confirmed`` / ``unconfirmed``), and one per active or
    unacknowledged event read with GetEventInformation when the bridge
    first reaches the device and after it recovers (``source``
    ``event-information``; no ``from_state``, and ``acked`` says whether the
    transition into the current state is acknowledged at the device).
    ``device_time`` is the device's own timestamp of the transition, as
    lossless text (``2026-12-03T13:50:01.25``, ``T13:50:01.25`` or ``#12``):
    an :class:`AcknowledgeDeviceAlarm` carries it back; ``device_ts`` is the
    same in epoch seconds when it is a date and time. ``point_id`` is the
    point bound to the object ("" when none is); ``ts`` is when we received it.
    """

    protocol: str = "bacnet"
    device_id: str
    object_id: str  # "analog-input,2"
    point_id: str = ""
    event_type: str = ""  # out-of-range, change-of-state, change-of-reliability...
    from_state: str = ""
    to_state: str  # normal, high-limit, low-limit, offnormal, fault...
    event_state: str  # the object's event state now
    priority: int = 0  # BACnet 0 (most urgent) ..255
    notification_class: int = 0
    message: str = ""
    ack_required: bool = False
    acked: bool = False
    notify_type: str = "alarm"  # alarm | event | ack-notification
    device_time: str = ""
    device_ts: float | None = None
    ts: float
    source: str = "unconfirmed"  # confirmed | unconfirmed | event-information


class DiscoveryProgress(Message, frozen=True):
    """A discovery scan under way: the step one of its tasks reached, and what the scan found so far.

    ``task`` is ``"who-is"`` or ``"device <instance>"`` (``done`` of
    ``total``: its device object, then each of its objects); ``devices``
    counts the devices that answered the Who-Is, ``objects`` the objects
    read on them so far. ``scan`` names the scan (the caller's id, see
    :class:`DiscoverDevices`), so a client follows its own.
    """

    scan: str
    network: str
    task: str
    done: int
    total: int
    ts: float
    devices: int = 0
    objects: int = 0


class DiscoveryScanComplete(Message, frozen=True):
    """A discovery scan ended: ``found`` devices, or ``error`` saying why it failed or was cut short."""

    protocol: str
    found: int
    duration: float
    ts: float
    network: str = ""
    scan: str = ""
    error: str = ""


class DeviceMonitorCycle(Message, frozen=True):
    protocol: str
    network: str
    online: int
    offline: int
    ts: float


class ObjectListChanged(Message, frozen=True):
    device_id: str
    ts: float
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


# ----------------------------------------------------------------- automation





class ScheduleWritten(Message, frozen=True):
    schedule_id: str
    point_id: str
    value: Value
    priority: int
    ts: float


class FddFaultRaised(Message, frozen=True):
    rule_id: str
    equip_id: str
    text: str
    ts: float


class FddFaultCleared(Message, frozen=True):
    rule_id: str
    equip_id: str
    ts: float


# ---------------------------------------------------------------- supervision


class ActorFailed(Message, frozen=True):
    component: str
    message_type: str
    error: str
    restarts: int
    ts: float


class ActorRestarted(Message, frozen=True):
    component: str
    restarts: int
    delay: float
    ts: float


class HealthChanged(Message, frozen=True):
    component: str
    state: str
    ts: float
    reason: str = ""


# ----------------------------------------------------------------------- time


class Tick(Message, frozen=True):
    """Sent by the ticker to an actor at its interval."""

    timer: str
    due: float
    now: float


# ------------------------------------------------------------------- commands


class WritePoint(Message, frozen=True):
    """Command a point at a priority (1 highest .. 16 lowest).

    ``value`` None relinquishes that level; ``duration`` (seconds) makes the
    write a timed override that expires by itself.
    """

    point_id: str
    value: Value
    priority: int = 8
    duration: float | None = None
    user: str = ""
    request_id: str = ""  # minted by the caller (API, CLI, engine); it names the DeviceWrite and WriteResult


class RelinquishPoint(Message, frozen=True):
    point_id: str
    priority: int = 8
    user: str = ""
    request_id: str = ""


class DeviceWrite(Message, frozen=True):
    """Point store -> bridge: write the effective value (None relinquishes)."""

    point_id: str
    value: Value
    priority: int
    request_id: str = ""  # the command's own id (or one the point store mints: expiry, re-assert)


class WriteResult(Message, frozen=True):
    """Bridge -> point store: outcome of a DeviceWrite."""

    point_id: str
    ok: bool
    request_id: str = ""
    error: str = ""
    readback: Value = None



class AcknowledgeDeviceAlarm(Message, frozen=True, kw_only=True):
    """Alarm engine -> bridge: acknowledge a device's event at the device (BACnet AcknowledgeAlarm).

    Names the device and object (or only the point bound to the object),
    the event's ``to_state`` and its ``device_time`` as the
    :class:`DeviceEvent` gave them. The bridge answers every one with a
    :class:`DeviceAckResult` carrying ``request_id``.
    """

    device_id: str = ""
    object_id: str = ""
    point_id: str = ""
    to_state: str
    device_time: str
    user: str = ""
    request_id: str = ""


class DeviceAckResult(Message, frozen=True, kw_only=True):
    """Bridge -> alarm engine: outcome of an AcknowledgeDeviceAlarm (``error``: the device's reason)."""

    device_id: str
    object_id: str
    point_id: str = ""
    ok: bool
    request_id: str = ""
    error: str = ""


# -------------------------------------------------------------------- queries


class Ping(Message, frozen=True):
    """Ask an actor whether it is up; it answers with its name."""


class GetPoint(Message, frozen=True):
    point_id: str


class GetPriorityArray(Message, frozen=True):
    point_id: str


DEVICE_READ_TIMEOUT = 7.0
"""Seconds a caller gives a bridge to read a device for it: more than a BACnet network's default
deadline (3 s timeout, one retry), less than the API's wait and the CLI's."""


class ReadDevicePriority(Message, frozen=True):
    """Ask a bridge for the priority array the *device* holds for a point (BACnet commandable objects).

    ``timeout`` is how long the caller waits: the bridge answers within it,
    with a :class:`~bms.errors.DeviceTimeout` when the device is silent (its
    client gives up a little earlier still).
    """

    point_id: str
    timeout: float = DEVICE_READ_TIMEOUT


class DevicePriority(Message, frozen=True):
    """A bridge's answer: the device's 16 levels (``None`` each when relinquished), or ``levels`` None
    when the point is not the bridge's or has no priority array on the device."""

    point_id: str
    levels: tuple[Value, ...] | None = None
    error: str = ""


class QueryHistory(Message, frozen=True):
    point_id: str
    start: float
    end: float
    rollup: str | None = None
    limit: int | None = None


class ListPoints(Message, frozen=True):
    """Points under a node and/or carrying all the tags; ``pattern`` is a glob on ids."""

    under: str | None = None
    tags: tuple[str, ...] = ()
    pattern: str | None = None


class GetNode(Message, frozen=True):
    node_id: str


class ListNodes(Message, frozen=True):
    under: str | None = None
    tags: tuple[str, ...] = ()
    node_type: str | None = None


class ListDevices(Message, frozen=True):
    protocol: str | None = None


class GetDevice(Message, frozen=True):
    device_id: str


class DiscoverDevices(Message, frozen=True):
    """Scan a network; ``scan`` names it in its :class:`DiscoveryProgress` events (made up when empty).

    Modbus: ``network`` is ``HOST:PORT`` and ``units`` the unit ids to probe
    (else ``low``..``high``, else 1..10); ``timeout`` is per unit.
    """

    protocol: str = "bacnet"
    low: int | None = None
    high: int | None = None
    timeout: float = 3.0
    network: str | None = None
    scan: str = ""
    units: tuple[int, ...] = ()


class AcceptDevice(Message, frozen=True):
    device_id: str
    profile: str | None = None
    equip_id: str | None = None


class IgnoreDevice(Message, frozen=True):
    device_id: str


class RemoveDevice(Message, frozen=True):
    """Take an accepted device out of the site (its nodes, bindings and polling); ``user`` asks."""

    device_id: str
    user: str = ""


# -------------------------------------------------------------------- replies


class PointState(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A point as an operator sees it: value, status, and what commands it."""

    point_id: str
    name: str
    value: Value
    ts: float | None
    flags: tuple[str, ...] = ()
    device_flags: tuple[str, ...] = ()  # the device's own status flags (BACnet: in-alarm, fault, ...)
    unit: str = ""
    kind: str = "number"
    writable: bool = False
    active_priority: int | None = None
    device: str = ""
    reason: str = ""


class PriorityArrayView(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The 16 levels (index 0 = priority 1), their expiry, and the result."""

    point_id: str
    levels: tuple[Value, ...]
    expires: tuple[float | None, ...]
    users: tuple[str, ...]
    effective: Value
    active_priority: int | None
    relinquish_default: Value
    device_levels: tuple[Value, ...] | None = None  # read back from a BACnet device
    device_error: str = ""  # why the device's levels could not be read (no answer in time)


class WriteAccepted(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A command taken into the priority array.

    ``request_id`` names the DeviceWrite it sent when the effective value of
    a device point moved (None otherwise); ``device`` is the device's answer
    (written and read back, or why not) when the writer waited for it.
    ``level_was_empty`` is True for a release of a level that held nothing
    (nothing changed).
    """

    point_id: str
    effective: Value
    active_priority: int | None
    priority: int
    expires_at: float | None = None
    request_id: str | None = None
    device: WriteResult | None = None
    level_was_empty: bool = False


class DeviceRecord(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A device known to the site or found by discovery."""

    device_id: str
    protocol: str
    address: str
    name: str = ""
    vendor: str = ""
    model: str = ""
    state: str = "Configured"  # Discovered | Accepted | Ignored | Configured
    online: bool | None = None
    last_seen: float | None = None
    points: int = 0
    objects: int = 0
    reason: str = ""
    unit_id: int | None = None  # Modbus: the unit id at ``address``
    registers: tuple[str, ...] = ()  # Modbus probe: the probe registers that answered ("holding 0")
    identification: str = ""  # Modbus probe: FC43 vendor, product, revision, or "no identification"


Event = Union[
    SampleBatch,
    ValueChanged,
    StatusChanged,
    EntityCreated,
    EntityUpdated,
    EntityDeleted,
    DeviceDiscovered,
    DeviceDown,
    DeviceRecovered,
    DeviceAnswering,
    DeviceAccepted,
    DeviceRemoved,
    DiscoveryProgress,
    DiscoveryScanComplete,
    DeviceMonitorCycle,
    ObjectListChanged,
    DeviceEvent,
    DevicePriority,
    ScheduleWritten,
    FddFaultRaised,
    FddFaultCleared,
    ActorFailed,
    ActorRestarted,
    HealthChanged,
    Tick,
]
"""Every event; decode a tagged JSON event with ``decode(data)``."""

Command = Union[WritePoint, RelinquishPoint, DeviceWrite, WriteResult, AcknowledgeDeviceAlarm, DeviceAckResult]
Query = Union[
    Ping,
    GetPoint,
    GetPriorityArray,
    ReadDevicePriority,
    QueryHistory,
    ListPoints,
    GetNode,
    ListNodes,
    ListDevices,
    GetDevice,
    DiscoverDevices,
    AcceptDevice,
    IgnoreDevice,
    RemoveDevice,
]
AnyMessage = Union[Event, Command, Query]

_decoder = msgspec.json.Decoder(AnyMessage)
_encoder = msgspec.json.Encoder()


def encode(message: Message) -> bytes:
    """Encode a message as tagged JSON."""
    return _encoder.encode(message)


def decode(data: bytes | str) -> Any:
    """Decode tagged JSON into the right message class."""
    return _decoder.decode(data)


def all_message_types() -> list[type[Message]]:
    """Every message class defined here (for tests and the API schema)."""
    found: list[type[Message]] = []
    stack: list[type[Message]] = [Message]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            found.append(sub)
            stack.append(sub)
    return sorted((c for c in set(found) if c.__module__ == __name__), key=lambda c: c.__name__)
