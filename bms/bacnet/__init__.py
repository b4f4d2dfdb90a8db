"""BACnet/IP for bms: units, object ids, an async client, discovery and its store.

::

    async with BacnetClient(BacnetNetwork(address="127.0.0.1/8:47809")) as client:
        found = await discover(client, timeout=2, progress=bar.update)   # Who-Is, devices, objects
        DiscoveryStore(data_dir / "discovery.db").save_many(found)
        samples = await client.read_points("127.0.0.2", [("ahu1/sat", "analog-input,2", "present-value")])
        await client.write("127.0.0.2", "analog-output,1", 55.0, priority=8)
        sub = await client.subscribe_cov("127.0.0.2", "analog-input,2", callback=on_change)

Errors: :class:`~bms.errors.DeviceTimeout` when a device does not answer,
:class:`BacnetRejected` (a :class:`~bms.errors.DeviceRejected`) carrying the
BACnet error class and code when it refuses; per-point read errors are
``Sample.fault`` texts, never exceptions. Nothing from bacpypes3 escapes.

Where things are:

===============  ===============================================================
_units           engineering units: code <-> name <-> symbol
_objects         object ids (``"analog-input,1"``), object types, property names
_client          BacnetClient: lifecycle, Who-Is, ReadProperty, writes, COV
_reads           batched reads: points (+ status flags), device and object info
_batch           RPM sized to the device, halved when too big, RP fallback
_wire            ReadProperty / ReadPropertyMultiple through bacpypes3
_codec           bacpypes3 values and Error/Reject/Abort <-> bms values and errors
_cov             CovSubscription: renewal before expiry, delivery, cancel
_events          event notifications in, GetEventInformation, AcknowledgeAlarm, joining recipient lists
_intrinsic       the device side of alarms: a limit-reporting input, Notification Class, the event services
_discovery       discover(): Who-Is, then every device and object, with progress
_accept          a discovered device as Equip and Point nodes; device records; pending accepts
_commissioning   Commissioning: records, accept and ignore decisions (devices service and CLI)
_store           DiscoveryStore (discovery.db): devices, objects, state, changes
_local           points served as bacpypes3 local objects (the simulator's); who may write what
_server          DeviceApplication: the device side as ASHRAE 135 asks, where bacpypes3 differs
_stack           bacpypes3 application plumbing: an exclusive bind, close, vendor id
===============  ===============================================================
"""

from bms.bacnet._batch import ReadFailure, refs_per_request
from bms.bacnet._client import DEFAULT_INSTANCE, BacnetClient
from bms.bacnet._commissioning import Commissioning
from bms.bacnet._cov import CovSubscription, renew_after
from bms.bacnet._discovery import DiscoveredDevice, discover
from bms.bacnet._events import (
    EVENT_STATES,
    TRANSITIONS,
    EventNotice,
    EventSummary,
    parse_stamp,
    stamp_epoch,
    stamp_text,
    transition_index,
)
from bms.bacnet._intrinsic import (
    LimitReporting,
    ReportingAnalogInput,
    ServedNotificationClass,
    notification_class,
    recipient_address,
    reporting_properties,
)
from bms.bacnet._local import (
    ServedDevice,
    ServedNetworkPort,
    from_local,
    is_commandable_object,
    local_object,
    priority_levels,
    to_local,
)
from bms.bacnet._objects import (
    ALWAYS_COMMANDABLE,
    ANALOG_TYPES,
    BINARY_TYPES,
    MAYBE_COMMANDABLE,
    MULTISTATE_TYPES,
    OBJECT_TYPES,
    POINT_TYPES,
    STATUS_FLAG_NAMES,
    ObjectId,
    format_object_id,
    is_commandable_type,
    may_be_commandable,
    object_type_name,
    parse_object_id,
    point_kind,
    property_name,
    split_property,
)
from bms.bacnet._reads import STATUS_FAULT, PolledValues
from bms.bacnet._records import (
    BacnetRejected,
    CovNotification,
    DeviceInfo,
    DeviceState,
    DeviceStatus,
    IAmInfo,
    ObjectInfo,
    Reading,
    restart_evidence,
)
from bms.bacnet._server import WILDCARD_DEVICE, DeviceApplication
from bms.bacnet._stack import VENDOR_ID, await_bound, claim_address, close_application
from bms.bacnet._store import DeviceChanges, DiscoveryStore, StoredDevice, StoredObject
from bms.bacnet._units import NO_UNITS, UNITS, unit_code, unit_name, unit_symbol
from bms.bacnet._wire import format_address

__all__ = [
    "ALWAYS_COMMANDABLE",
    "ANALOG_TYPES",
    "BINARY_TYPES",
    "DEFAULT_INSTANCE",
    "EVENT_STATES",
    "MAYBE_COMMANDABLE",
    "MULTISTATE_TYPES",
    "NO_UNITS",
    "OBJECT_TYPES",
    "POINT_TYPES",
    "STATUS_FAULT",
    "STATUS_FLAG_NAMES",
    "TRANSITIONS",
    "UNITS",
    "VENDOR_ID",
    "WILDCARD_DEVICE",
    "BacnetClient",
    "BacnetRejected",
    "Commissioning",
    "CovNotification",
    "CovSubscription",
    "DeviceApplication",
    "DeviceChanges",
    "DeviceInfo",
    "DeviceState",
    "DeviceStatus",
    "DiscoveredDevice",
    "DiscoveryStore",
    "EventNotice",
    "EventSummary",
    "IAmInfo",
    "LimitReporting",
    "ObjectId",
    "ObjectInfo",
    "PolledValues",
    "ReadFailure",
    "Reading",
    "ReportingAnalogInput",
    "ServedDevice",
    "ServedNetworkPort",
    "ServedNotificationClass",
    "StoredDevice",
    "StoredObject",
    "await_bound",
    "claim_address",
    "close_application",
    "discover",
    "format_address",
    "format_object_id",
    "from_local",
    "is_commandable_object",
    "is_commandable_type",
    "local_object",
    "may_be_commandable",
    "notification_class",
    "object_type_name",
    "parse_object_id",
    "parse_stamp",
    "point_kind",
    "priority_levels",
    "property_name",
    "recipient_address",
    "refs_per_request",
    "renew_after",
    "reporting_properties",
    "restart_evidence",
    "split_property",
    "stamp_epoch",
    "stamp_text",
    "to_local",
    "transition_index",
    "unit_code",
    "unit_name",
    "unit_symbol",
]
